"""Scenario effects as functions of the simulated day.

Effect windows in seeds/scenarios.csv are day offsets from the scenario's origin (the --start-date of its first
batch, kept across continuations); demand_peak applies to a calendar month instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.reference import ScenarioDefinition


@dataclass(frozen=True)
class Breakdown:
    equipment_id: str
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class ScenarioEffects:
    definition: ScenarioDefinition
    origin_day: int

    @property
    def scenario_id(self) -> str:
        return self.definition.scenario_id

    def _in_window(self, day: int) -> bool:
        start, length = self.definition.effect_start_day, self.definition.effect_days
        if start is None or length is None:
            return False
        return self.origin_day + start <= day < self.origin_day + start + length

    def _in_month(self, day: int) -> bool:
        month = self.definition.affected_month
        return month is not None and date_of_day(day).month == month

    def _applies(self, day: int) -> bool:
        has_window = self.definition.effect_start_day is not None
        has_month = self.definition.affected_month is not None
        return (has_window and self._in_window(day)) or (has_month and self._in_month(day))

    def milk_supply_factor(self, day: int) -> float:
        return self.definition.milk_supply_factor if self._applies(day) else 1.0

    def demand_factor(self, day: int) -> float:
        return self.definition.demand_factor if self._applies(day) else 1.0

    def ambient_delta(self, day: int) -> float:
        return self.definition.ambient_delta_degc if self._applies(day) else 0.0

    def breakdown(self) -> Breakdown | None:
        definition = self.definition
        if definition.breakdown_equipment_id is None or definition.effect_start_day is None:
            return None
        start = (self.origin_day + definition.effect_start_day) * MINUTES_PER_DAY + parameters.BREAKDOWN_START_HOUR * 60
        return Breakdown(
            definition.breakdown_equipment_id, start, start + (definition.effect_days or 1) * MINUTES_PER_DAY
        )
