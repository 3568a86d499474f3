"""Where the server is: DATABASE_URL / PG* resolution, and the embedded server's life cycle."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click
import pytest
from support import free_port, scratch_embedded_server

from queijaria.db.connection import EMBEDDED_PORT, ConnectionSettings, ConnectionSettingsError, connect, resolve
from queijaria.db.embedded import EmbeddedDatabaseError, EmbeddedServer


def test_defaults_reach_the_embedded_server() -> None:
    settings = resolve({})
    assert (settings.host, settings.port, settings.user, settings.dbname) == (
        "127.0.0.1",
        EMBEDDED_PORT,
        "queijaria",
        "queijaria",
    )
    assert settings.is_embedded


def test_pg_variables_point_elsewhere() -> None:
    settings = resolve(
        {"PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "ana", "PGPASSWORD": "s3", "PGDATABASE": "x"}
    )
    assert settings == ConnectionSettings("db.example", 6543, "ana", "s3", "x", is_embedded=False)


def test_pgport_alone_moves_the_embedded_server() -> None:
    settings = resolve({"PGPORT": "55000"})
    assert settings.is_embedded and settings.port == 55000


def test_database_url_wins_and_is_decoded() -> None:
    settings = resolve(
        {"DATABASE_URL": "postgresql+psycopg2://ana:p%40ss@warehouse:5433/pcp", "PGHOST": "ignored", "PGPORT": "1"}
    )
    assert settings == ConnectionSettings("warehouse", 5433, "ana", "p@ss", "pcp", is_embedded=False)
    assert settings.as_env()["PGPASSWORD"] == "p@ss"


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        resolve({"DATABASE_URL": "mysql://root@localhost/db"})


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", " 5432", "5432 ", "54_329", "５４３２", "1e3"])
def test_a_pgport_that_is_no_port_number_is_refused(port: str) -> None:
    with pytest.raises(ConnectionSettingsError) as refused:
        resolve({"PGPORT": port})
    assert str(refused.value) == f"PGPORT must be a port number from 1 to 65535, got {port!r}"


@pytest.mark.parametrize("port", ["1", "5432", "65535"])
def test_every_port_number_is_accepted(port: str) -> None:
    assert resolve({"PGPORT": port}).port == int(port)
    assert resolve({"DATABASE_URL": f"postgresql://ana@db:{port}/pcp"}).port == int(port)


@pytest.mark.parametrize("port", ["abc", "0", "99999"])
def test_a_database_url_port_that_is_no_port_number_is_refused_without_its_password(port: str) -> None:
    with pytest.raises(ConnectionSettingsError, match=rf"^the port of DATABASE_URL must be .*, got '{port}'$") as error:
        resolve({"DATABASE_URL": f"postgresql://ana:s3cr3t:x@warehouse:{port}/pcp"})
    assert "s3cr3t" not in str(error.value)


def test_a_database_url_without_a_port_or_with_an_ipv6_host_still_resolves() -> None:
    assert resolve({"DATABASE_URL": "postgresql://ana@warehouse/pcp"}).port == 5432
    assert resolve({"DATABASE_URL": "postgresql://ana@warehouse:/pcp"}).port == 5432
    ipv6 = resolve({"DATABASE_URL": "postgresql://ana@[::1]:6000/pcp"})
    assert (ipv6.host, ipv6.port) == ("::1", 6000)


def test_the_settings_error_is_a_click_exception_and_a_value_error() -> None:
    # Every command of the CLI turns a ClickException into one `error:` line; older callers catch ValueError.
    with pytest.raises(ConnectionSettingsError) as error:
        resolve({"DATABASE_URL": "mysql://root@localhost/db"})
    assert isinstance(error.value, click.ClickException) and isinstance(error.value, ValueError)
    assert error.value.exit_code == 1


def test_unreachable_server_gives_an_actionable_error() -> None:
    port = free_port()
    with pytest.raises(ConnectionError, match=rf"cannot reach PostgreSQL at .*:{port}.*make db-up"):
        connect(resolve({"PGPORT": str(port)}))


def test_a_database_that_does_not_exist_is_not_blamed_on_a_stopped_server() -> None:
    missing = replace(resolve(), dbname="queijaria_no_such_database")
    with pytest.raises(ConnectionError, match=r'database "queijaria_no_such_database" does not exist') as error:
        connect(missing)
    assert "check PGDATABASE/PGUSER/PGPASSWORD" in str(error.value) and "make db-up" not in str(error.value)


@pytest.fixture
def scratch_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A second embedded server in a temporary folder, on a free port, stopped afterwards."""
    server = scratch_embedded_server(tmp_path)
    yield server
    server.down()


def test_embedded_server_life_cycle_is_idempotent(scratch_server: EmbeddedServer) -> None:
    where = scratch_server.settings.describe()
    password_file = scratch_server.pgdata / "superuser.password"
    assert scratch_server.up() == (
        f"embedded PostgreSQL 18 started at {where}; access set up: the tools connect as role 'queijaria' "
        f"(no superuser powers), the superuser's password is in {password_file}"
    )
    pid = scratch_server.running_pid()
    assert pid is not None
    assert scratch_server.up() == f"embedded PostgreSQL already running (pid {pid}) at {where}"
    conn = connect(scratch_server.settings)
    conn.autocommit = True  # create database refuses to run inside a transaction
    with conn.cursor() as cursor:
        cursor.execute("show server_version_num")
        assert int(cursor.fetchone()[0]) >= 180000
        # The project database and every database created later (tests, bench) compare text as bytes.
        cursor.execute("create database locale_probe")
        cursor.execute(
            "select datname, datlocprovider::text, datlocale from pg_database "
            "where datname in (current_database(), 'locale_probe') order by datname"
        )
        assert cursor.fetchall() == [("locale_probe", "b", "C.UTF-8"), ("queijaria", "b", "C.UTF-8")]
    conn.close()
    data = scratch_server.pgdata
    assert scratch_server.status() == f"embedded PostgreSQL running (pid {pid}) at {where}, data in {data}"
    assert scratch_server.down() == f"embedded PostgreSQL stopped (was pid {pid})"
    assert scratch_server.down() == f"embedded PostgreSQL is not running (data directory {data})"
    assert scratch_server.status() == f"embedded PostgreSQL is not running (data directory {data})"


def test_busy_port_is_reported_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EmbeddedServer(pgdata=tmp_path / "pgdata", settings=resolve({"PGPORT": str(port)}))
        with pytest.raises(EmbeddedDatabaseError, match=rf"port {port} .* already in use.*PGPORT=<free port>"):
            server.up()


def test_data_directory_of_another_version_is_refused(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    server = EmbeddedServer(pgdata=pgdata, settings=resolve({"PGPORT": str(free_port())}))
    with pytest.raises(EmbeddedDatabaseError, match=r"PostgreSQL 16 cluster.*make db-reset"):
        server.up()
