"""`make bench` (`python -m benchmarks`): every benchmark in one run, side by side, figures printed and written to JSON.

Absolute times on a shared 2-core machine are noisy; the ratios compare runs made moments apart.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
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
    "reservation_incremental_ratio": (0.05, False),
}


def plant_year_generate_load(console: Console, data_dir: Path) -> dict[str, float]:
    """Wall time of `make generate` (generate + load) for one baseline plant-year, into a scratch database."""
    database = create_scratch_database(resolve(), "queijaria_bench")
    env = {**os.environ, **database.as_env()}
    env.pop("DATABASE_URL", None)
    try:
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


def bench() -> None:
    """Run every benchmark (generator, loader, plant-year, reservation) and write BENCH_OUT (target/bench.json)."""
    from benchmarks import generation, loading, reservation

    console = Console()
    out_path = Path(os.environ.get("BENCH_OUT") or PROJECT_ROOT / "target" / "bench.json")
    figures: dict[str, float] = {}
    console.rule("generator throughput")
    figures |= generation.run(console)
    console.rule("loader vs dbt seed vs bare COPY (100,000 IoT readings)")
    figures |= loading.run(console)
    with tempfile.TemporaryDirectory(prefix="queijaria_bench_") as scratch:
        data_dir = Path(scratch) / "generated"
        console.rule("one plant-year of the baseline: generate + load")
        figures |= plant_year_generate_load(console, data_dir)
        console.rule("stock reservation: full refresh vs one more day")
        figures |= reservation.run(console, data_dir)
    print_verdicts(console, figures)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    console.print(f"figures written to {out_path}")
