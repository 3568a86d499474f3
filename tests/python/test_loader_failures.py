"""Whatever stops a load ends in one clear message with nothing loaded: a lock held by an idle reader (named, after
a short wait instead of forever), the server closing the connection, Ctrl-C or a cancelled query (at once, exit code
130, no diagnosis), and user data that looks like rich markup or emoji codes (printed literally)."""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from test_loader import FIRST, out, run_load_command, set_field, settings, snapshot

from benchmarks.loading import iot_rows
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.loading import LoadError, load
from queijaria.loading.command import RichReporter
from queijaria.loading.errors import LoadInterrupted
from queijaria.loading.loader import APPLICATION_NAME, LOCK_KEY, Reporter
from queijaria.loading.manifest import Batch
from queijaria.loading.sample_batch import write_batch, write_csv, write_manifest

__all__ = ["out", "settings"]  # fixtures shared with test_loader.py


LOADER_PIDS = """
    select pid from pg_locks
    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = %s)
"""


def on_loader_backend(settings: ConnectionSettings, function: str) -> None:
    """Call pg_terminate_backend or pg_cancel_backend on the running load's server process, from another session.

    The load is the session holding the loader's advisory lock.
    """
    conn = connect(settings)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"select {function}(pid) from ({LOADER_PIDS}) as loader", (settings.dbname,))
        assert cursor.fetchall() == [(True,)]
    conn.close()


def big_iot_batch(out: Path, rows: int) -> Path:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 1))
    write_csv(folder / "iot_readings.csv", "iot_readings", iot_rows(rows, scenario="heatwave"))
    write_manifest(folder)
    return folder


def test_lock_held_by_an_idle_reader_times_out_and_names_the_session(out: Path, settings: ConnectionSettings) -> None:
    reader = connect(settings)
    with reader.cursor() as cursor:  # psql-like session: read raw, then leave the transaction open
        cursor.execute("set application_name = 'analyst psql'")
        cursor.execute("select pg_backend_pid(), count(*) from raw.iot_readings")
        pid = cursor.fetchone()[0]
    (out / "baseline" / FIRST / "manifest.json").unlink()  # a fresh simulation replaces the baseline's partitions
    write_batch(out, "baseline", date(2025, 2, 1), date(2025, 2, 2))
    before = snapshot(settings)
    try:
        with pytest.raises(LoadError) as caught:
            load(out, ["baseline"], settings=settings)
    finally:
        reader.rollback()
        reader.close()
    message = caught.value.message
    assert f"pid {pid}" in message and "'analyst psql'" in message and "idle in transaction" in message, message
    assert "select pg_backend_pid(), count(*) from raw.iot_readings" in message
    assert snapshot(settings) == before
    # once the reader is gone, the same load goes through
    assert {done.batch for done in load(out, ["baseline"], settings=settings).loads} == {"2025-02-01_2025-02-02"}


class TerminateAt(Reporter):
    def __init__(self, settings: ConnectionSettings, dataset: str):
        self.settings, self.dataset = settings, dataset

    def file_start(self, batch: Batch, dataset: str, total_bytes: int) -> None:
        if dataset == self.dataset:
            on_loader_backend(self.settings, "pg_terminate_backend")


