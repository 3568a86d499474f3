"""The whole flow on a fresh database: generate every scenario, COPY it in, `dbt build` with every test."""

from __future__ import annotations

import re

from psycopg2 import sql
from support import BuiltPipeline

from queijaria.datasets import DATASETS
from queijaria.db.connection import connect
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
            "select scenario_id, order_id, material_id, lot_id, reserved_quantity, short_quantity"
            " from intermediate.int_stock_reservations_allocated order by 1, 2, 3, 4"
        )
        return cursor.fetchall()


def test_continued_days_build_incrementally_as_a_full_refresh_would(built_pipeline: BuiltPipeline) -> None:
    """The daily flow: a week more of simulation, appended by the loader, then an incremental `dbt build`."""
    before = reservation_rows(built_pipeline)
    for command in (("generate", "--continue", "--days", "7", "--quiet"), ("load",)):
        result = built_pipeline.cli(*command, "--out", str(built_pipeline.data_dir))
        assert result.returncode == 0, f"queijaria {command[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    build = built_pipeline.dbt("build")
    assert "ERROR=0" in build.stdout
    incremental = reservation_rows(built_pipeline)
    assert len(incremental) > len(before), "the continued week released orders to reserve"
    assert set(before) <= set(incremental), "reservations are final: an incremental run never changes them"

    built_pipeline.dbt("run", "--select", "int_stock_reservations_allocated", "--full-refresh")
    assert reservation_rows(built_pipeline) == incremental
