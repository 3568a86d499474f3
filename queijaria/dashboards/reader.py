"""The read-only role Metabase connects as: SELECT on the marts schema, tables created there later included
(default privileges of the application role, which creates them), and nothing else: no other database of the
server, no temporary tables.

The role itself is cluster-wide and needs a role-creating connection: on the embedded server the superuser
(queijaria/db/access.py keeps its password), on another server the configured user (the compose file's
`queijaria` is its superuser). The grants on the marts are per database and run as the application role, owner
of the marts. PUBLIC may connect to every database and create temporary tables in it, which would give the role
both: the set-up takes CONNECT and TEMPORARY from PUBLIC on every database of the embedded server (elsewhere on
the ones the configured role owns), and grants them explicitly to who needs them (the reader: CONNECT on its
database; the application role: CONNECT and TEMPORARY on it, CONNECT on `postgres`, where it creates and drops
databases; owners keep theirs). A database created later starts with PUBLIC's CONNECT again, until the next
set-up (`make dashboards` runs it every time).

Its password comes from MB_READER_PASSWORD. Without it, a role that exists keeps the password it has (never
replaced silently); a new one on the embedded server gets a generated password, kept beside the superuser's
(.pgdata/metabase_reader.password, mode 0600), which `make dashboards` then gives Metabase.
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
MARTS_SCHEMA = "marts"
SETUP_LOCK = 0x4D425244  # "MBRD": any fixed key of this project


class ReaderSetupError(RuntimeError):
    """The read-only role cannot be set up; the message says why and what to do."""


def password_file(role: str = READER_ROLE) -> Path:
    return embedded_server().pgdata / f"{role}.password"


def reader_password(settings: ConnectionSettings, environ: dict[str, str] | None = None) -> str:
    """The password to give Metabase: MB_READER_PASSWORD, else the one generated for the embedded server."""
    env = os.environ if environ is None else environ
    if env.get(PASSWORD_VARIABLE):
        return env[PASSWORD_VARIABLE]
    if settings.is_embedded and password_file().exists():
        return password_file().read_text().strip()
    raise ReaderSetupError(
        f"set {PASSWORD_VARIABLE}: the password of the read-only role {READER_ROLE} that Metabase uses "
        f"on {settings.describe()}"
    )


def _generated_password(settings: ConnectionSettings, role: str) -> str:
    if not settings.is_embedded:
        raise ReaderSetupError(
            f"set {PASSWORD_VARIABLE}: the password of the new read-only role {role} on {settings.describe()}"
        )
    path = password_file(role)
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


def ensure_reader(settings: ConnectionSettings, password: str | None, role: str = READER_ROLE) -> str:
    """Create or update the role and grant it the marts of settings' database; idempotent. A None password keeps
    the password of a role that exists. Returns what became of the password, for the user."""
    admin = role_admin_settings(settings)
    try:
        with maintenance_cursor(admin) as cursor:
            # Two set-ups at once would update the same pg_database rows ("tuple concurrently updated"): one waits.
            cursor.execute("select pg_advisory_lock(%s)", (SETUP_LOCK,))
            try:
                note = _ensure_role(cursor, settings, role, password)
                _limit_databases(cursor, settings, role)
            finally:
                cursor.execute("select pg_advisory_unlock(%s)", (SETUP_LOCK,))
        _grant_marts(settings, role)
    except psycopg2.errors.InsufficientPrivilege as error:
        raise ReaderSetupError(
            f"{admin.user} may not create roles or grant on {settings.describe()}: {error.pgerror.strip()} "
            "(connect as the database owner with CREATEROLE, or create the role once as a superuser)"
        ) from error
    except ConnectionError as error:
        raise ReaderSetupError(str(error)) from error
    return note


def _password_plan(
    settings: ConnectionSettings, role: str, exists: bool, password: str | None
) -> tuple[str | None, str]:
    """The password to set (None: keep the role's) and what to tell the user about it."""
    if password is None:
        if exists:
            return None, f"kept its password ({PASSWORD_VARIABLE} is not set)"
        return _generated_password(settings, role), f"password generated and kept in {password_file(role)}"
    stale = settings.is_embedded and password_file(role).exists()
    if stale and password_file(role).read_text().strip() != password:
        # The generated password no longer opens the role: `make dashboards` must not hand it to Metabase.
        password_file(role).unlink()
    return password, f"password set from {PASSWORD_VARIABLE}"


def _ensure_role(
    cursor: psycopg2.extensions.cursor, settings: ConnectionSettings, role: str, password: str | None
) -> str:
    name = sql.Identifier(role)
    cursor.execute("select 1 from pg_roles where rolname = %s", (role,))
    exists = cursor.fetchone() is not None
    password, note = _password_plan(settings, role, exists, password)
    if not exists:
        cursor.execute(sql.SQL("create role {} login").format(name))
    # Exactly these powers, also for a role of that name made earlier by hand; read-only sessions by default.
    cursor.execute(
        sql.SQL("alter role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls noinherit").format(
            name
        )
    )
    if password is not None:
        secret = encrypt_password(password, role, cursor, "scram-sha-256")
        cursor.execute(sql.SQL("alter role {} password {}").format(name, sql.Literal(secret)))
    cursor.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(name))
    return note


def _limit_databases(cursor: psycopg2.extensions.cursor, settings: ConnectionSettings, role: str) -> None:
    """CONNECT and TEMPORARY of PUBLIC taken on the databases of the project's own server, and given back by name
    to who needs them; database owners keep theirs without a grant.

    The embedded server holds the project's databases only, so all of them. On another server only the databases
    the configured role owns itself (not every one a superuser could change): other people's databases there are
    theirs to restrict, with pg_hba.conf (the compose file's server does it for Metabase's own database).
    """
    cursor.execute(
        "select datname from pg_database where datallowconn and (%s or datdba = current_user::text::regrole)",
        (settings.is_embedded,),
    )
    databases = [database for (database,) in cursor.fetchall()]
    for database in databases:
        try:
            cursor.execute(
                sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(database))
            )
        except psycopg2.errors.InvalidCatalogName:
            continue  # dropped since the list was read (scratch databases of tests and benchmarks come and go)
    project, app = sql.Identifier(settings.dbname), sql.Identifier(settings.user)
    cursor.execute(sql.SQL("grant connect on database {} to {}").format(project, sql.Identifier(role)))
    cursor.execute(sql.SQL("grant connect, temporary on database {} to {}").format(project, app))
    if "postgres" in databases:
        cursor.execute(sql.SQL("grant connect on database postgres to {}").format(app))


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
    finally:
        conn.close()
