"""`queijaria load --target spark`: Spark's raw tables hold, value for value, what the COPY loader puts in
PostgreSQL, and a bad file stops the load with its file, column and value, leaving the tables as they were."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dataset_contract import DATASETS
from queijaria import PROJECT_ROOT
from queijaria.db.connection import connect, create_scratch_database, drop_database, resolve
from queijaria.loading.errors import LoadError

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
# Two scenarios over the heatwave's window (it refuses a horizon without it), 15-minute IoT: about 185,000 rows.
GENERATE_ARGS = (
    *("--start-date", "2025-12-23", "--days", "24"),
    *("--scenario", "baseline,heatwave", "--iot-interval", "15"),
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark_generated") / "generated"
    subprocess.run([QUEIJARIA, "generate", *GENERATE_ARGS, "--out", str(out), "--quiet"], check=True, cwd=PROJECT_ROOT)
    return out


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """The test process's own session, on a warehouse of its own (Derby lets one JVM open a metastore)."""
    os.environ["SPARK_WAREHOUSE_DIR"] = str(tmp_path_factory.mktemp("spark_warehouse"))
    from queijaria.spark.session import spark_session

    session = spark_session()
    yield session
    session.stop()


def _comparable(value: object) -> object:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime | date | bool | int | str) or value is None:
        return value
    return str(value)


def _postgres_rows(settings, table: str, columns: list[str], key: tuple[str, ...]) -> list[tuple]:
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"select {', '.join(columns)} from raw.{table} order by {', '.join(key)}")
        return [tuple(_comparable(value) for value in row) for row in cursor.fetchall()]


def _spark_rows(spark, table: str, columns: list[str], key: tuple[str, ...]) -> list[tuple]:
    rows = spark.sql(f"select {', '.join(columns)} from raw.{table} order by {', '.join(key)}").collect()
    return [tuple(_comparable(value) for value in row) for row in rows]


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
            expected = _postgres_rows(database, dataset.name, columns, dataset.primary_key)
            actual = _spark_rows(spark, dataset.name, columns, dataset.primary_key)
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
