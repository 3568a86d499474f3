"""Marts benchmark: one plant-year of all five scenarios through `dbt build`, dashboard queries, one more day.

- dbt_build_plant_year_5_scenarios_s: wall time of a full `dbt build` (seeds, every model and test) in a scratch
  database holding one plant-year of each scenario at the default 1-minute IoT interval. Generating and loading
  the data comes first and is not timed.
- mart_query_max_ms: the slowest card query of the dashboards (every card of dashboards/*.yml, run as the preview
  and Metabase run it: the read-only role, its filters filled in), each card twice: with the filters the dashboard
  opens with, and with every filter set (one scenario, line, product and month); each the best of a few runs.
- mart_incremental_1day_ratio: the incremental models (config.materialized:incremental) after one more simulated
  day (`generate --continue --days 1`, appended by `load`) against their full refresh, both as the models' own
  execution time from run_results.json (dbt's start-up would dominate a one-day run). Each incremental repeat
  starts from the same tables: they are restored from a copy taken before the first.
- daily_flow_s: wall time of `queijaria daily` (the Prefect flow, ephemeral, one more day of every scenario: simulate,
  load, freshness, dbt build, report, KPI summary, preview) on the plant-year built above plus the day the
  incremental repeats loaded; daily_flow_vs_full_build_ratio is it over dbt_build_plant_year_5_scenarios_s.
- reservation_sql_plant_year_s: the full refresh of the reservation (int_stock_lots_emptied and
  int_reservation_changes_applied) over the plant-year of five scenarios, the models' own execution time from
  run_results.json (best of the full-refresh repeats above).

`python -m benchmarks.marts` runs it alone and prints the figures as JSON; its arguments go to the timed
`dbt build` (e.g. `--exclude some_test` while a test fails on a plant-year and would skip the marts after it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from psycopg2 import sql
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmarks import PLANT_YEAR_ARGS, run_tool
from queijaria import PROJECT_ROOT
from queijaria.dashboards.queries import default_values, reader_engine, run_card
from queijaria.dashboards.spec import load_dashboards
from queijaria.db.connection import ConnectionSettings, connect, create_scratch_database, drop_database, resolve

# PLANT_YEAR_ARGS names the baseline; a later --scenario wins, so these are the same days for every scenario.
ALL_SCENARIOS_PLANT_YEAR_ARGS = (*PLANT_YEAR_ARGS, "--scenario", "all")
INCREMENTAL = "config.materialized:incremental"
# Their full refresh over the plant-year of five scenarios is a figure of its own (reservation_sql_plant_year_s).
RESERVATION_MODELS = ("int_stock_lots_emptied", "int_reservation_changes_applied")
QUERY_REPEATS = 5
FULL_REFRESH_REPEATS = 2
INCREMENTAL_REPEATS = 3
SLOWEST_CARDS_SHOWN = 10

# Every filter set, as a planner narrows a dashboard: the heatwave scenario (6-15 January, seeds/scenarios.csv) in
# January of the plant-year from 2025-01-01, the mozzarella line and its product, the KPIs of the effect window.
FILTERS_SET = {
    "scenario": "heatwave",
    "line": "MUS",
    "product": "MUS",
    "start_date": dt.date(2025, 1, 1),
    "end_date": dt.date(2025, 1, 31),
    "kpi_window": "effect_window",
}


def _dbt(env: dict[str, str], *args: str) -> None:
    run_tool("dbt", *args, "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(PROJECT_ROOT), env=env)


def _model_run_times(target_path: Path) -> dict[str, float]:
    """Execution time of each model of dbt's last run, by relation name, from run_results.json."""
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    return {
        result["relation_name"]: result["execution_time"]
        for result in results
        if result["unique_id"].startswith("model.")
    }


def _best_card_ms(database: ConnectionSettings) -> dict[str, float]:
    """Every card of every dashboard, with the filters it opens with and with all of them set: best of a few runs
    each, in ms, keyed "<dashboard>/<card> (filters opened with|set)"."""
    engine = reader_engine(database)
    best = {}
    try:
        for dashboard in load_dashboards():
            opened_with = default_values(dashboard)
            narrowed = {**opened_with, **{item.name: FILTERS_SET[item.name] for item in dashboard.filters}}
            for card in dashboard.cards:
                for label, values in (("filters opened with", opened_with), ("filters set", narrowed)):
                    timings = []
                    for _ in range(QUERY_REPEATS):
                        started = time.perf_counter()
                        run_card(engine, card, values)
                        timings.append((time.perf_counter() - started) * 1000)
                    best[f"{dashboard.slug}/{card.title} ({label})"] = min(timings)
    finally:
        engine.dispose()
    return best


def _copy_tables(database: ConnectionSettings, relations: list[str], restore: bool) -> None:
    """Keep (restore=False) or put back (restore=True) the rows of the incremental models, in schema bench_copy."""
    with connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("create schema if not exists bench_copy")
        for number, relation in enumerate(relations):
            copy = sql.Identifier("bench_copy", f"relation_{number}")
            table = sql.SQL(relation)  # dbt's own quoted relation name from run_results.json
            if restore:
                cursor.execute(sql.SQL("truncate {}").format(table))
                cursor.execute(sql.SQL("insert into {} select * from {}").format(table, copy))
            else:
                cursor.execute(sql.SQL("drop table if exists {}").format(copy))
                cursor.execute(sql.SQL("create table {} as select * from {}").format(copy, table))
        conn.commit()


