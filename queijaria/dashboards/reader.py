"""The read-only role Metabase connects as: SELECT on the marts schema, tables created there later included
(default privileges of the application role, which creates them), and nothing else.

The role itself is cluster-wide and needs a role-creating connection: on the embedded server the superuser
(queijaria/db/access.py keeps its password), on another server the configured user (the compose file's
`queijaria` is its superuser). The grants are per database and run as the application role, owner of the marts.
Its password comes from MB_READER_PASSWORD; on the embedded server, when unset, one is generated and kept
beside the superuser's (.pgdata/metabase_reader.password, mode 0600).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from queijaria.db.access import superuser_settings
from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor
from queijaria.db.embedded import embedded_server

READER_ROLE = "metabase_reader"
PASSWORD_VARIABLE = "MB_READER_PASSWORD"
PASSWORD_FILE = "metabase_reader.password"
MARTS_SCHEMA = "marts"


class ReaderSetupError(RuntimeError):
    """The read-only role cannot be set up; the message says why and what to do."""


def reader_password(settings: ConnectionSettings, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get(PASSWORD_VARIABLE):
        return env[PASSWORD_VARIABLE]
    if not settings.is_embedded:
        raise ReaderSetupError(
            f"set {PASSWORD_VARIABLE}: the password of the read-only role {READER_ROLE} that Metabase uses "
            f"on {settings.describe()}"
        )
    path = embedded_server().pgdata / PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    return password


def role_admin_settings(settings: ConnectionSettings) -> ConnectionSettings:
    """Who may create roles: the embedded server's superuser, or the configured user elsewhere."""
    if settings.is_embedded:
        pgdata: Path = embedded_server().pgdata
        return replace(superuser_settings(settings, pgdata), dbname=settings.dbname)
    return settings


def ensure_reader(settings: ConnectionSettings, password: str, role: str = READER_ROLE) -> None:
    """Create or update the role and grant it the marts of settings' database; idempotent."""
    admin = role_admin_settings(settings)
    try:
        with maintenance_cursor(admin) as cursor:
            _ensure_role(cursor, role, password)
        _grant_marts(settings, role)
    except psycopg2.errors.InsufficientPrivilege as error:
        raise ReaderSetupError(
            f"{admin.user} may not create roles or grant on {settings.describe()}: {error.pgerror.strip()} "
            "(connect as the database owner with CREATEROLE, or create the role once as a superuser)"
        ) from error
    except ConnectionError as error:
        raise ReaderSetupError(str(error)) from error


def _ensure_role(cursor: psycopg2.extensions.cursor, role: str, password: str) -> None:
    name = sql.Identifier(role)
    cursor.execute("select 1 from pg_roles where rolname = %s", (role,))
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("create role {} login").format(name))
    secret = encrypt_password(password, role, cursor, "scram-sha-256")
    # Exactly these powers, also for a role of that name made earlier by hand; read-only sessions by default.
    cursor.execute(
        sql.SQL(
            "alter role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls noinherit password {}"
        ).format(name, sql.Literal(secret))
    )
    cursor.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(name))


def _grant_marts(settings: ConnectionSettings, role: str) -> None:
    """As the application role: usage and select on marts, and on every table it creates there later."""
    name, schema = sql.Identifier(role), sql.Identifier(MARTS_SCHEMA)
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("create schema if not exists {}").format(schema))
            cursor.execute(sql.SQL("grant usage on schema {} to {}").format(schema, name))
            cursor.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, name))
            cursor.execute(
                sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(schema, name)
            )
            # PUBLIC may create temporary tables in a new database; the reader may not (the owner keeps it).
            cursor.execute(
                sql.SQL("revoke temporary on database {} from public").format(sql.Identifier(settings.dbname))
            )
    finally:
        conn.close()
