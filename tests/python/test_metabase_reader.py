"""The read-only role Metabase uses, on the real server: it reads every mart (tables created later too) and
nothing in raw, staging or intermediate, and can write or create nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import psycopg2
import pytest
from psycopg2 import sql
from support import BuiltPipeline

from queijaria.dashboards.reader import ReaderSetupError, ensure_reader, reader_password, role_admin_settings
from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor

PASSWORD = "reader-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def reader(built_pipeline: BuiltPipeline) -> Iterator[ConnectionSettings]:
    role = f"mb_reader_{uuid.uuid4().hex[:8]}"
    ensure_reader(built_pipeline.settings, PASSWORD, role=role)
    ensure_reader(built_pipeline.settings, PASSWORD, role=role)  # a second run changes nothing and does not fail
    yield replace(built_pipeline.settings, user=role, password=PASSWORD, is_embedded=False)
    admin = role_admin_settings(built_pipeline.settings)
    conn = connect(admin)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
    finally:
        conn.close()
    with maintenance_cursor(admin) as cursor:
        cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def tables(settings: ConnectionSettings, schema: str) -> list[str]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                "select format('%%I.%%I', table_schema, table_name) from information_schema.tables "
                "where table_schema = %s order by 1",
                (schema,),
            )
            return [name for (name,) in cursor.fetchall()]
    finally:
        conn.close()


def run_as(settings: ConnectionSettings, statement: str) -> list[tuple[object, ...]]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


@pytest.mark.slow
def test_the_reader_selects_every_mart(built_pipeline: BuiltPipeline, reader: ConnectionSettings) -> None:
    marts = tables(built_pipeline.settings, "marts")
    assert "marts.fct_line_performance_daily" in marts
    for mart in marts:
        assert run_as(reader, f"select count(*) from {mart}")[0][0] >= 0


@pytest.mark.slow
@pytest.mark.parametrize("schema", ["raw", "staging", "intermediate", "reference"])
def test_the_reader_reads_no_other_layer(
    built_pipeline: BuiltPipeline, reader: ConnectionSettings, schema: str
) -> None:
    names = tables(built_pipeline.settings, schema)
    assert names, f"no tables in {schema} to try"
    for name in names:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            run_as(reader, f"select 1 from {name} limit 1")


@pytest.mark.slow
@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.dim_lines (line_id) values ('X')",
        "delete from marts.fct_production_orders",
        "create table marts.scratch (id int)",
        "create table public.scratch (id int)",
        "create temporary table scratch (id int)",
        "create schema scratch",
    ],
)
def test_the_reader_writes_and_creates_nothing(reader: ConnectionSettings, statement: str) -> None:
    with pytest.raises((psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ReadOnlySqlTransaction)):
        run_as(reader, statement)
    # Not only the read-only default: with it switched off, the privileges still refuse.
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(reader, f"set transaction read write; {statement}")


@pytest.mark.slow
def test_a_mart_built_later_is_readable(built_pipeline: BuiltPipeline, reader: ConnectionSettings) -> None:
    run_as(built_pipeline.settings, "create table marts.fct_later as select 1 as later_id")
    try:
        assert run_as(reader, "select later_id from marts.fct_later") == [(1,)]
    finally:
        run_as(built_pipeline.settings, "drop table marts.fct_later")


def test_a_server_other_than_the_embedded_one_needs_the_password_variable() -> None:
    external = ConnectionSettings(host="db.example", port=5432, user="queijaria", password="", dbname="queijaria")
    with pytest.raises(ReaderSetupError, match="set MB_READER_PASSWORD"):
        reader_password(external, environ={})
    assert reader_password(external, environ={"MB_READER_PASSWORD": "s3cret"}) == "s3cret"
