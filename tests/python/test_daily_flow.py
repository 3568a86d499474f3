"""The daily Prefect flow, run in this process on Prefect's test harness (a temporary API, no server): days added one
run at a time equal one build of those days; a transient load failure is retried; a failure for good names its
step and changes nothing; a day that did not arrive fails the freshness check; runs exclude each other."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from small_plant import OBJECTS_ONLY
from support import RUN_METADATA, BuiltPipeline, aligned_arrays_sorted

from flows import daily
from flows.run_lock import RunLockedError, daily_run_lock
from queijaria.db.connection import connect
from queijaria.loading.loader import Reporter

pytestmark = pytest.mark.slow

# The small plant is simulated from 2025-11-20 for 21 days: its last day.
LAST_DAY = dt.date(2025, 12, 10)
TRANSIENT = "server closed the connection unexpectedly"


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    # No usage statistics from a test run (the temporary server would also log its failure to send them).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def plant(small_plant: BuiltPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuiltPipeline:
    """The small plant's copy as the server the flow resolves from the environment, as `make daily` would."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in small_plant.settings.as_env().items():
        monkeypatch.setenv(name, value)
    return small_plant


def run_flow(plant: BuiltPipeline, tmp_path: Path, day: dt.date | None = None) -> daily.DailyRun:
    return daily.daily_pcp(
        day=day,
        out=plant.data_dir,
        target_path=tmp_path / "target",
        retry_delay_s=0.01,
        report_path=tmp_path / "reports" / "shortages.csv",
        preview_path=tmp_path / "preview" / "dashboards.html",
    )


def built_rows(plant: BuiltPipeline) -> dict[str, list[tuple]]:
    """Every row of every table dbt built (intermediate and marts), per table, in a stable order."""
    rows: dict[str, list[tuple]] = {}
    with connect(plant.settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select schemaname, tablename from pg_tables where schemaname in ('intermediate', 'marts') order by 1, 2"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            kept = [index for index, column in enumerate(cursor.description) if column.name not in RUN_METADATA]
            fetched = [aligned_arrays_sorted(tuple(row[index] for index in kept)) for row in cursor.fetchall()]
            rows[f"{schema}.{table}"] = sorted(fetched, key=repr)
    return rows


def database_state(plant: BuiltPipeline) -> dict[str, object]:
    """What a failed run must leave as it was: the loads recorded, the raw rows, every built table's rows."""
    with connect(plant.settings) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*), max(load_audit_id) from raw.load_audit")
        audit = cursor.fetchone()
        cursor.execute("select count(*) from raw.iot_readings")
        readings = cursor.fetchone()[0]
        cursor.execute("select count(*) from raw.production_orders")
        orders = cursor.fetchone()[0]
    return {"load_audit": audit, "iot_readings": readings, "production_orders": orders, "built": built_rows(plant)}


def test_daily_runs_equal_one_build_and_a_rerun_changes_nothing(plant: BuiltPipeline, tmp_path: Path, monkeypatch):
    """Three daily runs, the second meeting a dropped connection in its load (retried), then a rerun of the last
    day: the marts equal a full refresh of the same raw data, row for row."""
    real_load = daily.load_batches
    calls: list[int] = []

    def drops_once_on_the_second_day(out: Path, settings):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise psycopg2.OperationalError(TRANSIENT)
        return real_load(out, settings)

    monkeypatch.setattr(daily, "load_batches", drops_once_on_the_second_day)
    runs = [run_flow(plant, tmp_path) for _ in range(3)]

    assert [run.day for run in runs] == [LAST_DAY + dt.timedelta(days=n) for n in (1, 2, 3)]
    assert len(calls) == 4, "the second day's load was tried again after the dropped connection"
    assert all(run.rows_loaded > 0 for run in runs)
    assert "| OEE (%) |" in runs[-1].kpi_markdown
    assert runs[-1].report.is_file() and runs[-1].preview.is_file()

    after_three_days = built_rows(plant)
    rerun = run_flow(plant, tmp_path, day=runs[-1].day)
    assert rerun.rows_loaded == 0
    assert built_rows(plant) == after_three_days, "a rerun of a day already done changes nothing"

    plant.dbt("build", "--full-refresh", *OBJECTS_ONLY)
    full_refresh = built_rows(plant)
    assert full_refresh.keys() == after_three_days.keys()
    for table, rows in full_refresh.items():
        assert after_three_days[table] == rows, f"{table}: three daily runs differ from one full build"


class _DropsTheConnectionMidLoad(Reporter):
    """Lets the loader COPY a few files, then fails as a server going away would."""

    def __init__(self) -> None:
        self.files = 0

    def file_done(self, load) -> None:  # type: ignore[no-untyped-def]
        self.files += 1
        if self.files == 3:
            raise psycopg2.OperationalError(TRANSIENT)


def test_a_load_failing_every_time_names_the_step_and_changes_nothing(
    plant: BuiltPipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from queijaria.loading.loader import load

    attempts: list[int] = []

    def always_drops(out: Path, settings):  # type: ignore[no-untyped-def]
        attempts.append(1)
        return load(out, settings=settings, reporter=_DropsTheConnectionMidLoad())

    monkeypatch.setattr(daily, "load_batches", always_drops)
    before = database_state(plant)
    with pytest.raises(daily.StepFailedError, match=r"^step 'load' failed: .*nothing was loaded") as failure:
        run_flow(plant, tmp_path)
    assert TRANSIENT in str(failure.value)
    assert len(attempts) == 1 + daily.RETRIES
    assert database_state(plant) == before


def test_a_day_that_did_not_arrive_fails_the_freshness_check(plant: BuiltPipeline, tmp_path: Path) -> None:
    """The day is already on disk and loaded (nothing new arrives), and the loads are two days old: the run stops at
    the freshness check, before the build."""
    with connect(plant.settings) as conn, conn.cursor() as cursor:
        cursor.execute(  # each table once: a partitioned table's update reaches its partitions
            "select c.relname from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace"
            " inner join pg_attribute as a on a.attrelid = c.oid and a.attname = 'loaded_at'"
            " where n.nspname = 'raw' and c.relkind in ('r', 'p') and not c.relispartition"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                sql.SQL("update raw.{} set loaded_at = loaded_at - interval '2 days'").format(sql.Identifier(table))
            )
        cursor.execute("update raw.load_audit set finished_at = finished_at - interval '2 days'")
    before = database_state(plant)
    with pytest.raises(daily.StepFailedError, match=r"^step 'check freshness' failed: ") as failure:
        run_flow(plant, tmp_path, day=LAST_DAY)
    message = str(failure.value)
    assert re.search(r"scada\.iot_readings newest row loaded 4[89]\.\d h ago \(error after 20 hours\)", message), (
        message
    )
    assert "did not arrive" in message
    assert database_state(plant) == before, "the marts were not built on stale data"


def test_a_second_run_at_once_refuses_and_changes_nothing(plant: BuiltPipeline, tmp_path: Path) -> None:
    before = database_state(plant)
    with daily_run_lock(plant.settings), pytest.raises(RunLockedError, match="another daily run holds the lock"):
        run_flow(plant, tmp_path)
    assert database_state(plant) == before
    assert not (tmp_path / "reports").exists()
