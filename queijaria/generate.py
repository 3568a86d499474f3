"""`queijaria generate`: simulate the plant for one or more scenarios and write the event CSVs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from queijaria.generate_options import (
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    SCALE_RANGE,
    iot_interval_problem,
    scale_problem,
    seed_problem,
)
from queijaria.loading.loader import DEFAULT_OUT

if TYPE_CHECKING:
    from generators.batch_spec import BatchSpec
    from generators.reference import Reference
    from generators.state import PlantState
    from queijaria.batch_folders import StagedBatch

# The simulator's modules (numpy, pandas, Faker: about a second to import) are imported by the functions that
# use them, so that the other commands, `queijaria db env` before every dbt call of the Makefile among them,
# do not pay for them.

ALL = "all"


def resolve_scenarios(requested: list[str], known: list[str]) -> list[str]:
    names: list[str] = []
    for item in requested:
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if name == ALL:
                names.extend(known)
            elif name in known:
                names.append(name)
            else:
                raise typer.BadParameter(f"unknown scenario {name!r}; choose from {', '.join(known)} or {ALL}")
    return list(dict.fromkeys(names))


T = TypeVar("T")

DEFAULT_SEED = 42
DEFAULT_SCALE = 1.0
DEFAULT_IOT_INTERVAL_MIN = 15


def _check_seed(value: int | None) -> int | None:
    return _checked(value, seed_problem)


def _check_scale(value: float | None) -> float | None:
    return _checked(value, scale_problem)


def _check_iot_interval(value: int | None) -> int | None:
    return _checked(value, iot_interval_problem)


def _checked(value: T | None, problem: Callable[[T], str | None]) -> T | None:
    """The option's value, or click's usage error (exit code 2) with the problem."""
    text = None if value is None else problem(value)
    if text is not None:
        raise typer.BadParameter(text)
    return value


def _given_or(value: T | None, fallback: T) -> T:
    return fallback if value is None else value


_errors = Console(stderr=True, highlight=False)  # never quiet: errors and warnings always show


def _print(label: str, style: str, message: str) -> None:
    # Paths and names are the user's: printed as plain text, never read as rich markup or emoji codes.
    _errors.print(Text.assemble((label, style), message), soft_wrap=True)


def _fail(message: str) -> NoReturn:
    _print("error: ", "bold red", message)
    raise typer.Exit(1)


def _output_root(out: str) -> Path:
    if not out.strip():
        _fail(f"--out is empty; give the folder to write the batches under (by default {DEFAULT_OUT})")
    # Relative to the current folder, as `queijaria load --out` reads it.
    return Path(out).absolute()


def _check_dates(spec: BatchSpec, continuing: bool) -> None:
    from generators.clock import date_of_day, day_number

    first, last = day_number(FIRST_SUPPORTED_DATE), day_number(LAST_SUPPORTED_DATE)
    if first <= spec.first_day and spec.last_day <= last:
        return
    supported = f"a batch must lie between {FIRST_SUPPORTED_DATE} and {LAST_SUPPORTED_DATE}"
    if continuing:
        _fail(
            f"--continue: the next {spec.days} days of {spec.scenario_id} would end after {LAST_SUPPORTED_DATE}; "
            + supported
        )
    _fail(
        f"--start-date {date_of_day(spec.first_day)} is out of range: {supported}, so with --days {spec.days} "
        f"the start date must be from {FIRST_SUPPORTED_DATE} to {date_of_day(last - spec.days + 1)}"
    )


def _check_windows(reference: Reference, plans: list[tuple[BatchSpec, PlantState | None]]) -> list[str]:
    """Refuse scenarios whose effect window the horizon misses (DOMAIN.md §2); the warnings of partial windows."""
    from generators.scenarios import horizon_check

    errors, warnings, fitting = [], [], []
    for spec, previous in plans:
        # A continuation's horizon starts where its scenario's first batch did.
        first_day = previous.origin_day if previous is not None else spec.first_day
        error, warning = horizon_check(
            reference.scenarios[spec.scenario_id],
            first_day,
            spec.last_day,
            spec.first_day if previous is not None else None,
        )
        if error is None:
            fitting.append(spec.scenario_id)
        else:
            errors.append(error)
        if warning is not None:
            warnings.append(warning)
    if errors:
        fits = f" (of those selected, these fit the horizon: {','.join(fitting)})" if fitting else ""
        _fail("\n".join(errors) + fits)
    return warnings


def _check_size(
    reference: Reference, plans: list[tuple[BatchSpec, PlantState | None]], root: Path, force: bool, console: Console
) -> None:
    """Print the run's estimated size and refuse a run the machine cannot hold, before anything is simulated."""
    from queijaria import generate_size as size

    estimates = [
        size.estimate(spec.days, spec.scale, spec.iot_interval_min, len(reference.sensors), len(reference.meters), 1)
        for spec, _ in plans
    ]
    rows, disk = sum(item.rows for item in estimates), sum(item.disk_bytes for item in estimates)
    memory = max(item.peak_memory_bytes for item in estimates)  # scenarios are simulated one after the other
    memory_free, disk_free = size.available_memory_bytes(), size.free_disk_bytes(root)
    console.print(
        Text(
            f"estimate: {size.rows_text(rows)} rows, {size.human(disk)} on disk, {size.human(memory)} of memory at "
            f"the peak (available: {'?' if memory_free is None else size.human(memory_free)} of memory, "
            f"{'?' if disk_free is None else size.human(disk_free)} free under {root})"
        ),
        soft_wrap=True,
    )
    problems = []
    if memory_free is not None and memory > memory_free:
        problems.append(f"about {size.human(memory)} of memory at its peak, but {size.human(memory_free)} is available")
    if disk_free is not None and disk > disk_free:
        problems.append(f"about {size.human(disk)} of disk, but {root} has {size.human(disk_free)} free")
    if not problems:
        return
    needs = f"this run needs {' and '.join(problems)}"
    if force:
        _print("warning: ", "yellow", f"{needs}; going ahead anyway (--force-size)")
        return
    _fail(
        f"{needs}. Generate fewer --days per batch and add the rest with --continue, or use a larger --iot-interval "
        "or a smaller --scale; --force-size tries anyway. Nothing was written"
    )


