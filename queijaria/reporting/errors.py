"""What `queijaria summary` and `queijaria report` say when PostgreSQL refuses a query: one line the user can act on."""

from __future__ import annotations

import psycopg2

from queijaria.db.connection import EMBEDDED_USER, ConnectionSettings


def query_failure(error: psycopg2.Error, settings: ConnectionSettings, reads: str) -> str:
    """The message for a query of a command that `reads` (e.g. "the raw to marts schemas") that failed."""
    reason = (error.diag.message_primary if error.diag else None) or " ".join(str(error).split())
    if isinstance(error, psycopg2.errors.InsufficientPrivilege):
        # The read-only role of the dashboards (metabase_reader) sees the marts only; the reports read more.
        return (
            f"role {settings.user!r} cannot read what this command needs ({reason}): it reads {reads}. "
            f"Run it as the role that loads and builds the data ({EMBEDDED_USER!r} by default: unset PGUSER and "
            "PGPASSWORD, or set them to that role)"
        )
    return f"PostgreSQL at {settings.describe()} failed the query: {reason}"
