"""Who may connect to the embedded server, and with which powers.

- The application role (connection.EMBEDDED_USER, `queijaria`): the loader, dbt, the tests and the bench
  connect as it. It owns the project database and everything in it and may create databases (the tests and
  the bench use scratch ones), but it is no superuser, cannot create roles, and is in none of
  pg_execute_server_program, pg_read_server_files, pg_write_server_files: `copy ... from program` and server
  file access are refused to it (pg_signal_backend lets it end the non-superuser sessions of a database it
  drops). pg_hba trusts it on loopback, so `make generate && dbt build` needs nothing
  exported (profiles.yml has no password to read); the cost is that any local account can use the project's
  data, never the server's OS account.
- The superuser `postgres`, for set-up only: its password is generated at the first start and kept in
  .pgdata/superuser.password (mode 0600, removed with the cluster); pg_hba asks for it with scram-sha-256.

The rules file is the record of a finished set-up: it is written last, so a set-up that stopped half-way is
redone by the next `make db-up` (every step is idempotent).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor
from psycopg2.extensions import encrypt_password

from queijaria.db.connection import ConnectionSettings, connect, maintenance_cursor

SUPERUSER = "postgres"
PASSWORD_FILE = "superuser.password"
HBA_FILE = "pg_hba.conf"
# Predefined roles that give a non-superuser the server's OS account (programs) or its files.
SERVER_ACCESS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")

# New databases sort text in code-point order, as with the usual C.UTF-8 locale, but through PostgreSQL's own
# provider: it compares bytes instead of calling strcoll, which makes every sort and index on text ids faster
# (the bulk primary-key build of a load by a sixth) and does not depend on the locales the machine has.
# pgserver runs initdb with the machine's locale, so template1, which every `create database` copies, is
# recreated once from template0 with this one (the procedure of PostgreSQL's "Template Databases" chapter).
BUILTIN_TEMPLATE1_SQL = (
    "alter database template1 is_template false",
    "drop database template1",
    "create database template1 template template0 locale_provider builtin builtin_locale 'C.UTF-8' is_template true",
)

# What the superuser created in the project database before the application role existed (a .pgdata of the
# previous version, where everything ran as `postgres`), as `alter <kind> <name> owner to` targets. Names come
# back quoted by the server; extension members and sequences that follow their table's column are left out.
SUPERUSER_OBJECTS_SQL = """
with owned (kind, name, namespace) as (
    select 'schema', quote_ident(n.nspname), n.oid
    from pg_namespace as n
    where n.nspowner = %(superuser)s::regrole
    union all
    select
        case c.relkind
            when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
            when 'f' then 'foreign table' else 'table'
        end,
        format('%%I.%%I', n.nspname, c.relname),
        c.relnamespace
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where c.relowner = %(superuser)s::regrole
        and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
        and not exists (
            select from pg_depend as d
            where d.classid = 'pg_class'::regclass and d.objid = c.oid
                and (d.deptype = 'e' or (c.relkind = 'S' and d.deptype in ('a', 'i')))
        )
    union all
    select 'routine', p.oid::regprocedure::text, p.pronamespace
    from pg_proc as p
    where p.proowner = %(superuser)s::regrole
        and p.prokind in ('f', 'p')
        and not exists (
            select from pg_depend as d
            where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
        )
    union all
    select case t.typtype when 'd' then 'domain' else 'type' end, t.oid::regtype::text, t.typnamespace
    from pg_type as t
    where t.typowner = %(superuser)s::regrole
        and (
            t.typtype in ('d', 'e', 'r')
            or (t.typtype = 'c' and (select c.relkind from pg_class as c where c.oid = t.typrelid) = 'c')
        )
        and not exists (
            select from pg_depend as d
            where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e'
        )
)
select owned.kind, owned.name
from owned
inner join pg_namespace as n on owned.namespace = n.oid
where n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
"""


class AccessSetupError(RuntimeError):
    """The set-up cannot proceed; the message says what to do."""


def password_file(pgdata: Path) -> Path:
    return pgdata / PASSWORD_FILE


def superuser_password(pgdata: Path) -> str:
    """The superuser's password, generated and stored (owner-only) on first use."""
    path = password_file(pgdata)
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(32)
    partial = path.with_name(f".{PASSWORD_FILE}.{os.getpid()}")
    # Created with mode 0600 from the start: no moment where the password is readable by others.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    partial.replace(path)
    return password


def superuser_settings(app: ConnectionSettings, pgdata: Path) -> ConnectionSettings:
    return ConnectionSettings(
        host=app.host,
        port=app.port,
        user=SUPERUSER,
        password=superuser_password(pgdata),
        dbname=app.dbname,
        is_embedded=True,
    )


def _hba_name(name: str) -> str:
    """A role name as a pg_hba.conf token: quoted (no name is read as a keyword, group or file), quotes doubled."""
    if "\n" in name or "\r" in name:
        raise AccessSetupError(
            f"the role name {name!r} has a line break; choose another PGUSER for the embedded server"
        )
    return '"' + name.replace('"', '""') + '"'