def _discard(staged: list[StagedBatch]) -> None:
    from queijaria import batch_folders

    # Last staged first: the first batch made the output root, which is empty only once the others are gone.
    for batch in reversed(staged):
        batch_folders.discard(batch)


SeedOption = Annotated[
    int | None,
    typer.Option(
        help="Seed of every random draw (0 or more); the same arguments give the same bytes. "
        f"[default: {DEFAULT_SEED}, or the earlier batch's with --continue]",
        callback=_check_seed,
        show_default=False,
    ),
]
StartDateOption = Annotated[
    dt.datetime,
    typer.Option(
        formats=["%Y-%m-%d"],
        help=f"First simulated day (plant local date); a batch lies between {FIRST_SUPPORTED_DATE} and "
        f"{LAST_SUPPORTED_DATE}. Ignored with --continue.",
    ),
]
DaysOption = Annotated[int, typer.Option(help="Number of days to simulate in this batch.", min=1, max=3660)]
ScaleOption = Annotated[
    float | None,
    typer.Option(
        help=f"Row-volume multiplier, from {SCALE_RANGE[0]:g} to {SCALE_RANGE[1]:g}: more farms, smaller and more "
        "numerous orders (with their consumptions, "
        "samples and whey lots) and more frequent purchases. The plant's capacity comes from the seeds and "
        f"does not change; IoT volume is set by --days and --iot-interval. [default: {DEFAULT_SCALE}, or the "
        "earlier batch's with --continue]",
        callback=_check_scale,
        show_default=False,
    ),
]
ScenarioOption = Annotated[
    list[str],
    typer.Option(
        help="Scenario to simulate: a scenario_id of seeds/scenarios.csv, 'all', or several (repeat the option or "
        "separate with commas). Scenarios share their random draws wherever they do not differ. Each scenario "
        "but the baseline acts on a calendar window every year (seeds/scenarios.csv); a horizon without a day of "
        "it is refused, with the dates to cover.",
    ),
]
IotIntervalOption = Annotated[
    int | None,
    typer.Option(
        help="Minutes between two IoT readings of a sensor (1 = one reading per minute), from 1 to 60 and "
        f"dividing a day evenly. [default: {DEFAULT_IOT_INTERVAL_MIN}, or the earlier batch's with --continue]",
        callback=_check_iot_interval,
        show_default=False,
    ),
]
OutOption = Annotated[
    str,
    typer.Option(
        metavar="PATH",
        help="Output root, where `queijaria load` reads by default; relative paths are taken from the current "
        "folder. Batches go to <out>/<scenario_id>/<first_date>_<last_date>/.",
    ),
]
ContinueOption = Annotated[
    bool,
    typer.Option(
        "--continue",
        help="Continue each selected scenario from its latest batch under --out: the next --days start the day "
        "after it ends, with its stock, open orders and equipment state (read from that batch's state.json). "
        "--seed, --scale and --iot-interval default to the earlier batch's and, when given, must match it.",
    ),
]
ForceSizeOption = Annotated[
    bool,
    typer.Option(
        "--force-size",
        help="Go ahead even when the size estimate (rows, disk, peak memory; printed before simulating) says "
        "the run would not fit in the available memory or in the output folder's free disk.",
    ),
]
QuietOption = Annotated[bool, typer.Option(help="No progress bars, no size estimate and no closing table.")]


