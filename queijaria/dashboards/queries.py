"""Cards' SQL run on the warehouse through SQLAlchemy, results as pandas frames.

A card's SQL is untrusted input, run read-only in three layers, as Metabase runs it:
1. sqlcheck.py: exactly one SELECT reading marts.* only, checked again after the filters are filled in;
2. a read-only transaction (sessions default to read-only too) that the single statement cannot leave, always
   rolled back, with a statement timeout so that a runaway card stops;
3. the read-only role Metabase connects as (reader.py), which may read the marts schema and nothing else.
There is no fallback to the owner of the data: it could read every layer and pass the first two layers'
mistakes straight to the data, and the preview would no longer show what Metabase shows (a card the reader
may not run fails here as it fails there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pandas as pd
import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from queijaria.dashboards.reader import (
    PASSWORD_VARIABLE,
    READER_ROLE,
    ReaderSetupError,
    ensure_reader,
    reader_password,
)
from queijaria.dashboards.spec import Card, Dashboard
from queijaria.dashboards.sqlcheck import MARTS_SCHEMA, UnsafeSqlError, check_card_sql
from queijaria.dashboards.template import TemplateError, parse_value, render
from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor, resolve

CARD_TIMEOUT_S = 30.0
# A card is drawn, not downloaded: more rows than this is a query that forgot to aggregate.
MAX_CARD_ROWS = 100_000
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# postmaster.pid's fourth line is the port the server listens on (PostgreSQL's pidfile.h).
PID_PORT_LINE = 3
# One process at a time sets up the reader role: CREATE/ALTER ROLE at once fail with "concurrently updated".
SETUP_LOCK_KEY = 0x51_7EAD


class CardQueryError(RuntimeError):
    """A card's query that cannot run or be read; the message says why (the caller names the card)."""


class ReaderUnavailableError(RuntimeError):
    """The read-only role cannot be used; the message says what to set or run."""


def engine_for(settings: ConnectionSettings | None = None, timeout_s: float = CARD_TIMEOUT_S) -> Engine:
    """An engine whose sessions are read-only, time out, see no schema unless named, and lex strings as sqlcheck
    does."""
    settings = settings or resolve()
    url = sa.URL.create(
        "postgresql+psycopg2",
        username=settings.user,
        password=settings.password or None,
        host=settings.host,
        port=settings.port,
        database=settings.dbname,
    )
    # search_path=pg_catalog: a name the static check took for a CTE but is none finds no table either.
    options = (
        "-c default_transaction_read_only=on -c standard_conforming_strings=on -c search_path=pg_catalog "
        f"-c statement_timeout={max(1, round(timeout_s * 1000))}"
    )
    return sa.create_engine(url, connect_args={"connect_timeout": 5, "options": options})


def reader_engine(settings: ConnectionSettings, timeout_s: float = CARD_TIMEOUT_S) -> Engine:
    """An engine connected as the read-only role Metabase uses (set up first on the embedded server)."""
    return engine_for(reader_settings(settings), timeout_s)


def reader_settings(settings: ConnectionSettings, environ: dict[str, str] | None = None) -> ConnectionSettings:
    """settings as the read-only role: its password from MB_READER_PASSWORD, or the embedded server's file."""
    env = dict(os.environ) if environ is None else environ
    if settings.user == READER_ROLE:
        # PGUSER names the role already; on the embedded server its password need not be typed.
        if not settings.password and _is_embedded(settings):
            return replace(settings, password=_known_password(replace(settings, is_embedded=True), env))
        return settings
    if not _is_embedded(settings):
        if not env.get(PASSWORD_VARIABLE):
            raise ReaderUnavailableError(
                f"set {PASSWORD_VARIABLE} to the password of the read-only role {READER_ROLE} on "
                f"{settings.describe()} (`queijaria dashboards reader` creates the role): the preview runs the "
                "cards' SQL as that role, as Metabase does, never as the owner of the data"
            )
        return replace(settings, user=READER_ROLE, password=env[PASSWORD_VARIABLE])
    embedded = replace(settings, is_embedded=True)
    try:
        with _setup_lock(embedded):
            if not _reads_marts(replace(settings, user=READER_ROLE, password=_known_password(embedded, env))):
                # None keeps the password of a role that exists (or generates one for a new role).
                ensure_reader(embedded, env.get(PASSWORD_VARIABLE) or None)
            return replace(settings, user=READER_ROLE, password=reader_password(embedded, env))
    except (ReaderSetupError, ConnectionError, OSError, psycopg2.Error) as error:
        raise ReaderUnavailableError(
            f"cannot use the read-only role {READER_ROLE} the cards run as: {error}"
        ) from error


def _known_password(settings: ConnectionSettings, env: dict[str, str]) -> str:
    """MB_READER_PASSWORD or the embedded server's generated one; "" before the role was ever set up."""
    try:
        return reader_password(settings, env)
    except ReaderSetupError:
        return ""


def _is_embedded(settings: ConnectionSettings) -> bool:
    """The project's embedded server, also when `eval "$(queijaria db env)"` exported its PGHOST."""
    if settings.is_embedded:
        return True
    if settings.host not in LOOPBACK:
        return False
    from queijaria.db.embedded import embedded_server

    try:
        lines = (embedded_server().pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[PID_PORT_LINE]) == settings.port
    except (OSError, ValueError, IndexError):
        return False


