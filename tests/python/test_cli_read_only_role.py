"""`queijaria summary` and `queijaria report` as a role that may not read the project's schemas (the dashboards'
metabase_reader reads the marts only): one `error:` line naming the role, what it cannot read and the role to use."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from psycopg2 import sql
from support import create_database, drop_database

from queijaria import PROJECT_ROOT
from queijaria.db.access import superuser_settings
from queijaria.db.connection import EMBEDDED_USER, ConnectionSettings, connect, maintenance_cursor, resolve
from queijaria.db.embedded import embedded_server

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))


@pytest.fixture(scope="module")
def outsider() -> Iterator[ConnectionSettings]:
    """A login role of its own, with no privilege on a database whose raw and marts schemas hold a table each."""
    owner = create_database(resolve(), "queijaria_read_only_test")
    if not owner.is_embedded:
        drop_database(owner)
        pytest.skip("creating a role needs the embedded server's superuser")
    superuser = superuser_settings(owner, embedded_server().pgdata)
    role, password = f"queijaria_outsider_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    with maintenance_cursor(superuser) as cursor:
        cursor.execute(sql.SQL("create role {} login password %s").format(sql.Identifier(role)), (password,))
    with connect(owner) as conn, conn.cursor() as cursor:
        # By name: `dashboards reader` takes CONNECT from PUBLIC on the databases that exist when it runs.
        database, name = sql.Identifier(owner.dbname), sql.Identifier(role)
        cursor.execute(sql.SQL("grant connect on database {} to {}").format(database, name))
        cursor.execute("create schema raw; create table raw.capacity_calendar (line_id text)")
        cursor.execute("create schema marts; create table marts.fct_material_shortages (scenario_id text)")
    conn.close()
    yield replace(owner, user=role, password=password)
    drop_database(owner)
    with maintenance_cursor(superuser) as cursor:
        cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def run(settings: ConnectionSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.as_env()}
    env.pop("DATABASE_URL", None)
    return subprocess.run([QUEIJARIA, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)


def assert_role_refused(result: subprocess.CompletedProcess[str], role: str, schema: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for text in (f"role '{role}' cannot read", f"permission denied for schema {schema}", f"'{EMBEDDED_USER}'"):
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "schema"), [((), "raw"), (("--json",), "marts")], ids=["table", "json"])
def test_summary_as_a_role_without_access_names_the_schema_and_the_role_to_use(
    outsider: ConnectionSettings, args: tuple[str, ...], schema: str
) -> None:
    result = run(outsider, "summary", *args)
    assert_role_refused(result, outsider.user, schema)
    assert result.stdout == ""


def test_report_as_a_role_without_access_writes_nothing(outsider: ConnectionSettings, tmp_path: Path) -> None:
    out = tmp_path / "shortages.csv"
    out.write_text("the earlier report\n")
    assert_role_refused(run(outsider, "report", "--out", str(out)), outsider.user, "marts")
    assert out.read_text() == "the earlier report\n"
