"""What stops a load other than its data, as one clear error: the load is rolled back and says why.

A lock on the raw tables held too long by another session (named: pid, user, application, state, since when, query),
the server closing the connection, Ctrl-C or a query cancelled from another session (LoadInterrupted), a statement
timeout, or any other refusal of the server. None of them is worth the diagnosis' second reading of the file.
"""

from __future__ import annotations

import contextlib

import psycopg2
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor

from queijaria.loading.diagnosis import shown
from queijaria.loading.errors import LoadError, LoadInterrupted
from queijaria.loading.raw_schema import RAW_SCHEMA

# A load waits this long for a lock on the raw tables (held by a reader's open transaction, a dbt run) before it
# gives up and names the sessions holding them; while it waits, new readers of those tables queue behind it.
LOCK_TIMEOUT = "5s"
QUERY_CANCELED = "57014"
LOCK_NOT_AVAILABLE = "55P03"


def _blocking_sessions(cursor: pg_cursor) -> list[str]:
    """The other sessions holding a lock on a raw table, described for the user (oldest transaction first)."""
    cursor.execute(
        """
        select
            a.pid,
            a.usename,
            a.application_name,
            a.state,
            to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS'),
            extract(epoch from clock_timestamp() - coalesce(a.xact_start, a.backend_start))::bigint,
            a.query
        from pg_stat_activity as a
        where a.pid <> pg_backend_pid() and a.pid in (
            select l.pid
            from pg_locks as l
            inner join pg_class as c on c.oid = l.relation
            where l.granted and c.relnamespace = %s::regnamespace
        )
        order by coalesce(a.xact_start, a.backend_start)
        """,
        (RAW_SCHEMA,),
    )
    return [
        f"pid {pid} (user {user}, application {shown(application or '')}, {state or 'unknown state'}, "
        f"transaction open since {since}, {seconds} s ago; "
        f"last query {shown(' '.join((query or '').split()), limit=200)})"
        for pid, user, application, state, since, seconds, query in cursor.fetchall()
    ]


def _lock_timeout_error(conn: pg_connection) -> LoadError:
    try:
        with conn.cursor() as cursor:
            sessions = _blocking_sessions(cursor)
        conn.rollback()
    except psycopg2.Error:
        sessions = []
    problem = f"gave up after waiting {LOCK_TIMEOUT} for a lock on the raw tables"
    if not sessions:
        return LoadError(None, f"{problem}; no session holds one any more: load again")
    return LoadError(
        None,
        f"{problem}, held by {'; '.join(sessions)}. End the transaction (commit or rollback in that session, or "
        "select pg_terminate_backend(<pid>)) and load again",
    )


def clear_error(conn: pg_connection, error: BaseException, *, committing: bool) -> BaseException:
    """The one clear error a failed load ends in; the transaction is rolled back (or died with its connection)."""
    with contextlib.suppress(psycopg2.Error):  # when the connection is gone, the server rolled back
        conn.rollback()
    if isinstance(error, LoadError | LoadInterrupted):
        return error
    if isinstance(error, KeyboardInterrupt):
        return LoadInterrupted()
    if isinstance(error, OSError):  # a file that vanished or cannot be read between the plan and its COPY
        return LoadError(error.filename, f"cannot be read: {error.strerror or error}")
    if not isinstance(error, psycopg2.Error):
        return error
    reason = next((line.strip() for line in str(error).splitlines() if line.strip()), error.__class__.__name__)
    if conn.closed:
        lost = "the PostgreSQL server closed the connection"
        if not reason.startswith("server closed the connection"):
            lost += f" ({reason})"
        lost += ": it stopped, or the session was ended from another one"
        if committing:
            return LoadError(
                None,
                f"{lost} during the commit: the load may or may not have been committed; run it again (a batch "
                "already loaded is skipped)",
                rolled_back=False,
            )
        return LoadError(None, f"{lost}; load again once the server is back")
    if error.pgcode == QUERY_CANCELED and "statement timeout" in reason:
        return LoadError(None, f"PostgreSQL stopped a statement of the load ({reason}): raise statement_timeout")
    if error.pgcode == QUERY_CANCELED:
        return LoadInterrupted("query cancelled")
    if error.pgcode == LOCK_NOT_AVAILABLE:
        return _lock_timeout_error(conn)
    return LoadError(None, f"PostgreSQL refused the load: {reason}")
