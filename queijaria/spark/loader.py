"""`queijaria load --target spark`: the generated batches into partitioned parquet tables of Spark's `raw` database.

Each scenario loaded is replaced whole from its chain of batches on disk (the chain the COPY loader loads), one
partition (scenario_id) per table; the other scenarios' partitions are not touched.

All or nothing, in two phases, because parquet tables have no transaction across tables:
1. check: every dataset of every scenario is read with the contract's types (dataset_contract) and judged by the
   COPY loader's rules: the header, a value of the column's type, no empty required value, the plausible range, no
   more decimals than the tables keep (a Spark decimal cast would round them silently), the scenario of the
   folder, a short non-blank identifier, one row per primary key. The first failure stops the load with the file,
   column and value, and nothing in `raw` has changed. The checked rows are written to a staging folder.
2. swap: each table's partitions are overwritten from the staging folder (dynamic partition overwrite), and the
   load is recorded in raw.load_audit. Spark writes each table's new files before it removes the old ones, but an
   interruption between two tables leaves the earlier ones swapped: a second load repairs it.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dataset_contract import DATASETS, MAX_IDENTIFIER_LENGTH, Column, Dataset
from queijaria.loading.diagnosis import header_problem
from queijaria.loading.errors import LoadError
from queijaria.loading.manifest import Batch, batch_chain, scenarios_on_disk
from queijaria.spark.session import spark_session, warehouse_root

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame, SparkSession

RAW_DATABASE = "raw"
AUDIT_TABLE = f"{RAW_DATABASE}.load_audit"
# Every numeric of the raw tables: exact to 6 decimals (the data has at most 4), below 10^12. Not wider: Spark keeps
# the product of two decimal(18,6) exact (decimal(37,12)), and rounds the product of two wider ones to 6 places.
DECIMAL_TYPE = "decimal(18,6)"
SPARK_TYPES = {
    "text": "string",
    "timestamp": "timestamp",
    "date": "date",
    "integer": "int",
    "boolean": "boolean",
    "numeric": DECIMAL_TYPE,
    "double precision": "double",
}
# The columns of PostgreSQL's raw.load_audit (queijaria/loading/raw_schema.py), so that one dbt source reads both.
AUDIT_COLUMNS = (
    "load_audit_id bigint, load_id string, scenario_id string, batch string, continues string, batch_sha256 string, "
    "mode string, dataset string, file string, rows bigint, bytes bigint, sha256 string, started_at timestamp, "
    "finished_at timestamp, seconds double"
)


@dataclass(frozen=True)
class SparkDatasetLoad:
    scenario_id: str
    dataset: str
    rows: int


@dataclass(frozen=True)
class SparkLoadResult:
    load_id: str
    loads: list[SparkDatasetLoad]
    warnings: list[str]


def _violations(column: Column, raw: SparkColumn, typed: SparkColumn) -> list[tuple[str, SparkColumn]]:
    """(what is wrong, condition true on a bad row) for one column, in the order they are reported."""
    from pyspark.sql import functions as sf

    present = raw.isNotNull() & (sf.trim(raw) != "")
    checks: list[tuple[str, SparkColumn]] = []
    if not column.nullable:
        checks.append(("is empty, and the column is required", ~present))
    checks.append((f"is not a {column.pg_type}", present & typed.isNull()))
    if column.pg_type == "numeric":
        exact = sf.expr(f"try_cast(`{column.name}` as decimal(38,18))")
        checks.append(("has more than 6 decimals (the raw tables keep 6)", typed.isNotNull() & (exact != typed)))
    if column.bounds is not None:
        low, high = column.bounds.low, column.bounds.high
        checks.append((f"is outside {low:g}..{high:g} ({column.bounds.what})", (typed < low) | (typed > high)))
    if column.name == "scenario_id":
        checks.append(("is not the scenario of its folder", raw != sf.col("_folder_scenario")))
    elif column.is_identifier:
        checks.append((f"is longer than {MAX_IDENTIFIER_LENGTH} characters", sf.length(raw) > MAX_IDENTIFIER_LENGTH))
    return [(what, sf.coalesce(condition, sf.lit(False))) for what, condition in checks]


def _read_dataset(spark: SparkSession, dataset: Dataset, chains: dict[str, list[Batch]]) -> DataFrame:
    """Every chosen scenario's rows of one dataset, typed by the contract; LoadError on the first bad value.

    One pass finds whether any row breaks any rule; only then is the first such row described."""
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StringType, StructField, StructType

    as_text = StructType([StructField(name, StringType()) for name in dataset.column_names])
    frames = []
    for scenario_id, chain in chains.items():
        files = [batch.files[dataset.name] for batch in chain if dataset.name in batch.files]
        for file in files:
            with file.path.open(encoding="utf-8", newline="") as handle:
                problem = header_problem(file.path, next(csv.reader(handle), []), dataset.column_names)
            if problem is not None:
                raise problem
        frames.append(
            spark.read.option("header", True)
            .option("mode", "FAILFAST")
            .schema(as_text)
            .csv([str(file.path) for file in files])
            .withColumn("_folder_scenario", sf.lit(scenario_id))
        )
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    raw = raw.withColumn("_file", sf.input_file_name())
    typed = {
        column.name: sf.expr(f"try_cast(`{column.name}` as {SPARK_TYPES[column.pg_type]})")
        for column in dataset.columns
    }
    rules = [
        (column.name, what, condition)
        for column in dataset.columns
        for what, condition in _violations(column, sf.col(column.name), typed[column.name])
    ]
    any_broken = rules[0][2]
    for _, _, condition in rules[1:]:
        any_broken = any_broken | condition
    first_bad = (
        raw.where(any_broken)
        .select(
            "_file",
            *dataset.column_names,
            *(condition.alias(f"_rule_{n}") for n, (_, _, condition) in enumerate(rules)),
        )
        .limit(1)
        .collect()
    )
    if first_bad:
        row = first_bad[0]
        name, what, _ = next(rule for n, rule in enumerate(rules) if row[f"_rule_{n}"])
        raise LoadError(Path(row["_file"].removeprefix("file:")), f"column {name}: value {row[name]!r} {what}")
    checked = raw.select(*(typed[name].alias(name) for name in dataset.column_names))
    duplicate = checked.groupBy(*dataset.primary_key).count().where("count > 1").limit(1).collect()
    if duplicate:
        key = ", ".join(f"{name}={duplicate[0][name]}" for name in dataset.primary_key)
        raise LoadError(Path(dataset.name), f"more than one row for the primary key ({key})")
    return checked


def _table_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """(name, Spark type) of a raw table's columns, in the table's order: the partition column last, as Spark keeps
    it."""
    columns = [(c.name, SPARK_TYPES[c.pg_type]) for c in dataset.columns if c.name != "scenario_id"]
    return [*columns, ("loaded_at", "timestamp"), ("scenario_id", "string")]


def load_to_spark(out: Path, scenarios: Sequence[str] | None = None) -> SparkLoadResult:
    """Replace the chosen scenarios (default: every scenario on disk) in Spark's raw tables; all or nothing."""
    chosen = list(scenarios or scenarios_on_disk(out))
    chains: dict[str, list[Batch]] = {}
    warnings: list[str] = []
    for scenario_id in chosen:
        chains[scenario_id], chain_warnings = batch_chain(out, scenario_id)
        warnings.extend(chain_warnings)

    spark = spark_session()
    from pyspark.sql import functions as sf

    load_id = str(uuid.uuid4())
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    staging = warehouse_root() / "_loads" / load_id
    loads: list[SparkDatasetLoad] = []
    try:
        # Phase 1: check everything and stage it; raw is not touched.
        for dataset in DATASETS:
            checked = _read_dataset(spark, dataset, chains).withColumn("loaded_at", sf.lit(loaded_at).cast("timestamp"))
            checked.write.mode("overwrite").partitionBy("scenario_id").parquet(str(staging / dataset.name))
            staged = spark.read.parquet(str(staging / dataset.name))
            counts = {row["scenario_id"]: row["count"] for row in staged.groupBy("scenario_id").count().collect()}
            loads.extend(SparkDatasetLoad(s, dataset.name, counts.get(s, 0)) for s in chosen)

        # Phase 2: swap the scenarios' partitions in, table by table, and record the load.
        spark.sql(f"create database if not exists {RAW_DATABASE}")
        spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        for dataset in DATASETS:
            columns = _table_columns(dataset)
            definition = ", ".join(f"`{name}` {spark_type}" for name, spark_type in columns)
            spark.sql(
                f"create table if not exists {dataset.table} ({definition}) using parquet partitioned by (scenario_id)"
            )
            staged = spark.read.parquet(str(staging / dataset.name))
            staged.select(*(name for name, _ in columns)).write.insertInto(dataset.table, overwrite=True)
        spark.sql(f"create table if not exists {AUDIT_TABLE} ({AUDIT_COLUMNS}) using parquet")
        first_id = (spark.sql(f"select max(load_audit_id) from {AUDIT_TABLE}").first()[0] or 0) + 1
        finished_at = datetime.now(UTC).replace(tzinfo=None)
        files = [
            (batch, name, file)
            for scenario_id in chosen
            for batch in chains[scenario_id]
            for name, file in sorted(batch.files.items())
        ]
        audit_rows = [
            (
                first_id + number, load_id, batch.scenario_id, batch.name, batch.continues, batch.fingerprint,
                "replace" if batch.is_fresh else "append", name, str(file.path), file.rows, file.bytes, file.sha256,
                loaded_at, finished_at, (finished_at - loaded_at).total_seconds(),
            )
            for number, (batch, name, file) in enumerate(files)
        ]  # fmt: skip
        spark.createDataFrame(audit_rows, AUDIT_COLUMNS).write.insertInto(AUDIT_TABLE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SparkLoadResult(load_id, loads, warnings)
