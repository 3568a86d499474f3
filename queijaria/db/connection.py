"""Where the PostgreSQL server is: one resolution rule shared by the CLI, the loader and the tests.

DATABASE_URL wins over the libpq PG* variables; without either, the embedded server's defaults apply
(PGPORT alone moves the embedded server off a busy port). On the embedded server the tools connect as the
application role, which owns the project's data but holds no superuser power (see queijaria/db/access.py).
profiles.yml applies the same defaults through env_var(), so dbt and Python always agree.
"""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

import click
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor

EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_PORT = 54329
# The application role: the loader, dbt, the tests and the bench connect as it (profiles.yml has the same default).
EMBEDDED_USER = "queijaria"
DEFAULT_DATABASE = "queijaria"
# Set by `queijaria db env` to the DATABASE_URL its PG* variables come from: profiles.yml refuses to run when
# DATABASE_URL is set but the PG* variables were not derived from it (a bare dbt would reach another server).
PG_FROM_URL_VARIABLE = "QUEIJARIA_PG_FROM_DATABASE_URL"
FIRST_PORT, LAST_PORT = 1, 65535
# libpq's words when the server answered but refused the database, role or password (or the role's CONNECT).
LOGIN_REFUSALS = ("does not exist", "authentication failed", "fe_sendauth", "no pg_hba.conf entry", "permission denied")


class ConnectionSettingsError(click.ClickException, ValueError):
    """PGPORT or DATABASE_URL names no server the tools could reach: the user's to fix, before any connection.

    A ClickException, so that every command of the CLI ends in one `error:` line and exit code 1 without catching
    it (queijaria/cli.py does it once for all); a ValueError too, for the callers that already caught one.
    """


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

    def connect_arguments(self, dbname: str | None = None) -> dict[str, str]:
        """psycopg2.connect keywords (it quotes them for libpq); no password lets libpq look up ~/.pgpass."""
        arguments = {"host": self.host, "port": str(self.port), "user": self.user, "dbname": dbname or self.dbname}
        if self.password:
            arguments["password"] = self.password
        return arguments

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def _port(text: str, source: str) -> int:
    """The port `text` names; ConnectionSettingsError naming `source` when it is not a number from 1 to 65535."""
    # isdigit() alone would take "²" or "٣", and int() would take " 5432" or "5_432": libpq takes neither.
    port = int(text) if text.isascii() and text.isdigit() else None
    if port is None or not FIRST_PORT <= port <= LAST_PORT:
        raise ConnectionSettingsError(f"{source} must be a port number from {FIRST_PORT} to {LAST_PORT}, got {text!r}")
    return port


def _url_port(netloc: str) -> int | None:
    """The port of a URL's netloc, or None without one; urlsplit's own message would not say which setting."""
    host = netloc.rpartition("@")[2]  # never the user or password: an error must not print the password
    _, colon, port_text = host.rpartition("]")[2].partition(":")
    # An empty port ("host:/db") means the default, as urlsplit and libpq read it.
    return _port(port_text, "the port of DATABASE_URL") if colon and port_text else None


def _from_url(url: str) -> ConnectionSettings:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ConnectionSettingsError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return ConnectionSettings(
        host=parts.hostname or EMBEDDED_HOST,
        port=_url_port(parts.netloc) or 5432,
        user=unquote(parts.username or EMBEDDED_USER),
        password=unquote(parts.password or ""),
        dbname=(unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE),
    )


def resolve(environ: dict[str, str] | None = None) -> ConnectionSettings:
    """The server the environment names; ConnectionSettingsError when PGPORT or DATABASE_URL cannot name one."""
    env = os.environ if environ is None else environ
    if env.get("DATABASE_URL"):
        return _from_url(env["DATABASE_URL"])
    return ConnectionSettings(
        host=env.get("PGHOST") or EMBEDDED_HOST,
        port=_port(env["PGPORT"], "PGPORT") if env.get("PGPORT") else EMBEDDED_PORT,
        user=env.get("PGUSER") or EMBEDDED_USER,
        password=env.get("PGPASSWORD") or "",
        dbname=env.get("PGDATABASE") or DEFAULT_DATABASE,
        # PGPORT alone still means the embedded server, moved off a busy port.
        is_embedded=not env.get("PGHOST"),
    )


def dbt_variables(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The variables dbt needs to reach the resolved server (profiles.yml reads PG*), with the DATABASE_URL they came
    from recorded, so that profiles.yml knows they were derived from it."""
    env = os.environ if environ is None else environ
    variables = resolve(env).as_env()
    if env.get("DATABASE_URL"):
        variables[PG_FROM_URL_VARIABLE] = env["DATABASE_URL"]
    return variables


def shell_exports(environ: dict[str, str] | None = None) -> list[str]:
    """`export` lines for a POSIX shell's eval, every value quoted: a URL's password is data, never code."""
    return [f"export {name}={shlex.quote(value)}" for name, value in dbt_variables(environ).items()]


def connect(settings: ConnectionSettings | None = None, dbname: str | None = None) -> pg_connection:
    settings = settings or resolve()
    try:
        return psycopg2.connect(**settings.connect_arguments(dbname), connect_timeout=5)
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split())
        if any(text in reason for text in LOGIN_REFUSALS):  # the server answered: it runs, the login is wrong
            hint = "check PGDATABASE/PGUSER/PGPASSWORD" + ("" if settings.is_embedded else " or DATABASE_URL")
        else:
            hint = "run `make db-up`" if settings.is_embedded else "check PGHOST/PGPORT/DATABASE_URL"
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
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(scratch.dbname)))
    return scratch


def drop_database(settings: ConnectionSettings) -> None:
    with maintenance_cursor(settings) as cursor:
        cursor.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(settings.dbname)))
