"""DDL of the `raw` schema, derived from the dataset registry so that tables and CSVs never drift apart.

Every raw table is partitioned by LIST (scenario_id), one partition per scenario (`raw.<dataset>__<scenario>`), so
that replacing a scenario swaps one partition inside the load transaction. The rules of the dataset contract are
constraints of the table, which PostgreSQL checks during COPY: NOT NULL, accepted values, the plausible range of
every number (which also refuses NaN and infinities: NaN is greater than every number in PostgreSQL), of every date
and time, and non-blank, short identifiers. The loader's load tables add a check that pins the scenario;
`unknown_key_sql` checks that keys exist in the seeds and `missing_reference_sql` that keys exist in the scenario's
other datasets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import cache

from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection

from dataset_contract import (
    BLANK,
    BY_NAME,
    DATASETS,
    FIRST_PLAUSIBLE_DATE,
    LAST_PLAUSIBLE_DATE,
    MAX_IDENTIFIER_LENGTH,
    TIME_TYPES,
    Column,
    Dataset,
)

RAW_SCHEMA = "raw"
AUDIT_TABLE = "load_audit"
# The longest free text the loader takes. Every text column of the contract is an identifier (at most
# MAX_IDENTIFIER_LENGTH), a seed key or one of a few accepted values, except free text: a supplier's name, a few
# dozen characters. A thousand leaves room for any real name with its address, and refuses what is no name at all
# (a pasted document, a file swallowed by an unclosed quote: once, 300 MB loaded silently).
MAX_FREE_TEXT_LENGTH = 1000


def _literal_list(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def _sql_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _blank_characters() -> str:
    return "E'" + "".join(f"\\x{ord(character):02x}" for character in BLANK) + "'"


def is_free_text(dataset: Dataset, column: Column) -> bool:
    """A text column that no other rule bounds (not an identifier, a seed key nor one of accepted values)."""
    return (
        column.pg_type == "text"
        and not column.is_identifier
        and column.references is None
        and column.name not in dataset.accepted_values
    )


def column_checks(dataset: Dataset, column: Column) -> list[str]:
    """The CHECK constraints of one column, named `<dataset>__<column>__<rule>` (the diagnosis reads the rule)."""
    prefix = f"constraint {dataset.name}__{column.name}"
    checks = []
    if column.bounds is not None:
        low, high = _sql_number(column.bounds.low), _sql_number(column.bounds.high)
        checks.append(f"{prefix}__range check ({column.name} between {low} and {high})")
    if column.pg_type in TIME_TYPES:
        after = LAST_PLAUSIBLE_DATE + timedelta(days=1)
        checks.append(
            f"{prefix}__plausible check ({column.name} >= '{FIRST_PLAUSIBLE_DATE}' and {column.name} < '{after}')"
        )
    if column.is_identifier:
        checks.append(
            f"{prefix}__identifier check (btrim({column.name}, {_blank_characters()}) <> ''"
            f" and length({column.name}) <= {MAX_IDENTIFIER_LENGTH})"
        )
    if is_free_text(dataset, column):
        checks.append(f"{prefix}__length check (length({column.name}) <= {MAX_FREE_TEXT_LENGTH})")
    values = dataset.accepted_values.get(column.name)
    if values is not None:
        checks.append(f"{prefix}__accepted check ({column.name} in ({_literal_list(values)}))")
    return checks


def column_definitions(dataset: Dataset) -> list[str]:
    """Columns, NOT NULL and the contract's CHECK constraints (same names on the parent and on every partition)."""
    parts = [f"{column.name} {column.pg_type}{'' if column.nullable else ' not null'}" for column in dataset.columns]
    parts.append("loaded_at timestamptz not null default now()")
    for column in dataset.columns:
        parts.extend(column_checks(dataset, column))
    return parts


def index_key(dataset: Dataset) -> list[str]:
    """The primary key's columns in index order: time columns first, scenario_id (constant per partition) last.

    Same uniqueness as the dataset contract's key; the order makes the bulk index build after COPY several times faster
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


def secondary_index_sql(dataset: Dataset) -> list[str]:
    """`create index` of the dataset's secondary indexes on the partitioned parent: PostgreSQL builds them on every
    partition, and on each partition the loader attaches later (in bulk, at ATTACH PARTITION)."""
    return [
        f"create index if not exists {dataset.name}__{'__'.join(columns)} on {dataset.table} ({', '.join(columns)})"
        for columns in dataset.indexes
    ]


def partition_name(dataset: Dataset, scenario_id: str) -> str:
    """Unqualified name of a scenario's partition (scenario ids come from the scenarios seed)."""
    return f"{dataset.name}__{scenario_id}"


