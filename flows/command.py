"""`queijaria daily`: the daily flow run now (once, or DAYS times in order) or served on its schedule.

Prefect is imported by the command itself, not by the CLI's module: the other commands do not pay for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from queijaria.loading.loader import DEFAULT_OUT
from queijaria.reporting.shortages import DEFAULT_OUT as DEFAULT_REPORT

SCHEDULE_CRON = "30 6 * * *"
SCHEDULE_TIMEZONE = "America/Sao_Paulo"
DEPLOYMENT_NAME = "every-morning"


def _quiet_prefect() -> None:
    # The ephemeral server would otherwise try to send usage statistics from a machine that may have no network.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


class _ExpectedFailureWithoutTraceback(logging.Filter):
    """Prefect logs a failed task or flow with its traceback. A step that failed for a reason the user can act on
    (StepFailedError, RunLockedError, or the ConnectionError of a server that cannot be reached to take the run
    lock) says it all in its message, so its log line keeps the message and drops the traceback; anything
    unexpected keeps its traceback."""

    def __init__(self, expected: tuple[type[BaseException], ...]):
        super().__init__()
        self.expected = expected

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.expected):
            record.exc_info, record.exc_text = None, None
        return True


def daily(
    days: Annotated[
        int, typer.Option(min=1, max=366, help="Days to add, one flow run each, in order (a backfill).")
    ] = 1,
    day: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Bring every scenario to this plant date (default: the day after the one furthest behind); "
            "a day already done changes nothing.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder of the generated batches.")] = DEFAULT_OUT,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help=f"Serve the flow on its schedule ({SCHEDULE_CRON}, {SCHEDULE_TIMEZONE}) until stopped, "
            "instead of running it now; with PREFECT_API_URL set, the runs show in that Prefect server's UI.",
        ),
    ] = False,
    lock_wait_s: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for a daily run already running, then stop.")
    ] = 0.0,
    report_out: Annotated[Path, typer.Option(help="CSV file of the shortage report.")] = DEFAULT_REPORT,
    preview_out: Annotated[
        Path | None, typer.Option(help="HTML file of the dashboards preview (default target/preview/dashboards.html).")
    ] = None,
    retry_delay_s: Annotated[
        float, typer.Option(min=0, help="Delay before a step's first retry; each next one waits 4 times longer.")
    ] = 5.0,
) -> None:
    """Run the daily PCP flow: simulate the next day, load it, check freshness, dbt build, report, KPIs, preview."""
    _quiet_prefect()
    from prefect.schedules import Cron

    from flows.daily import StepFailedError, daily_pcp
    from flows.run_lock import RunLockedError
    from queijaria.reporting.summary import KpiWindow, kpi_table

    expected_failures = (StepFailedError, RunLockedError, ConnectionError)
    expected = _ExpectedFailureWithoutTraceback(expected_failures)
    for run_logger in ("prefect.task_runs", "prefect.flow_runs"):
        logging.getLogger(run_logger).addFilter(expected)
    console = Console(highlight=False)
    if serve:
        daily_pcp.serve(
            name=DEPLOYMENT_NAME,
            schedules=[Cron(SCHEDULE_CRON, timezone=SCHEDULE_TIMEZONE)],
            parameters={
                "out": str(out),
                "lock_wait_s": max(lock_wait_s, 600.0),
                "retry_delay_s": retry_delay_s,
                "report_path": str(report_out),
                "preview_path": None if preview_out is None else str(preview_out),
            },
        )
        return
    if day is not None and days != 1:
        raise typer.BadParameter("give --day or --days, not both")
    for number in range(1, days + 1):
        try:
            run = daily_pcp(
                day=day.date() if day else None,
                out=out,
                lock_wait_s=lock_wait_s,
                retry_delay_s=retry_delay_s,
                report_path=report_out,
                preview_path=preview_out,
            )
        except expected_failures as error:
            done = f" ({number - 1} of {days} days were added)" if days > 1 else ""
            console.print(f"[bold red]daily run failed:[/bold red] {escape(str(error))}{done}", soft_wrap=True)
            raise typer.Exit(1) from error
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.step_seconds.items())
        console.print(
            f"[green]day {run.day} done[/green] ({number} of {days}): {run.rows_loaded:,} rows loaded; {steps}",
            soft_wrap=True,
        )
    console.print(f"shortage report: {run.report}")
    if run.preview is not None:
        console.print(f"dashboards preview: {run.preview}")
    Console(width=120).print(kpi_table(run.kpi_figures, KpiWindow.whole_horizon))
