"""The daily PCP flow: one more plant day into the warehouse, the marts rebuilt on it, the morning's outputs.

The steps, one Prefect task each, in order (the original design's etl.py: extract, load, transform, reserve, report):
1. check database: the server answers and holds a built plant (`make demo` first);
2. simulate next day: `queijaria generate --continue --days 1` for every scenario; a real plant drops its ERP, MES
   and historian exports here instead;
3. load: the COPY loader appends the new batches (all or nothing; a batch already loaded is skipped);
4. check freshness: `dbt source freshness`, through prefect-dbt, so that a day that did not arrive stops the run
   before the marts are built on stale data;
5. build: `dbt build` (not the unit tests), one Prefect event per node (flows/dbt_steps.py says why not a task
   per node);
6. shortage report: reports/faltas_reserva_report.csv, as `queijaria report` writes it;
7. KPI summary: the headline KPIs per scenario, kept as a Prefect markdown artifact;
8. preview: the dashboards' offline HTML page.

Runs exclude each other (flows/run_lock.py). A step that fails on a connection or a lock (the server restarting, a
lock timeout) is retried with back-off; one that fails for good fails the run with the step's name and message.
The steps before the build change the database all or nothing (the loader's transaction), so a run that fails up
to the freshness check leaves the warehouse as the last good run left it. A rerun of a day already loaded loads
nothing and rebuilds the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from flows.dbt_steps import emit_node_events, run_dbt
from flows.run_lock import daily_run_lock
from queijaria import PROJECT_ROOT
from queijaria.dashboards.preview import DEFAULT_PREVIEW
from queijaria.db.connection import LOGIN_REFUSALS, ConnectionSettings, connect, dbt_variables, resolve
from queijaria.loading.loader import DEFAULT_OUT
from queijaria.reporting.shortages import DEFAULT_OUT as DEFAULT_REPORT
from queijaria.reporting.summary import KpiFigure

FLOW_NAME = "queijaria-daily"
KPI_ARTIFACT_KEY = "pcp-daily-kpis"
RETRIES = 3
# The first retry's delay; each next one waits four times longer (5, 20, 80 s by default): long enough for a
# restarting server or a lock held by a build to clear, short enough for a morning run.
DEFAULT_RETRY_DELAY_S = 5.0
BACKOFF_FACTOR = 4


class StepFailedError(RuntimeError):
    """A step of the daily run failed; the message names the step and says why."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(f"step '{step}' failed: {reason}")


def is_transient(error: BaseException | None) -> bool:
    """A failure worth retrying: the server did not answer or dropped the connection, or a lock wait timed out.

    A refused login is not (it fails the same way every time), nor is anything else: bad data, a failing test."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, psycopg2.OperationalError | ConnectionError):
            return not any(text in str(error) for text in LOGIN_REFUSALS)
        error = error.__cause__ or error.__context__
    return False


def _retry_when_transient(task_: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as error:  # the task's own exception, raised again by result()
        return is_transient(error)
    return False


def _step(name: str):
    """A task of the flow: named after its step, never cached (each run reads the database as it is now)."""
    return task(name=name, cache_policy=NO_CACHE, retry_condition_fn=_retry_when_transient)


@dataclass(frozen=True)
class DayToSimulate:
    day: dt.date
    # scenario_id -> the days it needs to reach `day` (0: already there)
    missing_days: dict[str, int]


def scenario_last_days(out: Path) -> dict[str, dt.date]:
    """Each scenario's last simulated day, from its newest batch folder (`<first>_<last>`)."""
    from queijaria.continuation import latest_batch

    last_days: dict[str, dt.date] = {}
    if out.is_dir():
        for folder in sorted(out.iterdir()):
            batch = latest_batch(folder) if folder.is_dir() else None
            if batch is not None:
                last_days[folder.name] = dt.date.fromisoformat(batch.name.split("_")[-1])
    return last_days


def plan_day(last_days: dict[str, dt.date], day: dt.date | None) -> DayToSimulate:
    """The day to bring every scenario to: the one asked for, or the day after the scenario furthest behind."""
    if not last_days:
        raise ValueError("no generated plant to continue: run `make demo` (or `make generate`) first")
    target = day or min(last_days.values()) + dt.timedelta(days=1)
    return DayToSimulate(target, {scenario: max(0, (target - last).days) for scenario, last in last_days.items()})