def load_table_sql(
    dataset: Dataset, table: sql.Composable, scenario_id: str, *, temporary: bool = False
) -> sql.Composed:
    """A plain table shaped like one partition; a permanent one without its primary key (built after COPY, in bulk).

    A temporary one (the load table of appended batches) has its key from the start: it is created once per load
    and emptied for each batch, because every table created and dropped in a transaction keeps locks on all its
    objects (columns' types, constraints, index) until the commit, and a long chain of batches ran out of them.
    Extra check: scenario_id equals the partition's value, which lets ATTACH PARTITION skip its validation scan.
    """
    parts = column_definitions(dataset)
    parts.append(f"constraint {dataset.name}__scenario_id__partition check (scenario_id = '{scenario_id}')")
    if temporary:
        parts.append(primary_key_sql(dataset))
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


def foreign_keys(dataset: Dataset) -> list[Column]:
    """The columns of the dataset that reference another event dataset of the scenario."""
    return [column for column in dataset.columns if column.foreign_key is not None]


def missing_reference_sql(column: Column, referencing: sql.Composable, referenced: sql.Composable) -> sql.Composed:
    """A scalar subquery: one value of the column that the referenced table lacks (null when there is none)."""
    assert column.foreign_key is not None
    return sql.SQL(
        "(select t.{column} from {referencing} as t where t.{column} is not null and not exists"
        " (select from {referenced} as r where r.{key} = t.{column}) limit 1)"
    ).format(
        column=sql.Identifier(column.name),
        referencing=referencing,
        referenced=referenced,
        key=sql.Identifier(column.foreign_key[1]),
    )


def overdrawn_lot_sql(
    loaded: Callable[[Dataset], sql.Composable], scenario_data: Callable[[Dataset], sql.Composable]
) -> sql.Composed:
    """One lot the batch issues from or moves stock out of whose issues and movements, over the scenario's data,
    add up to more than it received: (lot_id, received, consumed, moved), or no row."""
    lots, consumptions, movements = (
        BY_NAME[name] for name in ("stock_lots", "material_consumptions", "stock_movements")
    )
    return sql.SQL(
        """
        with touched as (
            select lot_id from {loaded_consumptions}
            union
            select lot_id from {loaded_movements}
        ),
        consumed as (
            select lot_id, sum(quantity) as quantity from {consumptions}
            where lot_id in (select lot_id from touched) group by lot_id
        ),
        moved as (
            select lot_id, sum(quantity) as quantity from {movements}
            where lot_id in (select lot_id from touched) group by lot_id
        )
        select lots.lot_id, lots.quantity, coalesce(consumed.quantity, 0), coalesce(moved.quantity, 0)
        from {lots} as lots
        inner join touched on lots.lot_id = touched.lot_id
        left join consumed on lots.lot_id = consumed.lot_id
        left join moved on lots.lot_id = moved.lot_id
        where coalesce(consumed.quantity, 0) + coalesce(moved.quantity, 0) > lots.quantity
        order by lots.lot_id
        limit 1
        """
    ).format(
        loaded_consumptions=loaded(consumptions),
        loaded_movements=loaded(movements),
        consumptions=scenario_data(consumptions),
        movements=scenario_data(movements),
        lots=scenario_data(lots),
    )


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


@cache
def layout_signature(name: str) -> str:
    """A digest of a parent table's DDL, kept as its comment: a table whose comment differs is out of date."""
    return "queijaria raw layout " + hashlib.sha256(create_table_sql(BY_NAME[name]).encode()).hexdigest()[:16]


def _table_layouts(conn: pg_connection) -> dict[str, tuple[str, str | None]]:
    """Table name -> (relkind, comment) of the tables of the raw schema."""
    with conn.cursor() as cursor:
        cursor.execute(
            """
            select c.relname::text, c.relkind::text, obj_description(c.oid, 'pg_class')
            from pg_class as c
            where c.relnamespace = %s::regnamespace and c.relkind in ('r', 'p')
            """,
            (RAW_SCHEMA,),
        )
        return {name: (kind, comment) for name, kind, comment in cursor.fetchall()}


def ensure_raw_tables(conn: pg_connection, *, commit: bool = True) -> list[str]:
    """Create the raw schema, its partitioned tables and the load audit; returns the tables (re)created.

    A table whose layout no longer matches the dataset contract (columns, key or constraints; or an older, unpartitioned
    one) is dropped and created again, and the load audit forgets every load, so that the next load replaces each
    scenario from its CSVs (and checks them against today's rules).
    """
    created: list[str] = []
    with conn.cursor() as cursor:
        cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
        layouts = _table_layouts(conn)
        for dataset in DATASETS:
            layout = layouts.get(dataset.name)
            signature = layout_signature(dataset.name)
            if layout is not None and layout != ("p", signature):
                # Views built on the old table (dbt staging) go too; the next `dbt build` recreates them.
                cursor.execute(f"drop table {dataset.table} cascade")
                layout = None
            if layout is None:
                cursor.execute(create_table_sql(dataset))
                cursor.execute(f"comment on table {dataset.table} is %s", (signature,))
                created.append(dataset.table)
            for statement in secondary_index_sql(dataset):
                cursor.execute(statement)
        cursor.execute(AUDIT_TABLE_SQL)
        if created:
            cursor.execute(f"delete from {RAW_SCHEMA}.{AUDIT_TABLE}")
    if commit:
        conn.commit()
    return created
