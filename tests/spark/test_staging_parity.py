"""The same dbt project on both engines: after the same load, every staging model holds the same rows on Spark as
on PostgreSQL, value for value, and passes the same data tests."""

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
# The staging layer with its seeds and sources, and the data tests of those models alone.
STAGING_BUILD = [
    *("build", "--select", "+staging", "--indirect-selection", "cautious"),
    *("--exclude-resource-type", "unit_test"),
]


# What a load stamps on its rows (when, its id, its audit row's id): each engine's load has its own.
LOAD_STAMPS = {
    *("loaded_at", "load_id", "load_audit_id", "dataset_load_key"),
    *("started_at", "finished_at", "load_duration_s"),
}


def _staging_models(target_path: Path) -> dict[str, list[str]]:
    """Each staging model's relation and its columns, in order, from the run's manifest."""
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return {
        f"{node['schema']}.{node['alias']}": [column for column in node["columns"] if column not in LOAD_STAMPS]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "staging"
    }


def test_staging_models_hold_the_same_rows_on_both_engines(generated: Path, spark, tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    from queijaria.spark.loader import load_to_spark

    load_to_spark(generated)
    spark_target = tmp_path / "spark_target"
    common = ["--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    outcome = dbtRunner().invoke([*STAGING_BUILD, *common, "--target", "spark", "--target-path", str(spark_target)])
    assert outcome.success, outcome.exception or [r.message for r in outcome.result if r.status != "success"]
    spark_results = json.loads((spark_target / "run_results.json").read_text(encoding="utf-8"))["results"]
    tests_passed = [r for r in spark_results if r["unique_id"].startswith("test.") and r["status"] == "pass"]

    database = create_scratch_database(resolve(), "queijaria_spark_staging")
    try:
        env = {**os.environ, **database.as_env(), "DBT_TARGET_PATH": str(tmp_path / "pg_target")}
        env.pop("DATABASE_URL", None)
        subprocess.run([QUEIJARIA, "load", "--out", str(generated)], check=True, env=env, capture_output=True)
        subprocess.run([DBT, *STAGING_BUILD, *common], check=True, env=env, capture_output=True, cwd=PROJECT_ROOT)
        models = _staging_models(spark_target)
        assert len(models) >= 30
        differing = []
        for relation, columns in sorted(models.items()):
            expected = postgres_rows(database, relation, columns)
            actual = spark_rows(spark, relation, columns)
            assert expected, relation
            if actual != expected:
                first = next((pair for pair in zip(actual, expected, strict=False) if pair[0] != pair[1]), None)
                differing.append(f"{relation}: {len(actual)} rows on Spark, {len(expected)} on PostgreSQL; {first}")
        assert not differing, "\n".join(differing)
    finally:
        drop_database(database)
    assert len(tests_passed) > 300