def generate(
    seed: SeedOption = None,
    start_date: StartDateOption = dt.datetime(2025, 3, 1),
    days: DaysOption = 365,
    scale: ScaleOption = None,
    scenario: ScenarioOption = [ALL],  # noqa: B006 - typer needs a literal default
    iot_interval: IotIntervalOption = None,
    out: OutOption = str(DEFAULT_OUT),
    continue_: ContinueOption = False,
    force_size: ForceSizeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Simulate the cheese plant and write one CSV per event dataset, a manifest.json and a state.json per batch.

    A fresh run (without --continue) replaces the batches previously generated for the selected scenarios once the
    new ones are complete, and leaves anything else in their folders in place. A run that fails or is interrupted
    changes nothing.
    """
    from generators.reference import load_reference
    from queijaria.continuation import is_folder

    root = _output_root(out)
    reference = load_reference()
    scenarios = resolve_scenarios(scenario, list(reference.scenarios))
    if not scenarios:
        raise typer.BadParameter("no scenario selected", param_hint="--scenario")
    if continue_ and scenario == [ALL]:
        # "all" of a continuation means every scenario generated so far.
        scenarios = [scenario_id for scenario_id in scenarios if is_folder(root / scenario_id)] or scenarios
    console = Console(stderr=True, quiet=quiet)
    requested = _Requested(seed, start_date.date(), days, scale, iot_interval, continue_)
    plans = [_plan(reference, root, scenario_id, requested) for scenario_id in scenarios]
    window_warnings = _check_windows(reference, plans)
    started = time.perf_counter()
    summary = _simulate_staged(reference, plans, root, force_size, console, quiet)
    elapsed = time.perf_counter() - started
    for warning in window_warnings + summary.warnings:
        _print("warning: ", "yellow", warning)
    _print_summary(console, summary.datasets, scenarios, plans, days, elapsed, root)


@dataclass(frozen=True)
class _Requested:
    """What the command line asked of every scenario's batch; None where the earlier batch's value applies."""

    seed: int | None
    start_date: dt.date
    days: int
    scale: float | None
    iot_interval: int | None
    continuing: bool


@dataclass
class _Simulated:
    datasets: dict[str, list[int]]  # dataset -> [rows, bytes] over the run's batches
    warnings: list[str]


def _plan(
    reference: Reference, root: Path, scenario_id: str, requested: _Requested
) -> tuple[BatchSpec, PlantState | None]:
    """The batch to simulate for a scenario, and the state it continues from (None for a fresh plant)."""
    from generators.batch_spec import BatchSpec
    from generators.clock import day_number

    previous = _previous_state(reference, root, scenario_id, requested) if requested.continuing else None
    spec = BatchSpec(
        scenario_id,
        _given_or(requested.seed, previous.seed if previous else DEFAULT_SEED),
        previous.last_day + 1 if previous else day_number(requested.start_date),
        requested.days,
        _given_or(requested.scale, previous.scale if previous else DEFAULT_SCALE),
        _given_or(requested.iot_interval, previous.iot_interval_min if previous else DEFAULT_IOT_INTERVAL_MIN),
        root,
    )
    _check_dates(spec, requested.continuing)
    return spec, previous


def _previous_state(reference: Reference, root: Path, scenario_id: str, requested: _Requested) -> PlantState:
    """The state of the scenario's latest batch, which the options given must match."""
    from queijaria.continuation import ContinuationError, latest_batch_to_continue, load_state

    try:
        batch = latest_batch_to_continue(root / scenario_id)
        if batch is None:
            raise typer.BadParameter(f"nothing to continue for {scenario_id!r} under {root}", param_hint="--continue")
        previous = load_state(batch, scenario_id, reference)
    except ContinuationError as error:
        _fail(str(error))
    mismatched = [
        name
        for name, ours, theirs in (
            ("--seed", requested.seed, previous.seed),
            ("--scale", requested.scale, previous.scale),
            ("--iot-interval", requested.iot_interval, previous.iot_interval_min),
        )
        if ours is not None and ours != theirs
    ]
    if mismatched:
        raise typer.BadParameter(
            f"{', '.join(mismatched)} differ from batch {batch.name} of {scenario_id!r}", param_hint="--continue"
        )
    return previous


def _simulate_staged(
    reference: Reference,
    plans: list[tuple[BatchSpec, PlantState | None]],
    root: Path,
    force_size: bool,
    console: Console,
    quiet: bool,
) -> _Simulated:
    """Simulate every batch into a staging folder and put them all in place at the end; on any failure or Ctrl-C,
    discard them all and leave the earlier batches as they were."""
    from queijaria import batch_folders

    staged: list[StagedBatch] = []
    try:
        for spec, previous in plans:
            # A fresh run replaces the scenario's earlier batches (they would not continue into it), once it is done.
            replaces = batch_folders.batch_folders(root / spec.scenario_id) if previous is None else []
            staged.append(batch_folders.stage(spec.folder, replaces))
        # After staging, so that an output folder that cannot be written is named as such; a refusal discards it.
        _check_size(reference, plans, root, force_size, console)
        datasets = _simulate(reference, plans, staged, console, quiet)
        return _Simulated(datasets, batch_folders.commit(staged))
    except batch_folders.OutputError as error:
        _discard(staged)
        _fail(str(error))
    except OSError as error:
        _discard(staged)
        where = f" {error.filename}" if error.filename else ""
        _fail(f"could not write{where}: {error.strerror or error}; the earlier batches under {root} are unchanged")
    except KeyboardInterrupt:
        _discard(staged)
        committed = [str(batch.destination) for batch in staged if batch.committed]
        if committed:
            _print("interrupted ", "bold red", f"after writing {', '.join(committed)}")
        else:
            _print("interrupted: ", "bold red", f"the earlier batches under {root} are unchanged")
        raise typer.Exit(130) from None
    except BaseException:
        _discard(staged)
        raise


def _simulate(
    reference: Reference,
    plans: list[tuple[BatchSpec, PlantState | None]],
    staged: list[StagedBatch],
    console: Console,
    quiet: bool,
) -> dict[str, list[int]]:
    """Each batch simulated into its staging folder, with a progress bar per scenario and step; the rows and bytes
    written per dataset."""
    from generators.engine import simulate_batch

    summary: dict[str, list[int]] = {}
    with Progress(
        TextColumn("{task.description:<42}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    ) as progress:
        for (spec, previous), batch in zip(plans, staged, strict=True):
            tasks: dict[str, int] = {}

            def hook(
                label: str,
                done: int,
                total: int,
                scenario_id: str = spec.scenario_id,
                tasks: dict[str, int] = tasks,
            ) -> None:
                key = f"{scenario_id} · {label}"
                if key not in tasks:
                    tasks[key] = progress.add_task(key, total=total)
                progress.advance(tasks[key], done)

            manifest = simulate_batch(reference, spec, previous, hook, batch.folder)
            for name, entry in manifest["datasets"].items():  # type: ignore[union-attr]
                totals = summary.setdefault(name, [0, 0])
                totals[0] += entry["rows"]
                totals[1] += entry["bytes"]
    return summary


def _print_summary(
    console: Console,
    summary: dict[str, list[int]],
    scenarios: list[str],
    plans: list[tuple[BatchSpec, PlantState | None]],
    days: int,
    elapsed: float,
    root: Path,
) -> None:
    """The closing table: rows and MB per dataset over the run's batches, and where they went."""
    from generators.clock import date_of_day

    first_date = date_of_day(plans[0][0].first_day)
    table = Table(title=Text(f"Generated {', '.join(scenarios)} · {days} days from {first_date} in {elapsed:.1f} s"))
    table.add_column("dataset")
    table.add_column("rows", justify="right")
    table.add_column("MB", justify="right")
    for name, (rows, size) in summary.items():
        table.add_row(name, f"{rows:,}", f"{size / 1e6:,.1f}")
    table.add_row(
        "total",
        f"{sum(v[0] for v in summary.values()):,}",
        f"{sum(v[1] for v in summary.values()) / 1e6:,.1f}",
        style="bold",
    )
    console.print(table)
    console.print(Text(f"written under {root}"), soft_wrap=True)
