"""`make bench` (`python -m benchmarks`): every benchmark in one run, side by side, figures printed and written to JSON.

`python -m benchmarks NAME...` runs only the named ones (generation, loading, plant_year, reservation, marts).
Absolute times on a shared 2-core machine are noisy; the ratios compare runs made moments apart.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import PLANT_YEAR_ARGS, run_tool
from queijaria import PROJECT_ROOT
from queijaria.db.connection import create_scratch_database, drop_database, resolve

# (figure, target, True when higher is better)
TARGETS: dict[str, tuple[float, bool]] = {
    "loader_vs_dbt_seed_ratio": (300.0, True),
    "loader_vs_copy_ratio": (1.5, False),
    "iot_rows_per_s": (1_000_000.0, True),
    "plant_year_generate_load_s": (60.0, False),
    "reservation_sql_1day_ratio": (0.05, False),
    "reservation_history_growth": (1.25, False),
    "dbt_build_plant_year_5_scenarios_s": (300.0, False),
    "mart_query_max_ms": (200.0, False),
    "mart_incremental_1day_ratio": (0.10, False),
    "daily_flow_vs_full_build_ratio": (0.20, False),
}


def plant_year_generate_load(console: Console) -> dict[str, float]:
    """Wall time of `make generate` (generate + load) for one baseline plant-year, into a scratch database."""
    database = create_scratch_database(resolve(), "queijaria_bench")
    env = {**os.environ, **database.as_env()}
    env.pop("DATABASE_URL", None)
    try:
        with tempfile.TemporaryDirectory(prefix="queijaria_bench_") as scratch:
            data_dir = Path(scratch) / "generated"
            started = time.perf_counter()
            run_tool("queijaria", "generate", *PLANT_YEAR_ARGS, "--quiet", "--out", str(data_dir), env=env)
            generated = time.perf_counter()
            run_tool("queijaria", "load", "--out", str(data_dir), env=env)
            loaded = time.perf_counter()
    finally:
        drop_database(database)
    figures = {
        "plant_year_generate_s": generated - started,
        "plant_year_load_s": loaded - generated,
        "plant_year_generate_load_s": loaded - started,
    }
    console.print(
        f"plant-year baseline: generate {figures['plant_year_generate_s']:.1f} s + load "
        f"{figures['plant_year_load_s']:.1f} s = {figures['plant_year_generate_load_s']:.1f} s"
    )
    return figures


def print_verdicts(console: Console, figures: dict[str, float]) -> None:
    table = Table(title="Benchmark targets")
    for column in ("figure", "value", "target", "met"):
        table.add_column(column)
    for name, (target, higher_is_better) in TARGETS.items():
        if name not in figures:
            table.add_row(name, "not measured", "", "")
            continue
        value = figures[name]
        met = value >= target if higher_is_better else value <= target
        table.add_row(name, f"{value:,.3f}", f"{'≥' if higher_is_better else '≤'} {target:,}", "yes" if met else "NO")
    console.print(table)


def _benchmarks() -> dict[str, tuple[str, Callable[[Console], dict[str, float]]]]:
    """name -> (title, run): every benchmark, in the order `make bench` runs them."""
    from benchmarks import generation, loading, marts, reservation

    return {
        "generation": ("generator throughput", generation.run),
        "loading": ("loader vs dbt seed vs bare COPY (100,000 IoT readings)", loading.run),
        "plant_year": ("one plant-year of the baseline: generate + load", plant_year_generate_load),
        "reservation": ("stock reservation: one more day, full refresh, history growth", reservation.run),
        "marts": ("marts: dbt build of a plant-year of five scenarios, dashboard queries, one more day", marts.run),
    }


def bench(names: Sequence[str] = ()) -> None:
    """Run the named benchmarks (all when none) and write BENCH_OUT (target/bench.json)."""
    benchmarks = _benchmarks()
    unknown = [name for name in names if name not in benchmarks]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}: choose among {', '.join(benchmarks)}")
    console = Console()
    out_path = Path(os.environ.get("BENCH_OUT") or PROJECT_ROOT / "target" / "bench.json")
    figures: dict[str, float] = {}
    for name in names or benchmarks:
        title, run = benchmarks[name]
        console.rule(title)
        figures |= run(console)
    print_verdicts(console, figures)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    console.print(f"figures written to {out_path}")
