"""The whole flow on a fresh database: generate every scenario, COPY it in, `dbt build` with every test; a week
appended, then a scenario replaced, each followed by a `dbt build` equal to a full refresh."""

from __future__ import annotations

import json
import re

from psycopg2 import sql
from small_plant import DATA_NOT_UNIT_TESTS, IOT_INTERVAL, run_cli
from support import RUN_METADATA, BuiltPipeline, aligned_arrays_sorted

from dataset_contract import DATASETS
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.reporting.summary import relation_counts

SCENARIOS = ("baseline", "milk_shortage", "heatwave", "breakdown", "demand_peak")


def test_dbt_build_passes_every_test(built_pipeline: BuiltPipeline) -> None:
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", built_pipeline.build_output)
    assert summary, built_pipeline.build_output[-3000:]
    passed, _, errors, skipped = map(int, summary.groups())
    assert errors == 0 and skipped == 0 and passed > 100


def test_every_raw_table_has_every_scenario(built_pipeline: BuiltPipeline) -> None:
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        for dataset in DATASETS:
            cursor.execute(
                sql.SQL("select scenario_id, count(*) from raw.{} group by scenario_id").format(
                    sql.Identifier(dataset.name)
                )
            )
            counts = dict(cursor.fetchall())
            assert set(counts) == set(SCENARIOS), f"raw.{dataset.name}: {counts}"
            assert all(rows > 0 for rows in counts.values()), f"raw.{dataset.name}: {counts}"


def test_summary_counts_each_raw_row_once(built_pipeline: BuiltPipeline) -> None:
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        counts = {name: rows for schema, name, _, rows in relation_counts(cursor) if schema == "raw"}
        dataset_rows = 0
        for dataset in DATASETS:
            cursor.execute(sql.SQL("select count(*) from raw.{}").format(sql.Identifier(dataset.name)))
            dataset_rows += cursor.fetchone()[0]
    assert set(counts) == {dataset.name for dataset in DATASETS} | {"load_audit"}, sorted(counts)
    assert sum(counts.values()) - counts["load_audit"] == dataset_rows


def test_summary_reports_every_layer(built_pipeline: BuiltPipeline) -> None:
    result = built_pipeline.cli("summary")
    assert result.returncode == 0, result.stderr
    for layer in ("raw", "reference", "staging", "intermediate", "marts"):
        assert layer in result.stdout


RESERVATIONS = "intermediate.int_reservation_changes_applied"
# A reservation change's columns, which no later run changes (a run only adds the changes of the events after its
# watermark; horizon_at and processed_at say which run wrote it).
FINAL_COLUMNS = (
    "reservation_change_key, scenario_id, change_number, event_at, event_rank, event_kind, event_source_id, order_id,"
    " material_id, lot_id, change_kind, reserved_change_quantity, requirement_open_quantity"
)


def incremental_models(pipeline: BuiltPipeline) -> dict[str, list[tuple]]:
    """Every row of every incremental model, per model, in a stable order."""
    listed = pipeline.dbt(
        "ls", "--select", "config.materialized:incremental", "--resource-type", "model", "--output", "json",
        "--output-keys", "schema alias",
    )  # fmt: skip
    relations = sorted(
        (entry["schema"], entry["alias"]) for entry in map(json.loads, re.findall(r"^\{.*\}$", listed.stdout, re.M))
    )
    assert len(relations) >= 3, listed.stdout
    rows = {}
    with connect(pipeline.settings) as conn, conn.cursor() as cursor:
        for schema, alias in relations:
            cursor.execute(sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(alias)))
            kept = [position for position, column in enumerate(cursor.description) if column.name not in RUN_METADATA]
            fetched = [tuple(row[position] for position in kept) for row in cursor.fetchall()]
            rows[f"{schema}.{alias}"] = sorted(map(aligned_arrays_sorted, fetched), key=repr)
    return rows


def assert_incremental_models_equal_a_full_refresh(pipeline: BuiltPipeline) -> None:
    incremental = incremental_models(pipeline)
    pipeline.dbt("run", "--select", "config.materialized:incremental", "--full-refresh")
    full_refresh = incremental_models(pipeline)
    for relation, rows in incremental.items():
        assert rows == full_refresh[relation], f"{relation}: the incremental build differs from a full refresh"


def reservations_by_scenario(
    settings: ConnectionSettings, *, columns: str = "*", with_row_versions: bool = False
) -> dict[str, list]:
    """Every row of the reservation model per scenario: its columns (default all), with each row's xmin (written by
    which run) on request."""
    version = ", xmin::text" if with_row_versions else ""
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"select scenario_id, {columns}{version} from {RESERVATIONS} order by reservation_change_key")
        rows = cursor.fetchall()
    by_scenario: dict[str, list] = {}
    for scenario_id, *row in rows:
        by_scenario.setdefault(scenario_id, []).append(tuple(row))
    return by_scenario


def test_continued_days_build_incrementally_as_a_full_refresh_would(small_plant: BuiltPipeline) -> None:
    """The daily flow: a week more of simulation, appended by the loader, then an incremental `dbt build`."""
    before = reservations_by_scenario(small_plant.settings, columns=FINAL_COLUMNS)
    run_cli(small_plant, "generate", "--continue", "--days", "7", "--quiet")
    run_cli(small_plant, "load")

    build = small_plant.dbt("build", *DATA_NOT_UNIT_TESTS)
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", build.stdout), build.stdout[-3000:]
    after = reservations_by_scenario(small_plant.settings, columns=FINAL_COLUMNS)
    for scenario_id, rows in before.items():
        assert len(after[scenario_id]) > len(rows), f"{scenario_id}: the continued week's events changed reservations"
        # The changes written before stay as they were: the week adds its own after them.
        assert set(rows) <= set(after[scenario_id]), "reservation changes are final"
    assert_incremental_models_equal_a_full_refresh(small_plant)


def test_a_replaced_scenario_builds_as_a_full_refresh_would(small_plant: BuiltPipeline) -> None:
    """A scenario simulated again (shorter, another seed) and loaded: the next `dbt build`, with no flag, computes
    it again from scratch and gives what a full refresh gives; the other scenario's rows are not touched."""
    before = reservations_by_scenario(small_plant.settings, with_row_versions=True)
    again = ("--scenario", "baseline", "--start-date", "2025-11-20", "--days", "12", "--seed", "7")
    run_cli(small_plant, "generate", *again, *IOT_INTERVAL, "--quiet")
    run_cli(small_plant, "load")

    build = small_plant.dbt("build", *DATA_NOT_UNIT_TESTS)
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", build.stdout), build.stdout[-3000:]
    assert "int_reservation_changes_applied: the raw data of scenario baseline was replaced" in build.stdout
    after = reservations_by_scenario(small_plant.settings, with_row_versions=True)
    assert after["demand_peak"] == before["demand_peak"], "the other scenario stays incremental: rows untouched"
    assert after["baseline"] != before["baseline"]
    assert_incremental_models_equal_a_full_refresh(small_plant)
