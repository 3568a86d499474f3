"""`queijaria generate --continue`: the batch a scenario continues from, and its state.json checked as the command
line's options are (same bounds, same words) and against the plant's reference data, before anything is simulated:
a hand-edited or damaged state must end in one message naming the file and the field, never in a traceback."""

from __future__ import annotations

from pathlib import Path

from dataset_contract import BY_NAME
from generators.clock import day_number
from generators.engine import MANIFEST_FILE
from generators.reference import Reference
from generators.state import STATE_FILE, PlantState, StateError
from queijaria.generate_options import FIRST_SUPPORTED_DATE, iot_interval_problem, scale_problem, seed_problem


class ContinuationError(Exception):
    """The batch to continue cannot be found or read, or its state cannot be continued; the message says which."""


def latest_batch(scenario_folder: Path) -> Path | None:
    """The batch folder with the latest last_date (folder names are `<first>_<last>` ISO dates)."""
    batches = [path for path in scenario_folder.iterdir() if (path / MANIFEST_FILE).is_file()]
    return max(batches, key=lambda path: path.name.split("_")[-1]) if batches else None


def is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long: no folder by that name, the continuation says why
        return False


def latest_batch_to_continue(folder: Path) -> Path | None:
    """The scenario folder's latest batch, None without one; one clear message when the folder cannot be read."""
    try:
        return latest_batch(folder) if folder.is_dir() else None
    except OSError as error:  # a name too long, a folder we may not list
        raise ContinuationError(f"--continue: cannot read {folder}: {error.strerror or error}") from error


def load_state(batch: Path, scenario_id: str, reference: Reference) -> PlantState:
    """The state a continuation starts from, checked as the command line's options are: it is a file anyone can edit."""
    path = batch / STATE_FILE
    try:
        state = PlantState.load(batch)
    except StateError as error:
        raise ContinuationError(f"--continue: {error}") from error
    except OSError as error:
        raise ContinuationError(f"--continue: cannot read {path}: {error.strerror or error}") from error
    problems = [
        ("seed", seed_problem(state.seed)),
        ("scale", scale_problem(state.scale)),
        ("iot_interval_min", iot_interval_problem(state.iot_interval_min)),
        ("scenario_id", None if state.scenario_id == scenario_id else f"{state.scenario_id!r} is not {scenario_id!r}"),
        (
            "origin_day",
            None
            if day_number(FIRST_SUPPORTED_DATE) <= state.origin_day
            else f"{state.origin_day} is a day before {FIRST_SUPPORTED_DATE}",
        ),
        ("last_day", None if state.last_day >= state.origin_day else f"{state.last_day} is before its origin_day"),
        *_key_problems(state, reference),
        *_reference_problems(state, reference),
    ]
    for field_name, problem in problems:
        if problem is not None:
            raise ContinuationError(f"--continue: {path}: field {field_name}: {problem}")
    return state


def _key_problems(state: PlantState, reference: Reference) -> list[tuple[str, str | None]]:
    """The fields keyed by line or equipment must name the plant's own: the simulation looks every one of them up."""
    lines, equipment = set(reference.lines), {item.equipment_id for item in reference.equipment}
    keyed = {
        "line_pointers": (state.line_pointers, lines),
        "line_free_at": (state.line_free_at, lines),
        "line_last_product": (state.line_last_product, lines),
        "equipment": (state.equipment, equipment),
    }
    return [
        (
            name,
            None
            if set(values) == expected
            else f"must have one entry per {name.split('_')[0]}: {', '.join(sorted(expected))}",
        )
        for name, (values, expected) in keyed.items()
    ]


def _reference_problems(state: PlantState, reference: Reference) -> list[tuple[str, str | None]]:
    """Every product, material, line, equipment and order a state names must exist: the simulation looks them up."""
    orders = {order.order_id for order in state.orders}
    named: list[tuple[str, list[str | None], set[str | None]]] = [
        ("orders[].product_id", [order.product_id for order in state.orders], set(reference.products)),
        ("orders[].line_id", [order.line_id for order in state.orders], set(reference.lines)),
        ("line_last_product", list(state.line_last_product.values()), {None, *reference.products}),
        ("lots[].material_id", [lot.material_id for lot in state.lots], set(reference.materials)),
        (
            "purchases_on_order[].material_id",
            [item.material_id for item in state.purchases_on_order],
            set(reference.materials),
        ),
        ("carried_runs[].order_id", [run.order_id for run in state.carried_runs], set(orders)),
        (
            "carried_events[].equipment_id",
            [event.equipment_id for event in state.carried_events],
            {item.equipment_id for item in reference.equipment},
        ),
        ("pending_rows", list(state.pending_rows), set(BY_NAME)),
    ]
    problems = [
        (field_name, f"names {_first_unknown(values, known)!r}, unknown to the plant's reference data and this state")
        for field_name, values, known in named
        if not set(values) <= known
    ]
    for dataset, rows in state.pending_rows.items():
        width = len(BY_NAME[dataset].column_names) if dataset in BY_NAME else None
        if width is not None and any(len(row) != width for row in rows):
            problems.append((f"pending_rows.{dataset}", f"has a row without its {width} columns"))
    return problems


def _first_unknown(values: list[str | None], known: set[str | None]) -> str | None:
    return next(value for value in values if value not in known)
