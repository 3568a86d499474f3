"""`queijaria generate`: simulate the plant for one or more scenarios and write the event CSVs."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from queijaria.loading.loader import DEFAULT_OUT

if TYPE_CHECKING:
    from generators.engine import BatchSpec
    from generators.reference import Reference
    from generators.state import PlantState
    from queijaria.batch_folders import StagedBatch

# The simulator's modules (numpy, pandas, Faker: about a second to import) are imported by the functions that
# use them, so that the other commands, `queijaria db env` before every dbt call of the Makefile among them,
# do not pay for them.

ALL = "all"
# The calendar a batch must lie in. The simulation keys its random streams by days since 1970 (never negative) and
# plans 240 days past a batch; these bounds keep every date far from those limits and from PostgreSQL's.
FIRST_SUPPORTED_DATE = dt.date(1990, 1, 1)
LAST_SUPPORTED_DATE = dt.date(2200, 12, 31)


def latest_batch(scenario_folder: Path) -> Path | None:
    """The batch folder with the latest last_date (folder names are `<first>_<last>` ISO dates)."""
    from generators.engine import MANIFEST_FILE

    batches = [path for path in scenario_folder.iterdir() if (path / MANIFEST_FILE).is_file()]
    return max(batches, key=lambda path: path.name.split("_")[-1]) if batches else None


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


def _discard(staged: list[StagedBatch]) -> None:
    from queijaria import batch_folders

    for batch in staged:
        batch_folders.discard(batch)


def generate(
    seed: Annotated[
        int | None,
        typer.Option(
            help=f"Seed of every random draw; the same arguments give the same bytes. [default: {DEFAULT_SEED}, "
            "or the earlier batch's with --continue]",
            min=0,
            show_default=False,
        ),
    ] = None,
    start_date: Annotated[
        dt.datetime,
        typer.Option(
            formats=["%Y-%m-%d"],
            help=f"First simulated day (plant local date); a batch lies between {FIRST_SUPPORTED_DATE} and "
            f"{LAST_SUPPORTED_DATE}. Ignored with --continue.",
        ),
    ] = dt.datetime(2025, 3, 1),
    days: Annotated[int, typer.Option(help="Number of days to simulate in this batch.", min=1, max=3660)] = 365,
    scale: Annotated[
        float | None,
        typer.Option(
            help="Row-volume multiplier: more farms, smaller and more numerous orders (with their consumptions, "
            "samples and whey lots) and more frequent purchases. The plant's capacity comes from the seeds and "
            f"does not change; IoT volume is set by --days and --iot-interval. [default: {DEFAULT_SCALE}, or the "
            "earlier batch's with --continue]",
            min=0.25,
            max=50.0,
            show_default=False,
        ),
    ] = None,
    scenario: Annotated[
        list[str],
        typer.Option(
            help="Scenario to simulate: a scenario_id of seeds/scenarios.csv, 'all', or several (repeat the option or "
            "separate with commas). Scenarios share their random draws wherever they do not differ. Each scenario "
            "but the baseline acts on a calendar window every year (seeds/scenarios.csv); a horizon without a day of "
            "it is refused, with the dates to cover.",
        ),
    ] = [ALL],  # noqa: B006 - typer needs a literal default
    iot_interval: Annotated[
        int | None,
        typer.Option(
            help="Minutes between two IoT readings of a sensor (1 = one reading per minute). "
            f"[default: {DEFAULT_IOT_INTERVAL_MIN}, or the earlier batch's with --continue]",
            min=1,
            max=60,
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str,
        typer.Option(
            metavar="PATH",
            help="Output root, where `queijaria load` reads by default; relative paths are taken from the current "
            "folder. Batches go to <out>/<scenario_id>/<first_date>_<last_date>/.",
        ),
    ] = str(DEFAULT_OUT),
    continue_: Annotated[
        bool,
        typer.Option(
            "--continue",
            help="Continue each selected scenario from its latest batch under --out: the next --days start the day "
            "after it ends, with its stock, open orders and equipment state (read from that batch's state.json). "
            "--seed, --scale and --iot-interval default to the earlier batch's and, when given, must match it.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars and no closing table.")] = False,
) -> None:
    """Simulate the cheese plant and write one CSV per event dataset, a manifest.json and a state.json per batch.

    A fresh run (without --continue) replaces the batches previously generated for the selected scenarios once the
    new ones are complete, and leaves anything else in their folders in place. A run that fails or is interrupted
    changes nothing.
    """
    if iot_interval is not None and 1440 % iot_interval != 0:
        raise typer.BadParameter(
            "must divide a day (1440 minutes) evenly, e.g. 1, 2, 5, 10, 15, 30, 60", param_hint="--iot-interval"
        )
    root = _output_root(out)
    from generators.clock import date_of_day, day_number
    from generators.engine import BatchSpec, simulate_batch
    from generators.reference import load_reference
    from generators.state import PlantState
    from queijaria import batch_folders

    reference = load_reference()
    scenarios = resolve_scenarios(scenario, list(reference.scenarios))
    if not scenarios:
        raise typer.BadParameter("no scenario selected", param_hint="--scenario")
    if continue_ and scenario == [ALL]:
        # "all" of a continuation means every scenario generated so far.
        scenarios = [scenario_id for scenario_id in scenarios if (root / scenario_id).is_dir()] or scenarios
    console = Console(stderr=True, quiet=quiet)

    plans: list[tuple[BatchSpec, PlantState | None]] = []
    for scenario_id in scenarios:
        previous: PlantState | None = None
        first_day = day_number(start_date.date())
        if continue_:
            folder = root / scenario_id
            batch = latest_batch(folder) if folder.is_dir() else None
            if batch is None:
                raise typer.BadParameter(
                    f"nothing to continue for {scenario_id!r} under {root}", param_hint="--continue"
                )
            try:
                previous = PlantState.load(batch)
            except (OSError, ValueError, KeyError, TypeError) as error:
                _fail(f"cannot continue from {batch}: its state.json is unreadable ({error})")
            mismatched = [
                name
                for name, ours, theirs in (
                    ("--seed", seed, previous.seed),
                    ("--scale", scale, previous.scale),
                    ("--iot-interval", iot_interval, previous.iot_interval_min),
                )
                if ours is not None and ours != theirs
            ]
            if mismatched:
                raise typer.BadParameter(
                    f"{', '.join(mismatched)} differ from batch {batch.name} of {scenario_id!r}",
                    param_hint="--continue",
                )
            first_day = previous.last_day + 1
        spec = BatchSpec(
            scenario_id,
            _given_or(seed, previous.seed if previous else DEFAULT_SEED),
            first_day,
            days,
            _given_or(scale, previous.scale if previous else DEFAULT_SCALE),
            _given_or(iot_interval, previous.iot_interval_min if previous else DEFAULT_IOT_INTERVAL_MIN),
            root,
        )
        _check_dates(spec, continue_)
        plans.append((spec, previous))
    window_warnings = _check_windows(reference, plans)

    summary: dict[str, list[int]] = {}
    started = time.perf_counter()
    staged: list[StagedBatch] = []
    try:
        for spec, previous in plans:
            # A fresh run replaces the scenario's earlier batches (they would not continue into it), once it is done.
            replaces = batch_folders.batch_folders(root / spec.scenario_id) if previous is None else []
            staged.append(batch_folders.stage(spec.folder, replaces))
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
        warnings = batch_folders.commit(staged)
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
    elapsed = time.perf_counter() - started
    for warning in window_warnings + warnings:
        _print("warning: ", "yellow", warning)

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
