"""`queijaria load`: COPY the generated CSV batches into the raw schema, with progress per file and a summary.

Everything printed that comes from the user's files (values quoted in errors, folder names) is escaped: rich must
neither read `[/oops]` as markup nor turn `:x:` into an emoji.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from queijaria.loading.errors import LoadError
from queijaria.loading.loader import DEFAULT_OUT, DatasetLoad, Reporter
from queijaria.loading.loader import load as run_load
from queijaria.loading.manifest import Batch


class RichReporter(Reporter):
    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("  {task.description:<42}"),
            BarColumn(bar_width=24),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = None

    def waiting(self, holders: list[str]) -> None:
        self.console.print(f"[yellow]waiting[/yellow] for the raw data, held by {escape('; '.join(holders))}")

    def batch_start(self, batch: Batch, mode: str) -> None:
        self.console.print(f"[bold]{escape(batch.label)}[/bold] ({mode})")

    def file_start(self, batch: Batch, dataset: str, total_bytes: int) -> None:
        if not self.console.is_terminal:
            return
        self.progress.start()
        self.task = self.progress.add_task(dataset, total=total_bytes or None)

    def file_bytes(self, count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, count)

    def file_done(self, load: DatasetLoad) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
            self.progress.stop()
        self.console.print(
            f"  [green]✓[/green] {load.dataset:<22} {load.rows:>11,} rows {load.bytes / 1e6:>8.1f} MB "
            f"{load.seconds:>7.2f} s",
            highlight=False,
        )


def summary_table(loads: list[DatasetLoad], seconds: float) -> Table:
    table = Table(title=f"Loaded in {seconds:.1f} s")
    for header in ("dataset", "rows", "MB", "seconds", "rows/s"):
        table.add_column(header, justify="left" if header == "dataset" else "right")
    totals: dict[str, list[float]] = {}
    for load in loads:
        total = totals.setdefault(load.dataset, [0, 0, 0.0])
        total[0] += load.rows
        total[1] += load.bytes
        total[2] += load.seconds
    for dataset, (rows, size, secs) in totals.items():
        table.add_row(
            dataset, f"{rows:,.0f}", f"{size / 1e6:,.1f}", f"{secs:.2f}", f"{rows / secs if secs else 0:,.0f}"
        )
    rows, size, secs = (sum(t[i] for t in totals.values()) for i in range(3))
    table.add_row("total", f"{rows:,.0f}", f"{size / 1e6:,.1f}", f"{secs:.2f}", f"{rows / secs if secs else 0:,.0f}")
    return table


class Target(StrEnum):
    postgres = "postgres"
    spark = "spark"


def _load_into_spark(console: Console, out: Path, scenarios: list[str] | None) -> None:
    from queijaria.spark.loader import load_to_spark
    from queijaria.spark.session import SparkUnavailableError

    started = time.perf_counter()
    try:
        with console.status("checking the batches and writing Spark's raw tables ..."):
            result = load_to_spark(out, scenarios)
    except (LoadError, SparkUnavailableError) as error:
        console.print(f"[bold red]load failed, nothing was loaded:[/bold red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    rows = sum(item.rows for item in result.loads)
    scenarios_loaded = sorted({item.scenario_id for item in result.loads})
    console.print(
        f"loaded {rows:,} rows of {', '.join(scenarios_loaded)} into Spark's raw tables in "
        f"{time.perf_counter() - started:.1f} s (each scenario replaced from its batches)"
    )


def load(
    out: Annotated[Path, typer.Option("--out", help="Folder of the generated batches.")] = DEFAULT_OUT,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Scenario to load; repeat for several; default: all found."),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch", help="Load the chain up to this batch folder (first_last dates); needs one --scenario."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Load again even batches already loaded with the same checksums: repairs raw data changed "
            "outside the loader (each scenario is replaced from its files).",
        ),
    ] = False,
    target: Annotated[
        Target,
        typer.Option(
            help="postgres: COPY into the server's raw schema. spark: partitioned parquet tables of the local "
            "Spark warehouse (`make spark-install` first), each scenario replaced from its batches."
        ),
    ] = Target.postgres,
) -> None:
    """COPY generated CSVs into the raw schema: replace a fresh simulation, append a continued one; all or nothing."""
    console = Console(emoji=False, highlight=False)
    if target is Target.spark:
        if batch is not None or force:
            console.print("[bold red]--batch and --force are options of the PostgreSQL load[/bold red]")
            raise typer.Exit(2)
        _load_into_spark(console, out, scenario)
        return
    started = time.perf_counter()
    try:
        result = run_load(out, scenario, batch, reporter=RichReporter(console), force=force)
    except (LoadError, ConnectionError) as error:
        unknown = isinstance(error, LoadError) and not error.rolled_back
        outcome = "load failed" if unknown else "load failed, nothing was loaded"
        console.print(f"[bold red]{outcome}:[/bold red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or a query cancelled from another session
        console.print("[bold red]load interrupted, nothing was loaded[/bold red]")
        raise typer.Exit(130) from interrupt
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for label in result.skipped:
        console.print(f"[dim]{escape(label)}: already loaded with the same checksums, unchanged[/dim]")
    if result.loads:
        console.print(summary_table(result.loads, time.perf_counter() - started))
    else:
        console.print(
            "nothing to load: the raw schema already holds these batches (raw data changed since by other means "
            "is repaired by `queijaria load --force`)"
        )