@_step("check database")
def check_database(settings: ConnectionSettings) -> None:
    try:
        conn = connect(settings)
    except ConnectionError as error:
        raise StepFailedError("check database", str(error)) from error
    try:
        with conn.cursor() as cursor:
            cursor.execute("select to_regclass('raw.load_audit'), to_regclass('marts.fct_scenario_kpis')")
            audit, kpis = cursor.fetchone()
    finally:
        conn.close()
    if audit is None or kpis is None:
        raise StepFailedError(
            "check database",
            f"{settings.describe()} holds no built plant (raw.load_audit or marts.fct_scenario_kpis is missing): "
            "run `make demo` once, then the daily flow adds a day at a time",
        )


@_step("simulate next day")
def simulate_next_day(out: Path, day: dt.date | None) -> DayToSimulate:
    try:
        plan = plan_day(scenario_last_days(out), day)
    except (ValueError, OSError) as error:
        raise StepFailedError("simulate next day", f"{out}: {error}") from error
    logger = get_run_logger()
    by_days: dict[int, list[str]] = {}
    for scenario, days in plan.missing_days.items():
        if days:
            by_days.setdefault(days, []).append(scenario)
        else:
            logger.info("%s already reaches %s: nothing to simulate", scenario, plan.day)
    for days, scenarios in sorted(by_days.items()):
        command = [
            str(Path(sys.executable).with_name("queijaria")), "generate", "--continue", "--days", str(days),
            "--scenario", ",".join(scenarios), "--out", str(out), "--quiet",
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT)
        if finished.returncode != 0:
            reason = " ".join((finished.stderr or finished.stdout).split())[-2000:]
            reason = reason or f"queijaria generate exited with {finished.returncode}"
            raise StepFailedError("simulate next day", reason)
        logger.info("simulated %s through %s (%d day(s))", ", ".join(scenarios), plan.day, days)
    return plan


def load_batches(out: Path, settings: ConnectionSettings) -> Any:
    """The loader, called by the load step; a module-level name so that a test can make it fail."""
    from queijaria.loading.loader import load

    return load(out, settings=settings)


@_step("load")
def load_new_batches(out: Path, settings: ConnectionSettings) -> int:
    from queijaria.loading.errors import LoadError

    try:
        result = load_batches(out, settings)
    except (LoadError, ConnectionError, psycopg2.Error) as error:
        raise StepFailedError("load", f"{error} (nothing was loaded)") from error
    rows = sum(item.rows for item in result.loads)
    logger = get_run_logger()
    for warning in result.warnings:
        logger.warning("%s", warning)
    logger.info("loaded %d rows; %d batch(es) already loaded, skipped", rows, len(result.skipped))
    return rows


@_step("check freshness")
def check_freshness(target_path: Path) -> None:
    """`dbt source freshness` through prefect-dbt (a task per source table); stops the run on an error."""
    import json

    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    settings = PrefectDbtSettings(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT, target_path=target_path)
    result = PrefectDbtRunner(settings=settings, raise_on_failure=False, disable_assets=True).invoke(
        ["source", "freshness"]
    )
    sources_json = target_path / "sources.json"
    stale: list[str] = []
    if sources_json.is_file():
        for source in json.loads(sources_json.read_text(encoding="utf-8")).get("results", []):
            if source.get("status") in {"error", "runtime error"}:
                name = source["unique_id"].removeprefix("source.").partition(".")[2]
                age_h = source.get("max_loaded_at_time_ago_in_s")
                limit = (source.get("criteria") or {}).get("error_after") or {}
                stale.append(
                    f"{name} newest row loaded {age_h / 3600:.1f} h ago (error after {limit.get('count')} "
                    f"{limit.get('period')}s)"
                    if age_h is not None
                    else f"{name}: {source.get('error') or 'not checked'}"
                )
    if stale or not result.success:
        reason = "; ".join(stale) if stale else str(result.exception or "dbt source freshness failed")
        raise StepFailedError(
            "check freshness",
            f"{reason}. The day's data did not arrive: the marts were not built on stale data",
        )


# dbt's unit tests check the models' logic on fixed inputs, not the day's data: they run in CI and `make test`,
# and dbt's documentation advises leaving them out of production builds.
DAILY_BUILD = ["build", "--exclude-resource-type", "unit_test"]


