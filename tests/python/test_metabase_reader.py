"""The read-only role Metabase uses, on the real server, in scratch databases of its own: it reads every mart
(tables created later too) and nothing in raw, staging, intermediate or reference, writes or creates nothing,
cannot reach the server's other databases, and keeps its password when none is given."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import psycopg2
import pytest
from psycopg2 import sql
from support import create_database, drop_database

from queijaria.dashboards.reader import (
    ReaderSetupError,
    ensure_reader,
    password_file,
    reader_password,
    role_admin_settings,
)
from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor

PASSWORD = "reader-" + uuid.uuid4().hex
LAYERS = ("raw", "staging", "intermediate", "reference", "marts")


@dataclass(frozen=True)
class Warehouse:
    """A scratch database laid out as the project's, its reader, and another database of the same server."""

    settings: ConnectionSettings
    reader: ConnectionSettings
    other: ConnectionSettings


def run_as(settings: ConnectionSettings, statement: str | sql.Composable) -> list[tuple[object, ...]]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def new_role() -> str:
    return f"mb_reader_{uuid.uuid4().hex[:8]}"


def drop_role(settings: ConnectionSettings, role: str, database_left: bool = True) -> None:
    admin = role_admin_settings(settings)
    if database_left:  # its grants there go first
        run_as(admin, sql.SQL("drop owned by {}").format(sql.Identifier(role)))
    with maintenance_cursor(admin) as cursor:
        cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
    password_file(role).unlink(missing_ok=True)


def lay_out(settings: ConnectionSettings) -> None:
    """One table per layer, as the application role, which builds them."""
    for layer in LAYERS:
        run_as(settings, f"create schema {layer}; create table {layer}.facts as select 1 as fact_id")


@pytest.fixture(scope="module")
def warehouse(database: ConnectionSettings) -> Iterator[Warehouse]:
    settings = create_database(database, "mb_reader")
    other = create_database(database, "mb_other")  # made before the set-up, as `postgres` and scratch ones are
    role = new_role()
    try:
        lay_out(settings)
        ensure_reader(settings, PASSWORD, role=role)
        ensure_reader(settings, PASSWORD, role=role)  # a second run changes nothing and does not fail
        reader = replace(settings, user=role, password=PASSWORD, is_embedded=False)
        yield Warehouse(settings=settings, reader=reader, other=replace(reader, dbname=other.dbname))
    finally:
        drop_database(settings)
        drop_database(other)
        drop_role(settings, role, database_left=False)


def test_the_reader_selects_every_mart_and_those_built_later(warehouse: Warehouse) -> None:
    assert run_as(warehouse.reader, "select fact_id from marts.facts") == [(1,)]
    run_as(warehouse.settings, "create table marts.later as select 2 as later_id")
    assert run_as(warehouse.reader, "select later_id from marts.later") == [(2,)]


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer != "marts"])
def test_the_reader_reads_no_other_layer(warehouse: Warehouse, layer: str) -> None:
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(warehouse.reader, f"select 1 from {layer}.facts limit 1")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.facts (fact_id) values (2)",
        "delete from marts.facts",
        "create table marts.scratch (id int)",
        "create table public.scratch (id int)",
        "create temporary table scratch (id int)",
        "create schema scratch",
    ],
)
def test_the_reader_writes_and_creates_nothing(warehouse: Warehouse, statement: str) -> None:
    with pytest.raises((psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ReadOnlySqlTransaction)):
        run_as(warehouse.reader, statement)
    # Not only the read-only default: with it switched off, the privileges still refuse.
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run_as(warehouse.reader, f"set transaction read write; {statement}")


@pytest.mark.parametrize("dbname", ["postgres", "template1", "other"])
def test_the_reader_cannot_connect_to_the_servers_other_databases(warehouse: Warehouse, dbname: str) -> None:
    target = warehouse.other if dbname == "other" else replace(warehouse.reader, dbname=dbname)
    with pytest.raises(ConnectionError, match="permission denied for database"):
        run_as(target, "create temporary table scratch (id int)")


def test_the_application_role_keeps_what_it_needs(warehouse: Warehouse) -> None:
    # dbt's incremental models use temporary tables; scratch databases are made from `postgres`.
    run_as(warehouse.settings, "create temporary table scratch (id int)")
    with maintenance_cursor(warehouse.settings) as cursor:
        cursor.execute("select current_database()")
        assert cursor.fetchone() == ("postgres",)


def can_log_in(settings: ConnectionSettings, role: str, password: str) -> bool:
    try:
        run_as(replace(settings, user=role, password=password, is_embedded=False), "select 1")
    except ConnectionError:
        return False
    return True


def test_without_a_password_an_existing_role_keeps_its_own(warehouse: Warehouse) -> None:
    role = new_role()
    try:
        ensure_reader(warehouse.settings, PASSWORD, role=role)
        note = ensure_reader(warehouse.settings, None, role=role)
        assert "kept its password" in note
        assert can_log_in(warehouse.settings, role, PASSWORD)
        assert not password_file(role).exists()
        assert "set from MB_READER_PASSWORD" in ensure_reader(warehouse.settings, "changed-" + PASSWORD, role=role)
        assert can_log_in(warehouse.settings, role, "changed-" + PASSWORD)
        assert not can_log_in(warehouse.settings, role, PASSWORD)
    finally:
        drop_role(warehouse.settings, role)


def test_a_new_role_on_the_embedded_server_gets_a_generated_password_kept_for_metabase(warehouse: Warehouse) -> None:
    if not warehouse.settings.is_embedded:
        pytest.skip("the password is generated on the embedded server only")
    role = new_role()
    try:
        note = ensure_reader(warehouse.settings, None, role=role)
        path = password_file(role)
        assert str(path) in note
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        generated = path.read_text().strip()
        assert can_log_in(warehouse.settings, role, generated)
        assert "kept its password" in ensure_reader(warehouse.settings, None, role=role)
        assert can_log_in(warehouse.settings, role, generated)
        # A password given later replaces it, and the file that no longer opens the role goes.
        ensure_reader(warehouse.settings, PASSWORD, role=role)
        assert not path.exists()
    finally:
        drop_role(warehouse.settings, role)


def test_a_server_other_than_the_embedded_one_needs_the_password_variable() -> None:
    external = ConnectionSettings(host="db.example", port=5432, user="queijaria", password="", dbname="queijaria")
    with pytest.raises(ReaderSetupError, match="set MB_READER_PASSWORD"):
        reader_password(external, environ={})
    assert reader_password(external, environ={"MB_READER_PASSWORD": "s3cret"}) == "s3cret"