def hba_rules(app_role: str | None) -> str:
    """pg_hba.conf: the application role trusted on loopback, everyone else (the superuser) by password.

    None gives the rules before the application role exists: password only.
    """
    lines = [
        # The first line names the set-up's version: a set-up that grants more (v2: pg_signal_backend) differs,
        # so `make db-up` runs it again on a server an older version set up.
        "# Written by queijaria (queijaria/db/access.py, set-up v2) at each `make db-up` that finds it different.",
        "# TYPE  DATABASE  USER  ADDRESS  METHOD",
    ]
    if app_role is not None:
        lines.append(f"host all {_hba_name(app_role)} 127.0.0.1/32 trust")
    lines.append("host all all 127.0.0.1/32 scram-sha-256")
    return "\n".join(lines) + "\n"


def is_set_up(pgdata: Path, app_role: str) -> bool:
    try:
        return (pgdata / HBA_FILE).read_text() == hba_rules(app_role)
    except FileNotFoundError:
        return False


def write_hba(pgdata: Path, app_role: str | None) -> None:
    # Rewritten in place: the file keeps the owner and mode that initdb gave it (the server's OS account).
    (pgdata / HBA_FILE).write_text(hba_rules(app_role))


def set_up(app: ConnectionSettings, pgdata: Path) -> None:
    """Roles, ownership, the superuser's password and pg_hba, on a running server; idempotent."""
    superuser = superuser_settings(app, pgdata)
    try:
        with maintenance_cursor(superuser) as cursor:
            _use_builtin_template1(cursor)
            _ensure_app_role(cursor, app.user)
            _ensure_app_database(cursor, app.user, app.dbname)
        _hand_over_superuser_objects(superuser, app.user)
        with maintenance_cursor(superuser) as cursor:
            cursor.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(SUPERUSER),
                    sql.Literal(encrypt_password(superuser.password, SUPERUSER, cursor, "scram-sha-256")),
                )
            )
            write_hba(pgdata, app.user)
            _reload_hba(cursor, superuser)
    except ConnectionError as error:
        raise AccessSetupError(
            f"{error}. The embedded server's superuser password is kept in {password_file(pgdata)}; if that "
            "file was removed or changed, remove it and run `make db-down db-up`, which sets a new one."
        ) from error


def _use_builtin_template1(cursor: pg_cursor) -> None:
    cursor.execute("select datlocprovider::text from pg_database where datname = 'template1'")
    if cursor.fetchone()[0] != "b":
        for statement in BUILTIN_TEMPLATE1_SQL:
            cursor.execute(statement)


def _ensure_app_role(cursor: pg_cursor, app_role: str) -> None:
    role = sql.Identifier(app_role)
    cursor.execute("select 1 from pg_roles where rolname = %s", (app_role,))
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("create role {} login createdb").format(role))
    # Also for a role of that name made by hand earlier: exactly these powers, no more.
    cursor.execute(
        sql.SQL("alter role {} login createdb nosuperuser nocreaterole noreplication nobypassrls").format(role)
    )
    cursor.execute(
        "select granted.rolname from pg_auth_members as m "
        "inner join pg_roles as granted on m.roleid = granted.oid "
        "inner join pg_roles as member on m.member = member.oid "
        "where member.rolname = %s and granted.rolname = any(%s)",
        (app_role, list(SERVER_ACCESS_ROLES)),
    )
    for (granted,) in cursor.fetchall():
        cursor.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(granted), role))
    # `drop database ... with (force)` of a scratch database must end the autovacuum worker that is analysing
    # its freshly loaded tables; pg_signal_backend allows that, and never reaches a superuser's session.
    cursor.execute(sql.SQL("grant pg_signal_backend to {}").format(role))


def _ensure_app_database(cursor: pg_cursor, app_role: str, dbname: str) -> None:
    cursor.execute("select 1 from pg_database where datname = %s", (dbname,))
    statement = "alter database {} owner to {}" if cursor.fetchone() else "create database {} owner {}"
    cursor.execute(sql.SQL(statement).format(sql.Identifier(dbname), sql.Identifier(app_role)))


def _hand_over_superuser_objects(superuser: ConnectionSettings, app_role: str) -> None:
    """Schemas, tables, views, functions and types the superuser owns in the project database go to the app
    role (REASSIGN OWNED cannot take them from the bootstrap superuser)."""
    conn = connect(superuser)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(SUPERUSER_OBJECTS_SQL, {"superuser": SUPERUSER})
            for kind, name in cursor.fetchall():
                cursor.execute(
                    sql.SQL("alter {} {} owner to {}").format(sql.SQL(kind), sql.SQL(name), sql.Identifier(app_role))
                )
    finally:
        conn.close()


def _reload_hba(cursor: pg_cursor, superuser: ConnectionSettings, timeout_s: float = 10.0) -> None:
    """Check the new rules, make the server read them, and wait until new connections get them."""
    cursor.execute("select line_number, error from pg_hba_file_rules where error is not null")
    errors = cursor.fetchall()
    if errors:
        raise AccessSetupError(f"pg_hba.conf was refused by the server: {errors}")
    cursor.execute("select pg_conf_load_time()")
    loaded_before = cursor.fetchone()[0]
    cursor.execute("select pg_reload_conf()")
    # The postmaster reloads asynchronously; a session started after the reload reports its new load time.
    deadline = time.monotonic() + timeout_s
    while True:
        with maintenance_cursor(superuser) as probe:
            probe.execute("select pg_conf_load_time()")
            if probe.fetchone()[0] > loaded_before:
                return
        if time.monotonic() > deadline:
            raise AccessSetupError("the embedded server did not reload pg_hba.conf; see its log in .pgdata/log")
        time.sleep(0.05)