def _print_slowest_nodes(console: Console, target_path: Path, count: int = 10) -> None:
    """Where a build's time goes: its slowest models and tests (they run on 2 threads, so they overlap)."""
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    slowest = sorted(results, key=lambda result: -result["execution_time"])[:count]
    console.print(
        "slowest nodes of the build: "
        + ", ".join(f"{result['unique_id'].split('.')[2]} {result['execution_time']:.0f} s" for result in slowest)
    )


def run(
    console: Console,
    data_dir: Path | None = None,
    generate_args: tuple[str, ...] = ALL_SCENARIOS_PLANT_YEAR_ARGS,
    build_args: tuple[str, ...] = (),
) -> dict[str, float]:
    """Every figure of the module; data_dir is where to generate the data (a scratch folder by default)."""
    with tempfile.TemporaryDirectory(prefix="queijaria_bench_marts_") as scratch:
        generated = data_dir or Path(scratch) / "generated"
        target_path = Path(scratch) / "dbt_target"
        database = create_scratch_database(resolve(), "queijaria_bench_marts")
        env = {**os.environ, **database.as_env(), "DBT_TARGET_PATH": str(target_path)}
        env.pop("DATABASE_URL", None)
        try:
            console.print("generating and loading one plant-year of every scenario (not timed) ...")
            run_tool("queijaria", "generate", *generate_args, "--quiet", "--out", str(generated), env=env)
            run_tool("queijaria", "load", "--out", str(generated), env=env)

            started = time.perf_counter()
            _dbt(env, "build", *build_args)
            build_s = time.perf_counter() - started
            _print_slowest_nodes(console, target_path)

            query_ms = _best_card_ms(database)

            full_refresh_s, reservation_s = [], []
            for _ in range(FULL_REFRESH_REPEATS):
                _dbt(env, "run", "--select", INCREMENTAL, "--full-refresh")
                full_times = _model_run_times(target_path)
                full_refresh_s.append(sum(full_times.values()))
                reservation_s.append(
                    sum(
                        seconds
                        for relation, seconds in full_times.items()
                        if relation.rsplit(".", 1)[-1].strip('"') in RESERVATION_MODELS
                    )
                )
            relations = sorted(full_times)

            one_more_day = ("--continue", "--days", "1", "--scenario", "all", "--quiet", "--out", str(generated))
            run_tool("queijaria", "generate", *one_more_day, env=env)
            run_tool("queijaria", "load", "--out", str(generated), env=env)
            _copy_tables(database, relations, restore=False)
            incremental_s = []
            for repeat in range(INCREMENTAL_REPEATS):
                if repeat:
                    _copy_tables(database, relations, restore=True)
                _dbt(env, "run", "--select", INCREMENTAL)
                incremental_s.append(sum(_model_run_times(target_path).values()))

            console.print("the daily flow, one more day of every scenario (timed whole: process, Prefect, steps) ...")
            started = time.perf_counter()
            run_tool(
                "queijaria", "daily", "--out", str(generated), "--report-out", str(Path(scratch) / "report.csv"),
                "--preview-out", str(Path(scratch) / "preview.html"), env=env,
            )  # fmt: skip
            daily_flow_s = time.perf_counter() - started
            _print_slowest_nodes(console, target_path)
        finally:
            drop_database(database)

    full, incremental = min(full_refresh_s), min(incremental_s)
    slowest = max(query_ms, key=query_ms.__getitem__)
    models = ", ".join(relation.rsplit(".", 1)[-1].strip('"') for relation in relations)
    queries = Table(
        title=f"The {SLOWEST_CARDS_SHOWN} slowest of {len(query_ms)} card queries (best of {QUERY_REPEATS}), ms"
    )
    queries.add_column("card")
    queries.add_column("ms", justify="right")
    for card, ms in sorted(query_ms.items(), key=lambda item: -item[1])[:SLOWEST_CARDS_SHOWN]:
        queries.add_row(card, f"{ms:.1f}")
    console.print(queries)
    console.print(
        f"marts, one plant-year of 5 scenarios: dbt build {build_s:.0f} s (target < 300 s); slowest dashboard "
        f"card query {query_ms[slowest]:.1f} ms, {slowest} (target < 200 ms); incremental models ({models}) "
        f"after one more day {incremental:.2f} s against {full:.2f} s full refresh = {incremental / full:.1%} "
        f"(target ≤ 10 %); the reservation's full refresh {min(reservation_s):.1f} s; the daily flow for one more "
        f"day {daily_flow_s:.1f} s = {daily_flow_s / build_s:.1%} of the full build (target ≤ 20 %)"
    )
    return {
        "dbt_build_plant_year_5_scenarios_s": build_s,
        "mart_query_max_ms": query_ms[slowest],
        "mart_incremental_1day_ratio": incremental / full,
        "reservation_sql_plant_year_s": min(reservation_s),
        "daily_flow_s": daily_flow_s,
        "daily_flow_vs_full_build_ratio": daily_flow_s / build_s,
    }


def main() -> None:
    console = Console(stderr=True)
    try:
        figures = run(console, build_args=tuple(sys.argv[1:]))
    except RuntimeError as error:  # a tool failed: its command and the end of its output say why
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise SystemExit(1) from error
    json.dump(figures, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
