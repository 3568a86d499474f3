"""Where the PostgreSQL server is: one resolution rule shared by the CLI, the loader and the tests.

DATABASE_URL wins over the libpq PG* variables; without either, the embedded server's defaults apply
(PGPORT alone moves the embedded server off a busy port).
profiles.yml applies the same defaults through env_var(), so dbt and Python always agree.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor

EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_PORT = 54329
EMBEDDED_USER = "postgres"
DEFAULT_DATABASE = "queijaria"


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    # True when no variable names another server: the project's own embedded server is meant.
    is_embedded: bool = False

    def as_env(self) -> dict[str, str]:
        """The libpq variables that make psql, dbt (through profiles.yml) and psycopg2 reach this server."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }

    def dsn(self, dbname: str | None = None) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "dbname": dbname or self.dbname,
        }
        if self.password:
            parts["password"] = self.password
        return " ".join(f"{key}='{value}'" for key, value in parts.items())

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def _from_url(url: str) -> ConnectionSettings:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return ConnectionSettings(
        host=parts.hostname or EMBEDDED_HOST,
        port=parts.port or 5432,
        user=unquote(parts.username or EMBEDDED_USER),
        password=unquote(parts.password or ""),
        dbname=(parts.path.lstrip("/") or DEFAULT_DATABASE),
    )


def resolve(environ: dict[str, str] | None = None) -> ConnectionSettings:
    env = os.environ if environ is None else environ
    if env.get("DATABASE_URL"):
        return _from_url(env["DATABASE_URL"])
    return ConnectionSettings(
        host=env.get("PGHOST") or EMBEDDED_HOST,
        port=int(env.get("PGPORT") or EMBEDDED_PORT),
        user=env.get("PGUSER") or EMBEDDED_USER,
        password=env.get("PGPASSWORD") or "",
        dbname=env.get("PGDATABASE") or DEFAULT_DATABASE,
        # PGPORT alone still means the embedded server, moved off a busy port.
        is_embedded=not env.get("PGHOST"),
    )


def connect(settings: ConnectionSettings | None = None, dbname: str | None = None) -> pg_connection:
    settings = settings or resolve()
    try:
        return psycopg2.connect(settings.dsn(dbname), connect_timeout=5)
    except psycopg2.OperationalError as error:
        hint = "run `make db-up`" if settings.is_embedded else "check PGHOST/PGPORT/DATABASE_URL"
        reason = " ".join(str(error).split())
        raise ConnectionError(f"cannot reach PostgreSQL at {settings.describe()}: {reason} ({hint})") from error


@contextmanager
def maintenance_cursor(settings: ConnectionSettings) -> Iterator[pg_cursor]:
    """A cursor on the server's `postgres` database in autocommit: create/drop database refuse a transaction."""
    conn = connect(settings, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def create_scratch_database(settings: ConnectionSettings, prefix: str) -> ConnectionSettings:
    """A new empty database on the same server, for tests and benchmarks that must not touch the user's data."""
    scratch = replace(settings, dbname=f"{prefix}_{uuid.uuid4().hex[:8]}")
    with maintenance_cursor(settings) as cursor:
        cursor.execute(f'create database "{scratch.dbname}"')
    return scratch


def drop_database(settings: ConnectionSettings) -> None:
    with maintenance_cursor(settings) as cursor:
        cursor.execute(f'drop database if exists "{settings.dbname}" with (force)')
