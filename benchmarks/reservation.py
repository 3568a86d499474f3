"""Reservation benchmark: full refresh of int_stock_reservations_allocated vs an incremental run adding one day.

On one plant-year of the baseline (the CSVs the plant-year benchmark generated, loaded here into a throw-away
database). Times are the model's own execution time from dbt's run_results.json, since dbt's start-up would
dominate wall time. "One day of orders" is the plant-year continued by one simulated day (`generate
--continue --days 1`) and appended by the loader, as a daily run would; the incremental run then allocates the
orders released since the last one allocated. Each figure is the best of a few runs: the machine is shared,
and a one-day run lasts about a tenth of a second, where a passing hiccup weighs a lot.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from rich.console import Console

from benchmarks import run_tool
from queijaria import PROJECT_ROOT
from queijaria.db.connection import connect, create_scratch_database, drop_database, resolve

MODEL = "int_stock_reservations_allocated"
TABLE = f"intermediate.{MODEL}"
SCENARIO = "baseline"
REPEATS = 5


def _dbt(env: dict[str, str], *args: str) -> None:
    run_tool("dbt", *args, "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(PROJECT_ROOT), env=env)


def _model_seconds(target_path: Path) -> float:
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    return next(result["execution_time"] for result in results if result["unique_id"].endswith(f".{MODEL}"))


def _count(conn, query: str) -> int:
    with conn.cursor() as cursor:
        cursor.execute(query)
        value = cursor.fetchone()[0]
    conn.commit()
    return value


def run(console: Console, data_dir: Path) -> dict[str, float]:
    database = create_scratch_database(resolve(), "queijaria_bench_reservation")
    with tempfile.TemporaryDirectory(prefix="queijaria_bench_dbt_") as target:
        target_path = Path(target)
        env = {**os.environ, **database.as_env(), "DBT_TARGET_PATH": str(target_path)}
        env.pop("DATABASE_URL", None)
        conn = None
        try:
            run_tool("queijaria", "load", "--out", str(data_dir), "--scenario", SCENARIO, env=env)
            _dbt(env, "seed")
            _dbt(env, "run", "--select", f"+{MODEL}", "--full-refresh")  # views, function, warm caches

            full_refresh_s = []
            for _ in range(REPEATS):
                _dbt(env, "run", "--select", MODEL, "--full-refresh")
                full_refresh_s.append(_model_seconds(target_path))
            # dbt's own cost of an incremental run that finds nothing to do: the floor under any incremental run.
            noop_s = []
            for _ in range(REPEATS):
                _dbt(env, "run", "--select", MODEL)
                noop_s.append(_model_seconds(target_path))
            conn = connect(database)
            rows_before = _count(conn, f"select count(*) from {TABLE}")
            watermark = _count(conn, f"select max(released_at)::text from {TABLE}")
            requirements = _count(conn, f"select count(*) from {TABLE} where lot_id is null")

            # One more simulated day, continued from the plant-year's state and appended by the loader.
            continue_one_day = ("--continue", "--days", "1", "--scenario", SCENARIO, "--quiet")
            run_tool("queijaria", "generate", *continue_one_day, "--out", str(data_dir), env=env)
            run_tool("queijaria", "load", "--out", str(data_dir), "--scenario", SCENARIO, env=env)
            incremental_s = []
            for _ in range(REPEATS):
                _dbt(env, "run", "--select", MODEL)
                incremental_s.append(_model_seconds(target_path))
                added = _count(conn, f"select count(*) from {TABLE}") - rows_before
                # Undo the run so that the next repeat does the same work.
                with conn.cursor() as cursor:
                    cursor.execute(f"delete from {TABLE} where released_at > %s", (watermark,))
                conn.commit()
            _dbt(env, "run", "--select", MODEL)  # leave the table complete
        finally:
            if conn is not None:
                conn.close()
            drop_database(database)

    full, incremental = min(full_refresh_s), min(incremental_s)
    figures = {
        "reservation_full_refresh_s": full,
        "reservation_incremental_1day_s": incremental,
        "reservation_incremental_ratio": incremental / full,
        "reservation_incremental_nothing_new_s": min(noop_s),
    }
    console.print(
        f"reservation, one plant-year of {SCENARIO} ({requirements:,} requirements, {rows_before:,} rows): "
        f"full refresh {full:.2f} s; incremental run adding one day ({added:,} rows) {incremental:.2f} s; "
        f"ratio {incremental / full:.1%} (target ≤ 5 %); an incremental run with nothing new takes {min(noop_s):.2f} s"
    )
    return figures
