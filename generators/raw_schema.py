"""DDL of the `raw` schema, derived from the dataset registry so that tables and CSVs never drift apart."""

from __future__ import annotations

from psycopg2.extensions import connection as pg_connection

from generators.datasets import DATASETS, Dataset

RAW_SCHEMA = "raw"


def create_table_sql(dataset: Dataset, table: str | None = None) -> str:
    """`create table` for one dataset; `loaded_at` is stamped by the server and feeds dbt source freshness."""
    columns = [f"{column.name} {column.pg_type}{'' if column.nullable else ' not null'}" for column in dataset.columns]
    columns.append("loaded_at timestamptz not null default now()")
    columns.append(f"primary key ({', '.join(dataset.primary_key)})")
    body = ",\n    ".join(columns)
    return f"create table if not exists {table or dataset.table} (\n    {body}\n)"


def ensure_raw_tables(conn: pg_connection) -> None:
    with conn.cursor() as cursor:
        cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
        for dataset in DATASETS:
            cursor.execute(create_table_sql(dataset))
    conn.commit()
