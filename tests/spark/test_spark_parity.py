"""The same dbt project on both engines: after the same load, every model that runs on Spark (tag runs_on_spark:
every staging model and the intermediate models ported so far) holds the same rows on Spark as on PostgreSQL,
value for value, and passes the same data tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from spark_support import QUEIJARIA, postgres_rows, spark_rows

from queijaria import PROJECT_ROOT
from queijaria.db.connection import create_scratch_database, drop_database, resolve

DBT = str(Path(sys.executable).with_name("dbt"))
# The models that run on Spark with their seeds and sources, and the data tests of those models alone.
SPARK_BUILD = [
    *("build", "--select", "+tag:runs_on_spark", "--indirect-selection", "cautious"),
    *("--exclude-resource-type", "unit_test"),
]


# What a load stamps on its rows (when, its id, its audit row's id): each engine's load has its own.
LOAD_STAMPS = {
    *("loaded_at", "load_id", "load_audit_id", "dataset_load_key"),
    *("started_at", "finished_at", "load_duration_s"),
    *("scenario_load_id", "replaced_at", "last_loaded_at"),
}


def _spark_models(target_path: Path) -> dict[str, list[str]]:
    """Each model's relation and its columns, in order, from the run's manifest."""
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return {
        f"{node['schema']}.{node['alias']}": [column for column in node["columns"] if column not in LOAD_STAMPS]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "runs_on_spark" in node["tags"]
    }


def test_models_hold_the_same_rows_on_both_engines(generated: Path, spark, tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    from queijaria.spark.loader import load_to_spark

    # The loader's tests in this session's warehouse loaded (and recorded in the audit) other batches before: start
    # from an empty raw database, as the PostgreSQL side starts from an empty database.
    spark.sql("drop database if exists raw cascade")
    load_to_spark(generated)
    spark_target = tmp_path / "spark_target"
    common = ["--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    outcome = dbtRunner().invoke([*SPARK_BUILD, *common, "--target", "spark", "--target-path", str(spark_target)])
    assert outcome.success, outcome.exception or [
        (r.node.name, r.message) for r in outcome.result if r.status not in ("success", "pass")
    ]
    spark_results = json.loads((spark_target / "run_results.json").read_text(encoding="utf-8"))["results"]
    tests_passed = [r for r in spark_results if r["unique_id"].startswith("test.") and r["status"] == "pass"]

    database = create_scratch_database(resolve(), "queijaria_spark_models")
    try:
        env = {**os.environ, **database.as_env(), "DBT_TARGET_PATH": str(tmp_path / "pg_target")}
        env.pop("DATABASE_URL", None)
        subprocess.run([QUEIJARIA, "load", "--out", str(generated)], check=True, env=env, capture_output=True)
        subprocess.run([DBT, *SPARK_BUILD, *common], check=True, env=env, capture_output=True, cwd=PROJECT_ROOT)
        models = _spark_models(spark_target)
        assert len(models) >= 42
        differing = []
        for relation, columns in sorted(models.items()):
            expected = postgres_rows(database, relation, columns)
            actual = spark_rows(spark, relation, columns)
            assert expected, relation
            if actual != expected:
                pairs = zip(actual, expected, strict=False)
                spark_row, postgres_row = next(pair for pair in pairs if pair[0] != pair[1])
                columns_differing = {
                    column: (on_spark, on_postgres)
                    for column, on_spark, on_postgres in zip(columns, spark_row, postgres_row, strict=True)
                    if on_spark != on_postgres
                }
                differing.append(
                    f"{relation}: {len(actual)} rows on Spark, {len(expected)} on PostgreSQL; first row that differs, "
                    f"(Spark, PostgreSQL): {columns_differing}"
                )
        assert not differing, "\n".join(differing)
    finally:
        drop_database(database)
    assert len(tests_passed) > 300
