"""Which batch to simulate: a scenario, a seed, its days, its volume and IoT interval, and where it goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generators.clock import date_of_day


@dataclass(frozen=True)
class BatchSpec:
    scenario_id: str
    seed: int
    first_day: int
    days: int
    scale: float
    iot_interval_min: int
    out_root: Path

    @property
    def last_day(self) -> int:
        return self.first_day + self.days - 1

    @property
    def batch_name(self) -> str:
        return f"{date_of_day(self.first_day).isoformat()}_{date_of_day(self.last_day).isoformat()}"

    @property
    def folder(self) -> Path:
        return self.out_root / self.scenario_id / self.batch_name
