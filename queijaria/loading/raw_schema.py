"""DDL of the `raw` schema, derived from the dataset registry so that tables and CSVs never drift apart.

Every raw table is partitioned by LIST (scenario_id), one partition per scenario (`raw.<dataset>__<scenario>`), so
that replacing a scenario swaps one partition inside the load transaction. The NOT NULL, non-negative and
accepted-values rules of datasets.py are constraints of the table (PostgreSQL checks them during COPY); the
loader's load tables add a check that pins the scenario, and `unknown_key_sql` checks that keys exist in the seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection

from queijaria.datasets import DATASETS, Dataset

RAW_SCHEMA = "raw"
AUDIT_TABLE = "load_audit"


def _literal_list(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def column_definitions(dataset: Dataset) -> list[str]:
    """Columns, NOT NULL and the contract's CHECK constraints (same names on the parent and on every partition)."""
    parts = [f"{column.name} {column.pg_type}{'' if column.nullable else ' not null'}" for column in dataset.columns]
    parts.append("loaded_at timestamptz not null default now()")
    for column in dataset.columns:
        if column.non_negative:
            parts.append(f"constraint {dataset.name}__{column.name}__non_negative check ({column.name} >= 0)")
    for name, values in dataset.accepted_values.items():
        parts.append(f"constraint {dataset.name}__{name}__accepted check ({name} in ({_literal_list(values)}))")
    return parts


def index_key(dataset: Dataset) -> list[str]:
    """The primary key's columns in index order: time columns first, scenario_id (constant per partition) last.

    Same uniqueness as datasets.py's key; the order makes the bulk index build after COPY several times faster
    (sorting by a leading constant text column compares whole keys for every pair).
    """
    types = {column.name: column.pg_type for column in dataset.columns}
    rest = [name for name in dataset.primary_key if name != "scenario_id"]
    timed = [name for name in rest if types[name] in ("timestamp", "date")]
    return [*timed, *(name for name in rest if name not in timed), "scenario_id"]


def primary_key_sql(dataset: Dataset) -> str:
    return f"primary key ({', '.join(index_key(dataset))})"


def create_table_sql(dataset: Dataset, table: str | None = None) -> str:
    """`create table` of the partitioned parent; `loaded_at` is stamped by the server and feeds dbt freshness."""
    body = ",\n    ".join([*column_definitions(dataset), primary_key_sql(dataset)])
    return f"create table if not exists {table or dataset.table} (\n    {body}\n) partition by list (scenario_id)"


def partition_name(dataset: Dataset, scenario_id: str) -> str:
    """Unqualified name of a scenario's partition (scenario ids come from the scenarios seed)."""
    return f"{dataset.name}__{scenario_id}"


def load_table_sql(
    dataset: Dataset,
    table: sql.Composable,
    scenario_id: str,
    *,
    temporary: bool = False,
) -> sql.Composed:
    """A plain table shaped like one partition, without its primary key (built after COPY, in bulk).

    Extra check: scenario_id equals the partition's value, which lets ATTACH PARTITION skip its validation scan.
    """
    parts = column_definitions(dataset)
    parts.append(f"constraint {dataset.name}__scenario_id__partition check (scenario_id = '{scenario_id}')")
    body = ",\n    ".join(parts)
    prefix = "create temporary table" if temporary else "create table"
    suffix = " on commit drop" if temporary else ""
    return sql.SQL(prefix + " {} (\n    " + body + "\n)" + suffix).format(table)


def unknown_key_sql(
    dataset: Dataset, table: sql.Composable, reference_keys: Mapping[str, Iterable[str]]
) -> sql.Composed | None:
    """A query returning a row when a referencing column of the loaded table holds a key its seed does not have.

    One scan after COPY rather than a CHECK constraint: a query's `<> all (array)` is a hash lookup, a CHECK
    compares each row with every key in turn (a third of COPY's time on IoT readings).
    """
    tests = [
        f"{column.name} <> all (array[{_literal_list(sorted(reference_keys[column.name]))}])"
        for column in dataset.columns
        if column.references and column.name != "scenario_id"
    ]
    if not tests:
        return None
    return sql.SQL("select 1 from {} where " + " or ".join(tests) + " limit 1").format(table)


AUDIT_TABLE_SQL = f"""
create table if not exists {RAW_SCHEMA}.{AUDIT_TABLE} (
    load_audit_id bigint generated always as identity primary key,
    load_id uuid not null,
    scenario_id text not null,
    batch text not null,
    continues text,
    batch_sha256 text not null,
    mode text not null check (mode in ('replace', 'append')),
    dataset text not null,
    file text not null,
    rows bigint not null check (rows >= 0),
    bytes bigint not null check (bytes >= 0),
    sha256 text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    seconds double precision not null
)
"""


def _table_layouts(conn: pg_connection) -> dict[str, tuple[str, list[str], str | None]]:
    """Table name -> (relkind, column names, primary key definition) of the tables of the raw schema."""
    with conn.cursor() as cursor:
        cursor.execute(
            """
            select
                c.relname::text,
                c.relkind::text,
                array_agg(a.attname::text order by a.attnum),
                (
                    select pg_get_constraintdef(k.oid)
                    from pg_constraint as k
                    where k.conrelid = c.oid and k.contype = 'p'
                )
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname = %s and c.relkind in ('r', 'p')
            group by c.oid, c.relname, c.relkind
            """,
            (RAW_SCHEMA,),
        )
        return {name: (kind, columns, key) for name, kind, columns, key in cursor.fetchall()}


def ensure_raw_tables(conn: pg_connection, *, commit: bool = True) -> list[str]:
    """Create the raw schema, its partitioned tables and the load audit; returns the tables (re)created.

    A table whose layout no longer matches datasets.py (or an older, unpartitioned one) is dropped and created
    again, and the load audit forgets every load, so that the next load replaces each scenario from its CSVs.
    """
    created: list[str] = []
    with conn.cursor() as cursor:
        cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
        layouts = _table_layouts(conn)
        for dataset in DATASETS:
            layout = layouts.get(dataset.name)
            expected = [*dataset.column_names, "loaded_at"]
            if layout is not None and (layout[0], layout[1], layout[2]) != (
                "p",
                expected,
                f"PRIMARY KEY ({', '.join(index_key(dataset))})",
            ):
                # Views built on the old table (dbt staging) go too; the next `dbt build` recreates them.
                cursor.execute(f"drop table {dataset.table} cascade")
                layout = None
            if layout is None:
                cursor.execute(create_table_sql(dataset))
                created.append(dataset.table)
        cursor.execute(AUDIT_TABLE_SQL)
        if created:
            cursor.execute(f"delete from {RAW_SCHEMA}.{AUDIT_TABLE}")
    if commit:
        conn.commit()
    return created