def test_server_closing_the_connection_mid_load_is_one_clear_error(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    before = snapshot(settings)
    with pytest.raises(LoadError) as caught:
        load(out, settings=settings, reporter=TerminateAt(settings, "energy_readings"))
    assert caught.value.message.startswith("the PostgreSQL server closed the connection"), caught.value.message
    assert snapshot(settings) == before


def test_load_command_prints_one_message_when_the_server_goes_away(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    terminate = TerminateAt(settings, "quality_samples")
    monkeypatch.setattr(RichReporter, "file_start", lambda self, *args: terminate.file_start(*args))
    result = run_load_command(settings, monkeypatch, "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "load failed, nothing was loaded: the PostgreSQL server closed the connection" in result.output
    assert "Traceback" not in result.output and result.output.count("load failed") == 1


@pytest.mark.parametrize("value", ["[/oops]", ":x: [bold]not bold[/bold]"])
def test_load_command_prints_user_data_literally(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, "iot_readings", 3, "value", value)
    result = run_load_command(settings, monkeypatch, "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"{value!r} is not a number" in result.output, result.output
    assert "❌" not in result.output


class InterruptAt(Reporter):
    """Ctrl-C while the IoT readings are being sent to the server."""

    def __init__(self, dataset: str):
        self.dataset, self.current = dataset, ""

    def file_start(self, batch: Batch, dataset: str, total_bytes: int) -> None:
        self.current = dataset

    def file_bytes(self, count: int) -> None:
        if self.current == self.dataset:
            raise KeyboardInterrupt


def test_ctrl_c_during_copy_stops_the_load_with_nothing_loaded(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    before = snapshot(settings)
    with pytest.raises(LoadInterrupted):
        load(out, settings=settings, reporter=InterruptAt("iot_readings"))
    assert snapshot(settings) == before


class CancelAt(InterruptAt):
    """pg_cancel_backend from another session while the IoT readings are being sent."""

    def __init__(self, settings: ConnectionSettings, dataset: str):
        super().__init__(dataset)
        self.settings, self.cancelled = settings, False

    def file_bytes(self, count: int) -> None:
        if self.current == self.dataset and not self.cancelled:
            self.cancelled = True
            on_loader_backend(self.settings, "pg_cancel_backend")


def test_query_cancelled_from_another_session_is_an_interrupt(out: Path, settings: ConnectionSettings) -> None:
    big_iot_batch(out, 300_000)  # several chunks: the COPY is still running when the cancel arrives
    before = snapshot(settings)
    with pytest.raises(LoadInterrupted):
        load(out, settings=settings, reporter=CancelAt(settings, "iot_readings"))
    assert snapshot(settings) == before


def test_ctrl_c_on_the_load_command_exits_130_at_once(out: Path, settings: ConnectionSettings) -> None:
    """A real SIGINT to a real `queijaria load` while it COPYs a large file: no diagnosis scan, no data error."""
    big_iot_batch(out, 1_000_000)
    before = snapshot(settings)
    env = {**os.environ, **settings.as_env()}
    env.pop("DATABASE_URL", None)
    command = [str(Path(sys.executable).with_name("queijaria")), "load", "--out", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = connect(settings)
    watcher.autocommit = True
    try:
        with watcher.cursor() as cursor:
            deadline = time.monotonic() + 120
            copying = False
            while not copying and process.poll() is None and time.monotonic() < deadline:
                cursor.execute(
                    f"select count(*) from pg_stat_activity where pid in ({LOADER_PIDS})"
                    " and query ilike 'copy%%iot%%' and state = 'active'",
                    (settings.dbname,),
                )
                copying = cursor.fetchone()[0] == 1
                time.sleep(0.01)
        assert copying, "the load never reached the IoT readings' COPY"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        watcher.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    assert "load interrupted, nothing was loaded" in stdout and "Traceback" not in stderr, stdout + stderr
    assert snapshot(settings) == before


def test_ctrl_c_while_another_load_runs_stops_at_once(out: Path, settings: ConnectionSettings) -> None:
    """Waiting for another load (one at a time) must not make Ctrl-C wait for it to finish."""
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    other_load = connect(settings)
    with other_load.cursor() as cursor:
        # Should the interrupt wait for this lock, the server ends this session (and the test fails), not the test.
        cursor.execute("set idle_in_transaction_session_timeout = '30s'")
        cursor.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))

    def interrupt_once_waiting() -> None:
        watcher = connect(settings)
        watcher.autocommit = True
        with watcher.cursor() as cursor:
            waiting = False
            while not waiting:
                cursor.execute(
                    "select count(*) from pg_stat_activity where application_name = %s and datname = %s",
                    (APPLICATION_NAME, settings.dbname),
                )
                waiting = cursor.fetchone()[0] == 1
                time.sleep(0.05)
        watcher.close()
        _thread.interrupt_main()

    before = snapshot(settings)
    threading.Thread(target=interrupt_once_waiting, daemon=True).start()
    try:
        with pytest.raises(LoadInterrupted):
            load(out, settings=settings)
        with other_load.cursor() as cursor:  # the other load still holds its lock: nobody waited for it
            # Advisory locks of this database only: other tests' databases hold theirs at the same time.
            cursor.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and granted"
                " and database = (select oid from pg_database where datname = current_database())"
            )
            assert cursor.fetchone() == (1,)
    finally:
        other_load.close()
    assert snapshot(settings) == before


def test_statement_timeout_is_named_not_taken_for_ctrl_c(out: Path, settings: ConnectionSettings) -> None:
    big_iot_batch(out, 100_000)
    before = snapshot(settings)
    admin = connect(settings, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'alter database "{settings.dbname}" set statement_timeout = 1')
    try:
        with pytest.raises(LoadError) as caught:
            load(out, settings=settings)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'alter database "{settings.dbname}" reset statement_timeout')
        admin.close()
    assert "statement timeout" in caught.value.message
    assert snapshot(settings) == before
