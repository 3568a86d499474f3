"""Reservation benchmark: what one more day costs int_reservation_changes_applied, and how that grows with history.

Data: the baseline simulated over one year and over three years, both ending on the same calendar day (the same
season, weekday and holidays for the day added), IoT every 60 minutes (the reservation reads none of it); each
is loaded into a throw-away database, built, then continued by one simulated day (`generate --continue --days
1`) that the loader appends, as a daily run does.

Figures (the SQL is the one `dbt compile` writes; executing it directly leaves out dbt's start-up, which would
dominate a one-day run). The reservation's SQL is its two incremental models': int_stock_lots_emptied (the lots
emptied, which the reservation carries with nothing left) then int_reservation_changes_applied, timed together:
- reservation_sql_1day_ratio: the incremental SQL applying the one more day's events, over the full refresh's SQL on the
  same data (one year of history), each executed directly;
- reservation_history_growth: the one-day incremental SQL with three years of history over the same with one;
- reservation_dbt_run_full_refresh_s, reservation_dbt_run_1day_s: wall time of the whole `dbt run --select` of
  the model (one year of history), full refresh and one-day incremental, for information.
Each time is the best of a few runs: the machine is shared, and a one-day run lasts a few hundredths of a second.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarks import run_tool
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, create_scratch_database, drop_database, resolve

MODEL = "int_reservation_changes_applied"
TABLE = f"intermediate.{MODEL}"
EMPTIED_MODEL = "int_stock_lots_emptied"
# The models timed, in build order, with their folder under models/intermediate.
TIMED_MODELS = ((EMPTIED_MODEL, "inventory"), (MODEL, "planning"))
SCENARIO = "baseline"
# The one more day is 2028-03-15 (a Wednesday of the dry season) for both histories.
HISTORIES = {"one_year": ("2027-03-15", 366), "three_years": ("2025-03-15", 1096)}
SQL_REPEATS = 15
FULL_REFRESH_REPEATS = 3
DBT_REPEATS = 3


@dataclass
class History:
    """One history in its scratch database, built, with the one more day loaded but not yet applied."""

    name: str
    settings: ConnectionSettings
    env: dict[str, str]
    target_path: Path
    changes_applied: int

    def dbt(self, *args: str) -> float:
        started = time.perf_counter()
        run_tool("dbt", *args, "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(PROJECT_ROOT), env=self.env)
        return time.perf_counter() - started

    def compiled_sql(self, *flags: str) -> list[str]:
        """The SQL of the timed models, in build order."""
        self.dbt("compile", "--select", *(model for model, _ in TIMED_MODELS), *flags)
        compiled = self.target_path / "compiled" / "queijaria_pcp" / "models" / "intermediate"
        return [(compiled / folder / f"{model}.sql").read_text(encoding="utf-8") for model, folder in TIMED_MODELS]

    def sql_seconds(self, models_sql: list[str]) -> tuple[float, int]:
        """Time of executing the models' SQL (the rows each would insert, counted), and how many rows the last
        (the reservation's changes) gives."""
        seconds = 0.0
        with closing(connect(self.settings)) as conn, conn.cursor() as cursor:
            for model_sql in models_sql:
                started = time.perf_counter()
                cursor.execute(f"select count(*) from ({model_sql}) as model")
                rows = cursor.fetchone()[0]
                seconds += time.perf_counter() - started
            conn.rollback()
        return seconds, rows

    def undo_the_day(self) -> None:
        """Delete the changes a one-day run wrote, so that the next repeat does the same work."""
        with closing(connect(self.settings)) as conn, conn.cursor() as cursor:
            cursor.execute(f"delete from {TABLE} where change_number > %s", (self.changes_applied,))
            conn.commit()


def _prepare(name: str, start_date: str, days: int, scratch: Path) -> History:
    settings = create_scratch_database(resolve(), f"queijaria_bench_{name}")
    target_path = scratch / f"target_{name}"
    env = {**os.environ, **settings.as_env(), "DBT_TARGET_PATH": str(target_path)}
    env.pop("DATABASE_URL", None)
    data_dir = scratch / f"generated_{name}"
    history = History(name, settings, env, target_path, 0)
    simulate = ("--scenario", SCENARIO, "--start-date", start_date, "--days", str(days), "--iot-interval", "60")
    run_tool("queijaria", "generate", *simulate, "--quiet", "--out", str(data_dir), env=env)
    run_tool("queijaria", "load", "--out", str(data_dir), env=env)
    history.dbt("seed")
    history.dbt("run", "--select", f"+{MODEL}")
    with closing(connect(settings)) as conn, conn.cursor() as cursor:
        cursor.execute(f"select coalesce(max(change_number), 0) from {TABLE}")
        history.changes_applied = cursor.fetchone()[0]
    run_tool("queijaria", "generate", "--continue", "--days", "1", "--quiet", "--out", str(data_dir), env=env)
    run_tool("queijaria", "load", "--out", str(data_dir), env=env)
    # What a daily `dbt build` does before the models: the tables they read (the data horizon among them) take the
    # day in; the models' own SQL, timed below, then applies the day's events.
    history.dbt("run", "--select", f"+{MODEL}", "--exclude", *(model for model, _ in TIMED_MODELS))
    # What autovacuum does within seconds of a load (statistics, visibility map), done now for both histories
    # alike: otherwise the figures depend on whether it has passed yet.
    with closing(connect(settings)) as conn, conn.cursor() as cursor:
        conn.autocommit = True
        read = (
            "raw.production_orders",
            "raw.stock_lots",
            "raw.material_consumptions",
            "raw.stock_movements",
            f"intermediate.{EMPTIED_MODEL}",
            TABLE,
        )
        cursor.execute(f"vacuum analyze {', '.join(read)}")
    return history


def run(console: Console) -> dict[str, float]:
    histories: list[History] = []
    try:
        with tempfile.TemporaryDirectory(prefix="queijaria_bench_reservation_") as folder:
            for name, (start_date, days) in HISTORIES.items():
                histories.append(_prepare(name, start_date, days, Path(folder)))
            one_year = histories[0]

            one_day_sql = {history.name: history.compiled_sql() for history in histories}
            full_refresh_sql = one_year.compiled_sql("--full-refresh")
            # Alternated, so that a busy moment of the shared machine weighs on both histories alike.
            one_day_s = {history.name: float("inf") for history in histories}
            one_day_rows = {}
            for _ in range(SQL_REPEATS):
                for history in histories:
                    seconds, one_day_rows[history.name] = history.sql_seconds(one_day_sql[history.name])
                    one_day_s[history.name] = min(one_day_s[history.name], seconds)
            full_refresh = [one_year.sql_seconds(full_refresh_sql) for _ in range(FULL_REFRESH_REPEATS)]
            full_refresh_s, full_refresh_rows = min(seconds for seconds, _ in full_refresh), full_refresh[0][1]

            dbt_one_day_s = []
            for _ in range(DBT_REPEATS):
                dbt_one_day_s.append(one_year.dbt("run", "--select", MODEL))
                one_year.undo_the_day()
            full_refresh_run = ("run", "--select", MODEL, "--full-refresh")
            dbt_full_refresh_s = min(one_year.dbt(*full_refresh_run) for _ in range(DBT_REPEATS))
    finally:
        for history in histories:
            drop_database(history.settings)

    figures = {
        "reservation_sql_full_refresh_s": full_refresh_s,
        "reservation_sql_1day_s": one_day_s["one_year"],
        "reservation_sql_1day_three_years_s": one_day_s["three_years"],
        "reservation_sql_1day_ratio": one_day_s["one_year"] / full_refresh_s,
        "reservation_history_growth": one_day_s["three_years"] / one_day_s["one_year"],
        "reservation_dbt_run_full_refresh_s": dbt_full_refresh_s,
        "reservation_dbt_run_1day_s": min(dbt_one_day_s),
    }
    console.print(
        f"reservation, baseline: full refresh SQL {full_refresh_s:.2f} s ({full_refresh_rows:,} rows, one year); "
        f"one more day {one_day_s['one_year'] * 1000:.0f} ms ({one_day_rows['one_year']:,} rows) with one year of "
        f"history ({figures['reservation_sql_1day_ratio']:.1%} of the full refresh, target ≤ 5 %), "
        f"{one_day_s['three_years'] * 1000:.0f} ms ({one_day_rows['three_years']:,} rows) with three (growth "
        f"{figures['reservation_history_growth']:.2f}, target ≤ 1.25); whole `dbt run`: full refresh "
        f"{dbt_full_refresh_s:.1f} s, one day {figures['reservation_dbt_run_1day_s']:.1f} s"
    )
    return figures