@contextmanager
def _setup_lock(settings: ConnectionSettings) -> Iterator[None]:
    # Advisory locks belong to one database, roles to the whole server: the lock is taken in `postgres`, and
    # released when that session closes.
    with maintenance_cursor(settings) as cursor:
        cursor.execute("select pg_advisory_lock(%s)", (SETUP_LOCK_KEY,))
        yield


def _reads_marts(reader: ConnectionSettings) -> bool:
    """Whether the role logs in with this password and may use the marts schema of this database."""
    if not reader.password:
        return False
    try:
        conn = connect(reader)
    except ConnectionError:
        return False
    try:
        with conn.cursor() as cursor:
            cursor.execute("select has_schema_privilege(%s, 'usage')", (MARTS_SCHEMA,))
            return bool(cursor.fetchone()[0])
    except psycopg2.Error:
        return False
    finally:
        conn.close()


def default_values(dashboard: Dashboard) -> dict[str, Any]:
    """The filter values a dashboard opens with: its filters' defaults."""
    return {item.name: parse_value(item.type, item.default) for item in dashboard.filters if item.default is not None}


def run_card(engine: Engine, card: Card, values: dict[str, Any], max_rows: int = MAX_CARD_ROWS) -> pd.DataFrame:
    try:
        sql, parameters = render(card.sql, values)
        # Again after rendering: dropping an optional clause can change what the text says.
        check_card_sql(sql)
    except TemplateError as error:
        raise CardQueryError(str(error)) from error
    except UnsafeSqlError as error:
        raise CardQueryError(f"the SQL {error}") from error
    frame = read_only_query(engine, sql, parameters, max_rows)
    # PostgreSQL numeric arrives as Decimal objects; charts and JSON want floats.
    for column in frame.columns:
        if frame[column].map(lambda value: isinstance(value, Decimal)).any():
            frame[column] = frame[column].astype(float)
    return frame


def read_only_query(
    engine: Engine, sql: str, parameters: dict[str, Any] | None = None, max_rows: int = MAX_CARD_ROWS
) -> pd.DataFrame:
    """One statement in a read-only transaction that is always rolled back; at most max_rows rows read."""
    try:
        compiled = sa.text(sql).compile(dialect=engine.dialect)
        statement, values = str(compiled), compiled.construct_params(parameters or {})
    except sa.exc.SQLAlchemyError as error:
        # e.g. ":name" in the text that no filter fills (SQLAlchemy reads it as a bind parameter)
        raise CardQueryError(str(error).splitlines()[0].split(" (Background")[0]) from error
    try:
        connection = engine.raw_connection()
    except (sa.exc.DBAPIError, psycopg2.Error) as error:
        raise CardQueryError(_connection_reason(engine, getattr(error, "orig", error))) from error
    try:
        columns, rows = _fetch(connection, statement, values, max_rows)
    except psycopg2.Error as error:
        raise CardQueryError(_query_reason(error)) from error
    finally:
        _end(connection)
    if len(rows) > max_rows:
        raise CardQueryError(f"returns more than {max_rows} rows; aggregate, or add a limit")
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _fetch(connection: Any, statement: str, values: dict[str, Any], max_rows: int) -> tuple[list[str], list[Any]]:
    """Through a server-side cursor, so that a card returning millions of rows is refused, not held in memory."""
    with connection.cursor() as cursor:
        cursor.execute("set transaction read only")
    cursor = connection.cursor(name="card")
    cursor.execute(statement, values)
    rows = cursor.fetchmany(max_rows + 1)
    return [column.name for column in cursor.description], rows


def _end(connection: Any) -> None:
    """Roll back whatever happened and give the connection back; a broken one is dropped by the pool."""
    try:
        connection.rollback()
    except psycopg2.Error:
        connection.invalidate()
    connection.close()


def _connection_reason(engine: Engine, error: BaseException) -> str:
    reason = " ".join(str(error).split())
    where = f"postgresql://{engine.url.username}@{engine.url.host}:{engine.url.port}/{engine.url.database}"
    refused = any(text in reason for text in ("password", "authentication", "permission denied"))
    if refused and engine.url.username == READER_ROLE:
        hint = (
            f"the cards run as the read-only role {READER_ROLE}: its password must be {PASSWORD_VARIABLE} "
            "(or PGPASSWORD when PGUSER names it); `queijaria dashboards reader` sets it"
        )
    else:
        hint = "is the server up? `make db-up`" if not refused else "check PGUSER and PGPASSWORD"
    return f"cannot connect to {where}: {reason} ({hint})"


def _query_reason(error: psycopg2.Error) -> str:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    code = error.pgcode
    if code == "57014":
        return f"{reason}: the query ran past the statement timeout and was stopped (make it cheaper or narrower)"
    if code == "42501":
        return (
            f"{reason} (the cards run as the read-only role {READER_ROLE}, which reads the {MARTS_SCHEMA} schema "
            "only; `queijaria dashboards reader` grants it every mart)"
        )
    if code == "42P01":
        return f"{reason} (run `make build` so the marts exist)"
    return reason
