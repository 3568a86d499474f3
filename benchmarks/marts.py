"""Marts benchmark: one plant-year of all five scenarios through `dbt build`, dashboard queries, one more day.

- dbt_build_plant_year_5_scenarios_s: wall time of a full `dbt build` (seeds, every model and test) in a scratch
  database holding one plant-year of each scenario at the default 1-minute IoT interval. Generating and loading
  the data comes first and is not timed.
- mart_query_max_ms: the slowest of the dashboard queries below, one per fact mart (one scenario, one line,
  sensor, meter or material, one month), each the best of a few runs.
- mart_incremental_1day_ratio: the incremental models (config.materialized:incremental) after one more simulated
  day (`generate --continue --days 1`, appended by `load`) against their full refresh, both as the models' own
  execution time from run_results.json (dbt's start-up would dominate a one-day run). Each incremental repeat
  starts from the same tables: they are restored from a copy taken before the first.

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
from queijaria.db.connection import ConnectionSettings, connect, create_scratch_database, drop_database, resolve

# PLANT_YEAR_ARGS names the baseline; a later --scenario wins, so these are the same days for every scenario.
ALL_SCENARIOS_PLANT_YEAR_ARGS = (*PLANT_YEAR_ARGS, "--scenario", "all")
INCREMENTAL = "config.materialized:incremental"
QUERY_REPEATS = 5
FULL_REFRESH_REPEATS = 2
INCREMENTAL_REPEATS = 3

# A dashboard's view: the heatwave (days 45-54 of a plant-year from 2025-01-01) in February, line MUS, the
# PRA ripening room's temperature, the MUS line's meter, raw milk.
DASHBOARD = {
    "scenario": "heatwave",
    "month_start": dt.date(2025, 2, 1),
    "month_end": dt.date(2025, 3, 1),
    "line": "MUS",
    "sensor": "TT-RIP-PRA-01",
    "meter": "EM-MUS",
    "material": "MILK",
}

DASHBOARD_QUERIES = {
    "fct_milk_dispositions": """
        select received_date, sum(received_l) as received_l, sum(consumed_l) as consumed_l,
            sum(sold_spot_l) as sold_spot_l, sum(discarded_l) as discarded_l
        from marts.fct_milk_dispositions
        where scenario_id = %(scenario)s
            and received_date >= %(month_start)s and received_date < %(month_end)s
        group by received_date order by received_date""",
    "fct_line_performance_daily": """
        select production_date, sum(apt_min) / nullif(sum(pbt_min), 0) as availability, avg(oee) as oee
        from marts.fct_line_performance_daily
        where scenario_id = %(scenario)s and line_id = %(line)s
            and production_date >= %(month_start)s and production_date < %(month_end)s
        group by production_date order by production_date""",
    "fct_production_orders": """
        select product_id, count(*) as orders, count(*) filter (where is_late) as late_orders,
            sum(planned_kg) as planned_kg, sum(good_kg) as good_kg
        from marts.fct_production_orders
        where scenario_id = %(scenario)s and line_id = %(line)s
            and planned_production_date >= %(month_start)s and planned_production_date < %(month_end)s
        group by product_id order by product_id""",
    "fct_equipment_reliability_monthly": """
        select equipment_id, mtbf_h, mttr_h, failure_count
        from marts.fct_equipment_reliability_monthly
        where scenario_id = %(scenario)s and line_id = %(line)s and month_start_date = %(month_start)s
        order by equipment_id""",
    "fct_maintenance_events": """
        select maintenance_event_id, equipment_id, maintenance_type, started_at, downtime_min
        from marts.fct_maintenance_events
        where scenario_id = %(scenario)s and line_id = %(line)s
            and production_date >= %(month_start)s and production_date < %(month_end)s
        order by started_at""",
    "fct_quality_daily": """
        select production_date, sum(rejected_kg) / nullif(sum(produced_kg), 0) as rejection_rate
        from marts.fct_quality_daily
        where scenario_id = %(scenario)s and line_id = %(line)s
            and production_date >= %(month_start)s and production_date < %(month_end)s
        group by production_date order by production_date""",
    "fct_quality_rejections": """
        select rejection_cause_id, count(*) as rejections, sum(rejected_kg) as rejected_kg
        from marts.fct_quality_rejections
        where scenario_id = %(scenario)s and line_id = %(line)s
            and production_date >= %(month_start)s and production_date < %(month_end)s
        group by rejection_cause_id order by rejected_kg desc""",
    "fct_material_shortages": """
        select order_id, planned_start_at, short_quantity, unit
        from marts.fct_material_shortages
        where scenario_id = %(scenario)s and material_id = %(material)s
            and planned_start_at >= %(month_start)s and planned_start_at < %(month_end)s
        order by planned_start_at""",
    "fct_energy_daily": """
        select energy_date, energy_kwh, ponta_share, energy_cost_brl
        from marts.fct_energy_daily
        where scenario_id = %(scenario)s and meter_id = %(meter)s
            and energy_date >= %(month_start)s and energy_date < %(month_end)s
        order by energy_date""",
    "fct_iot_excursions": """
        select started_at, excursion_min, breached_limit, worst_deviation
        from marts.fct_iot_excursions
        where scenario_id = %(scenario)s and sensor_id = %(sensor)s
            and started_at >= %(month_start)s and started_at < %(month_end)s
        order by started_at""",
    "fct_sensor_daily": """
        select reading_date, out_of_spec_min, excursion_count, value_min, value_max
        from marts.fct_sensor_daily
        where scenario_id = %(scenario)s and sensor_id = %(sensor)s
            and reading_date >= %(month_start)s and reading_date < %(month_end)s
        order by reading_date""",
    "fct_inventory_daily": """
        select inventory_date, on_hand_quantity, free_quantity, coverage_days
        from marts.fct_inventory_daily
        where scenario_id = %(scenario)s and material_id = %(material)s
            and inventory_date >= %(month_start)s and inventory_date < %(month_end)s
        order by inventory_date""",
    "fct_scenario_kpis": """
        select kpi_id, kpi_value, baseline_kpi_value, relative_diff_to_baseline
        from marts.fct_scenario_kpis
        where scenario_id = %(scenario)s and kpi_window = 'effect_window'
        order by kpi_sort_order""",
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


def _best_query_ms(database: ConnectionSettings, console: Console) -> dict[str, float]:
    with connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' and table_name like 'fct%'"
        )
        unqueried = sorted({name for (name,) in cursor.fetchall()} - set(DASHBOARD_QUERIES))
        if unqueried:
            console.print(f"[yellow]no dashboard query for {', '.join(unqueried)}: add one to DASHBOARD_QUERIES[/]")
        best = {}
        for mart, query in DASHBOARD_QUERIES.items():
            timings = []
            for _ in range(QUERY_REPEATS):
                started = time.perf_counter()
                cursor.execute(query, DASHBOARD)
                cursor.fetchall()
                timings.append((time.perf_counter() - started) * 1000)
            best[mart] = min(timings)
        conn.rollback()
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

            query_ms = _best_query_ms(database, console)

            full_refresh_s = []
            for _ in range(FULL_REFRESH_REPEATS):
                _dbt(env, "run", "--select", INCREMENTAL, "--full-refresh")
                full_times = _model_run_times(target_path)
                full_refresh_s.append(sum(full_times.values()))
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
        finally:
            drop_database(database)

    full, incremental = min(full_refresh_s), min(incremental_s)
    slowest = max(query_ms, key=query_ms.__getitem__)
    models = ", ".join(relation.rsplit(".", 1)[-1].strip('"') for relation in relations)
    queries = Table(title=f"Dashboard query per mart (best of {QUERY_REPEATS}), ms")
    queries.add_column("mart")
    queries.add_column("ms", justify="right")
    for mart, ms in sorted(query_ms.items(), key=lambda item: -item[1]):
        queries.add_row(mart, f"{ms:.1f}")
    console.print(queries)
    console.print(
        f"marts, one plant-year of 5 scenarios: dbt build {build_s:.0f} s (target < 300 s); slowest dashboard "
        f"query {query_ms[slowest]:.1f} ms on {slowest} (target < 200 ms); incremental models ({models}) "
        f"after one more day {incremental:.2f} s against {full:.2f} s full refresh = {incremental / full:.1%} "
        "(target ≤ 10 %)"
    )
    return {
        "dbt_build_plant_year_5_scenarios_s": build_s,
        "mart_query_max_ms": query_ms[slowest],
        "mart_incremental_1day_ratio": incremental / full,
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
