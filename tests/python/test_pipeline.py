"""The whole flow on a fresh database: generate every scenario, COPY it in, `dbt build` with every test."""

from __future__ import annotations

import re

from psycopg2 import sql
from support import BuiltPipeline

from generators.connection import connect
from generators.datasets import DATASETS

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


def test_summary_reports_every_layer(built_pipeline: BuiltPipeline) -> None:
    result = built_pipeline.cli("summary")
    assert result.returncode == 0, result.stderr
    for layer in ("raw", "reference", "staging", "intermediate", "marts"):
        assert layer in result.stdout
