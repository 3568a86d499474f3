"""`queijaria load --target spark`: Spark's raw tables hold, value for value, what the COPY loader puts in
PostgreSQL, and a bad file stops the load with its file, column and value, leaving the tables as they were."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from spark_support import QUEIJARIA, postgres_rows, spark_rows

from dataset_contract import DATASETS
from queijaria.db.connection import create_scratch_database, drop_database, resolve
from queijaria.loading.errors import LoadError


def test_spark_raw_tables_hold_what_postgres_holds(generated: Path, spark) -> None:
    from queijaria.spark.loader import load_to_spark

    result = load_to_spark(generated)
    assert {item.scenario_id for item in result.loads} == {"baseline", "heatwave"}
    database = create_scratch_database(resolve(), "queijaria_spark_parity")
    try:
        env = {**os.environ, **database.as_env()}
        env.pop("DATABASE_URL", None)
        subprocess.run([QUEIJARIA, "load", "--out", str(generated)], check=True, env=env, capture_output=True)
        compared = 0
        for dataset in DATASETS:
            columns = dataset.column_names
            expected = postgres_rows(database, f"raw.{dataset.name}", columns)
            actual = spark_rows(spark, f"raw.{dataset.name}", columns)
            assert len(actual) == len(expected), dataset.name
            assert actual == expected, dataset.name
            compared += len(actual)
        assert compared == sum(item.rows for item in result.loads) > 100_000
    finally:
        drop_database(database)


def _rewrite_first_value(path: Path, column: str, value: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(
    ("dataset", "column", "value", "message"),
    [
        ("stock_lots", "quantity", "1.2345678", "has more than 6 decimals"),
        ("material_consumptions", "quantity", "12,5", "is not a numeric"),
        ("production_orders", "planned_start_at", "2025-13-01 00:00:00", "is not a timestamp"),
        ("iot_readings", "scenario_id", "milk_shortage", "is not the scenario of its folder"),
        ("stock_movements", "quantity", "-3", "is outside 0..1e+09"),
    ],
)
def test_a_bad_value_stops_the_spark_load_and_changes_nothing(
    generated: Path, spark, tmp_path: Path, dataset: str, column: str, value: str, message: str
) -> None:
    from queijaria.spark.loader import load_to_spark

    load_to_spark(generated, ["baseline"])
    before = {d.name: spark.sql(f"select count(*), max(loaded_at) from raw.{d.name}").first() for d in DATASETS}
    broken = tmp_path / "generated"
    shutil.copytree(generated, broken)
    fresh_batch = sorted((broken / "baseline").iterdir())[0]
    _rewrite_first_value(fresh_batch / f"{dataset}.csv", column, value)

    with pytest.raises(LoadError) as raised:
        load_to_spark(broken, ["baseline"])
    assert f"column {column}: value {value!r} {message}" in str(raised.value)
    assert str(fresh_batch / f"{dataset}.csv") in str(raised.value)
    after = {d.name: spark.sql(f"select count(*), max(loaded_at) from raw.{d.name}").first() for d in DATASETS}
    assert after == before
