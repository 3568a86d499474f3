"""The whole flow on a fresh database: generate every scenario, COPY it in, `dbt build` with every test; a week
appended, then a scenario replaced, each followed by a `dbt build` equal to a full refresh."""

from __future__ import annotations

import re

import pytest
from psycopg2 import sql
from support import BuiltPipeline, create_database, drop_database, make_dbt_runner

from queijaria.datasets import DATASETS
from queijaria.db.connection import ConnectionSettings, connect, resolve
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


def reservation_rows(built_pipeline: BuiltPipeline) -> list[tuple]:
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select scenario_id, order_id, material_id, lot_id, reserved_quantity, short_quantity,"
            " returned_quantity, returned_at from intermediate.int_stock_reservations_allocated order by 1, 2, 3, 4"
        )
        return cursor.fetchall()


@pytest.mark.slow
def test_continued_days_build_incrementally_as_a_full_refresh_would(pipeline_copy: BuiltPipeline) -> None:
    """The daily flow: a week more of simulation, appended by the loader, then an incremental `dbt build`."""
    before = reservation_rows(pipeline_copy)
    for command in (("generate", "--continue", "--days", "7", "--quiet"), ("load",)):
        result = pipeline_copy.cli(*command, "--out", str(pipeline_copy.data_dir))
        assert result.returncode == 0, f"queijaria {command[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    build = pipeline_copy.dbt("build")
    assert "ERROR=0" in build.stdout
    incremental = reservation_rows(pipeline_copy)
    assert len(incremental) > len(before), "the continued week released orders to reserve"
    # A cancellation in the continued week marks its order's rows as given back; nothing else changes.
    assert {row[:6] for row in before} <= {row[:6] for row in incremental}, "reservations are final"

    pipeline_copy.dbt("run", "--select", "int_stock_reservations_allocated", "--full-refresh")
    assert reservation_rows(pipeline_copy) == incremental


RESERVATIONS = "intermediate.int_stock_reservations_allocated"


def reservations_by_scenario(settings: ConnectionSettings, *, with_row_versions: bool = False) -> dict[str, list]:
    """Every row and column of the reservation model per scenario (with each row's xmin: written by which run)."""
    version = ", xmin::text" if with_row_versions else ""
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"select *{version} from {RESERVATIONS} order by stock_allocation_key")
        rows = cursor.fetchall()
    by_scenario: dict[str, list] = {}
    for row in rows:
        by_scenario.setdefault(row[1], []).append(row)
    return by_scenario


@pytest.mark.slow
def test_a_replaced_scenario_builds_as_a_full_refresh_would(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A scenario simulated again (shorter, another seed) and loaded: the next `dbt build`, with no flag, computes
    it again from scratch and gives what a full refresh gives; the other scenario's rows are not touched."""
    settings = create_database(resolve(), "queijaria_replace_test")
    try:
        data_dir = tmp_path_factory.mktemp("replaced")
        pipeline = BuiltPipeline(settings, make_dbt_runner(settings, data_dir / "target"), data_dir, "")
        first = ("--scenario", "baseline,demand_peak", "--start-date", "2025-11-20", "--days", "21")
        again = ("--scenario", "baseline", "--start-date", "2025-11-20", "--days", "12", "--seed", "7")
        for command in (("generate", *first, "--iot-interval", "60", "--quiet"), ("load",)):
            result = pipeline.cli(*command, "--out", str(data_dir / "generated"))
            assert result.returncode == 0, f"queijaria {command[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        pipeline.dbt("build")
        before = reservations_by_scenario(settings, with_row_versions=True)

        for command in (("generate", *again, "--iot-interval", "60", "--quiet"), ("load",)):
            result = pipeline.cli(*command, "--out", str(data_dir / "generated"))
            assert result.returncode == 0, f"queijaria {command[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        build = pipeline.dbt("build")
        assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", build.stdout), build.stdout[-3000:]
        assert "int_stock_reservations_allocated: the raw data of scenario baseline was replaced" in build.stdout
        after = reservations_by_scenario(settings, with_row_versions=True)
        assert after["demand_peak"] == before["demand_peak"], "the other scenario stays incremental: rows untouched"
        assert after["baseline"] != before["baseline"]

        pipeline.dbt("run", "--select", "int_stock_reservations_allocated", "--full-refresh")
        assert reservations_by_scenario(settings) == {
            scenario_id: [row[:-1] for row in rows] for scenario_id, rows in after.items()
        }
    finally:
        drop_database(settings)