@_step("build")
def build(target_path: Path) -> None:
    outcome = run_dbt(DAILY_BUILD, target_path)
    emit_node_events(outcome, "build")
    if not outcome.success:
        failures = outcome.failures()
        shown = "; ".join(f"{node.unique_id}: {node.message}" for node in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        reason = shown + more if failures else (outcome.error or "dbt build failed")
        raise StepFailedError("build", reason)
    get_run_logger().info("dbt build: %d nodes, none failed", len(outcome.nodes))


@_step("shortage report")
def shortage_report(settings: ConnectionSettings, report_path: Path) -> Path:
    from queijaria.reporting.shortages import read_shortages, summary_lines, write_report

    conn = connect(settings)
    try:
        rows = read_shortages(conn)
        lines = summary_lines(conn)
    finally:
        conn.close()
    write_report(report_path, rows)
    logger = get_run_logger()
    for line in lines:
        logger.info("%s", line)
    return report_path


@_step("KPI summary")
def kpi_summary(settings: ConnectionSettings, day: dt.date) -> tuple[list[KpiFigure], str]:
    from queijaria.reporting.summary import KpiWindow, kpi_markdown, read_kpis

    conn = connect(settings)
    try:
        with conn.cursor() as cursor:
            figures = read_kpis(cursor, KpiWindow.whole_horizon)
    finally:
        conn.close()
    markdown = f"# PCP after {day:%Y-%m-%d}\n\n" + kpi_markdown(figures)
    create_markdown_artifact(key=KPI_ARTIFACT_KEY, markdown=markdown, description=f"Headline KPIs through {day}")
    return figures, markdown


@_step("preview")
def preview(settings: ConnectionSettings, preview_path: Path) -> Path | None:
    """The dashboards' offline page, read as the read-only role; without that role (an external server where
    `queijaria dashboards reader` has not run) the page is skipped with a warning: the marts are built by then."""
    from queijaria.dashboards.preview import build_preview
    from queijaria.dashboards.queries import ReaderUnavailableError, reader_engine
    from queijaria.dashboards.spec import load_dashboards

    try:
        engine = reader_engine(settings)
    except ReaderUnavailableError as error:
        get_run_logger().warning("dashboards preview skipped: %s", error)
        return None
    try:
        return build_preview(engine, load_dashboards(), preview_path)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class DailyRun:
    day: dt.date
    rows_loaded: int
    # The whole-horizon KPIs the summary step read, and the markdown artifact it kept of them.
    kpi_figures: list[KpiFigure]
    kpi_markdown: str
    report: Path
    preview: Path | None
    # Each step's wall time, retries included, in the order the steps ran.
    step_seconds: dict[str, float]


@flow(name=FLOW_NAME, log_prints=True)
def daily_pcp(
    day: dt.date | None = None,
    out: Path = DEFAULT_OUT,
    target_path: Path | None = None,
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
    lock_wait_s: float = 0.0,
    report_path: Path = DEFAULT_REPORT,
    preview_path: Path | None = None,
) -> DailyRun:
    """One plant day: simulate (or receive) it, load it, check it arrived, build, report, summarise, preview.

    day: the plant date every scenario is brought to (default: the day after the scenario furthest behind); a day
    already done loads nothing and rebuilds the same rows."""
    settings = resolve()
    # What `queijaria db env` exports before every dbt call of the Makefile, for the dbt run in this process.
    os.environ.update(dbt_variables())
    target = Path(target_path or os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target").absolute()
    delays = [retry_delay_s * BACKOFF_FACTOR**attempt for attempt in range(RETRIES)]

    def retried(step: Any) -> Any:
        return step.with_options(retries=RETRIES, retry_delay_seconds=delays)

    seconds: dict[str, float] = {}

    def timed(step: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return step(*args)
        finally:
            seconds[step.name] = time.perf_counter() - started

    with daily_run_lock(settings, lock_wait_s):
        timed(retried(check_database), settings)
        plan = timed(simulate_next_day, Path(out), day)
        rows = timed(retried(load_new_batches), Path(out), settings)
        timed(retried(check_freshness), target)
        timed(build, target)
        report = timed(retried(shortage_report), settings, Path(report_path))
        figures, markdown = timed(retried(kpi_summary), settings, plan.day)
        page = timed(retried(preview), settings, Path(preview_path or DEFAULT_PREVIEW))
    return DailyRun(plan.day, rows, figures, markdown, report, page, seconds)
