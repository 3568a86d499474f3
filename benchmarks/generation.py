"""Generator throughput on one baseline plant-year at the default IoT interval (1 minute), into a temp dir."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from rich.console import Console

from generators import energy, iot
from generators.batch_spec import BatchSpec
from generators.clock import day_number
from generators.engine import simulate_batch
from generators.reference import load_reference
from generators.scenarios import ScenarioEffects
from generators.weather import daily_weather

SEED = 42
DAYS = 365
FIRST_DAY = day_number(dt.date(2025, 1, 1))


def run(console: Console) -> dict[str, float]:
    reference = load_reference()
    effects = ScenarioEffects(reference.scenarios["baseline"])
    weather = daily_weather(SEED, effects, FIRST_DAY, FIRST_DAY + DAYS - 1)
    with tempfile.TemporaryDirectory(prefix="queijaria_bench_gen_") as folder:
        root = Path(folder)
        started = time.perf_counter()
        with (root / "iot.csv").open("wb") as handle:
            iot_rows, _ = iot.simulate_and_write(handle, SEED, "baseline", reference, FIRST_DAY, DAYS, 1, weather, [])
        iot_s = time.perf_counter() - started

        started = time.perf_counter()
        with (root / "energy.csv").open("wb") as handle:
            energy_rows = energy.simulate_and_write(handle, SEED, "baseline", reference, FIRST_DAY, DAYS, [], weather)
        energy_s = time.perf_counter() - started

        marks: dict[str, float] = {}
        started = time.perf_counter()
        spec = BatchSpec("baseline", SEED, FIRST_DAY, DAYS, 1.0, 1, root / "batches")
        manifest = simulate_batch(
            reference, spec, None, lambda label, done, total: marks.__setitem__(label, time.perf_counter())
        )
        total_s = time.perf_counter() - started
    rows = {name: int(entry["rows"]) for name, entry in manifest["datasets"].items()}  # type: ignore[union-attr]
    simulation_s = marks["plant simulation (days)"] - started
    event_rows = sum(count for name, count in rows.items() if name not in ("iot_readings", "energy_readings"))
    figures = {
        "iot_rows_per_s": iot_rows / iot_s,
        "energy_rows_per_s": energy_rows / energy_s,
        "plant_simulation_s": simulation_s,
        "event_rows_per_s": event_rows / max(total_s - iot_s - energy_s, 1e-9),
        "plant_year_generation_s": total_s,
        "plant_year_rows": float(sum(rows.values())),
    }
    console.print(
        f"generation: IoT {figures['iot_rows_per_s'] / 1e6:.2f} M rows/s (CSV included), energy "
        f"{figures['energy_rows_per_s'] / 1e6:.2f} M rows/s; plant-year baseline {total_s:.1f} s "
        f"(simulation {simulation_s:.1f} s) for {sum(rows.values()):,} rows"
    )
    return figures
