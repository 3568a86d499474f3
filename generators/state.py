"""What a batch hands to its continuation: everything the plant carries from one day to the next.

Stock on hand, purchases on order, orders not settled yet (planned, released, running, or with defects still to
be found), the ERP's open requirements and reservations, line and equipment condition, the planner's position and
rows whose time falls after the batch. Saved as state.json next to manifest.json; plain JSON so that it can be read
and diffed.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path

from generators.erp import CarriedRequirement, CarriedReservation
from generators.execution import Run
from generators.maintenance import EquipmentState, MaintenanceEvent
from generators.orders import Order
from generators.stock import Lot, PurchaseOrder

STATE_FILE = "state.json"
STATE_VERSION = 3


class StateError(ValueError):
    """A state.json that cannot be continued from: unreadable, of another version, or a field of the wrong type."""


@dataclass
class PlantState:
    scenario_id: str
    seed: int
    scale: float
    iot_interval_min: int
    origin_day: int
    last_day: int
    batch_name: str
    line_pointers: dict[str, int]
    demand_backlog_kg: dict[str, float]
    line_free_at: dict[str, int]
    line_last_product: dict[str, str | None]
    equipment: dict[str, EquipmentState]
    lots: list[Lot]
    purchases_on_order: list[PurchaseOrder]
    purchase_sequence: dict[str, int]
    orders: list[Order]
    last_written_views: dict[str, dict[str, object]]
    pending_rows: dict[str, list[list[object]]]
    carried_runs: list[Run]
    carried_events: list[MaintenanceEvent]
    shortfalls: dict[str, float] = field(default_factory=dict)
    # Overtime Sundays planned so far, per line (the plan of a continuation may already have orders on them).
    overtime_days: dict[str, list[int]] = field(default_factory=dict)
    # The ERP's open requirements and reservations (generators/erp.py): released orders not started nor cancelled.
    erp_requirements: list[CarriedRequirement] = field(default_factory=list)
    erp_reservations: list[CarriedReservation] = field(default_factory=list)

    def save(self, folder: Path) -> None:
        data = asdict(self)
        data["version"] = STATE_VERSION
        (folder / STATE_FILE).write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))

    @classmethod
    def load(cls, folder: Path) -> PlantState:
        """The state saved in `folder`; StateError naming the file (and the field) when it cannot be continued."""
        path = folder / STATE_FILE
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, a number of 4,300 digits, too deep
            raise StateError(f"{path} is not valid JSON ({error})") from error
        if not isinstance(data, dict):
            raise StateError(f"{path} does not hold a plant state (a JSON object)")
        if data.pop("version", None) != STATE_VERSION:
            raise StateError(f"{path} was written by another version of the simulator")
        problem = _type_problem(cls, data, "")
        if problem is not None:
            raise StateError(f"{path}: {problem}")
        data["equipment"] = {key: EquipmentState(**value) for key, value in data["equipment"].items()}
        data["lots"] = [Lot(**item) for item in data["lots"]]
        data["purchases_on_order"] = [PurchaseOrder(**item) for item in data["purchases_on_order"]]
        data["orders"] = [Order.from_state(item) for item in data["orders"]]
        data["carried_runs"] = [Run(**item) for item in data["carried_runs"]]
        data["carried_events"] = [MaintenanceEvent(**item) for item in data["carried_events"]]
        data["erp_requirements"] = [CarriedRequirement(**item) for item in data.get("erp_requirements", [])]
        data["erp_reservations"] = [CarriedReservation(**item) for item in data.get("erp_reservations", [])]
        return cls(**data)


# --- the shape of a state.json, checked against the dataclasses' annotations ---------------------------------------
# A hand-edited or damaged file must fail here with the field's name, not deep in the simulation with a traceback.

_SCALARS: dict[object, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), type(None): (type(None),)}
_NAMES = {str: "a string", int: "an integer", float: "a number", type(None): "null"}


def _describe(expected: object) -> str:
    if expected in _NAMES:
        return _NAMES[expected]
    origin = typing.get_origin(expected)
    if origin is types.UnionType:
        return " or ".join(_describe(option) for option in typing.get_args(expected))
    if origin is list:
        return "a list"
    if origin is dict or is_dataclass(expected):
        return "an object"
    return str(expected)


def _type_problem(expected: object, value: object, where: str) -> str | None:
    """Why `value` is not of the annotated type `expected` (None when it is); `where` is the field's path."""
    if expected is object:
        return None
    if expected in _SCALARS:
        # JSON's true and false are Python bools, which are ints: never a count, a minute or a quantity.
        if isinstance(value, _SCALARS[expected]) and not isinstance(value, bool):
            return None
    elif typing.get_origin(expected) is types.UnionType:
        if any(_type_problem(option, value, where) is None for option in typing.get_args(expected)):
            return None
    elif typing.get_origin(expected) is list and isinstance(value, list):
        (item,) = typing.get_args(expected)
        return _first(_type_problem(item, element, f"{where}[{index}]") for index, element in enumerate(value))
    elif typing.get_origin(expected) is dict and isinstance(value, dict):
        _, item = typing.get_args(expected)
        return _first(_type_problem(item, element, f"{where}.{key}") for key, element in value.items())
    elif isinstance(expected, type) and is_dataclass(expected) and isinstance(value, dict):
        return _dataclass_problem(expected, value, where)
    return f"field {where or '(top)'} must be {_describe(expected)}, got {json.dumps(value)[:60]}"


def _dataclass_problem(cls: type, value: dict[str, object], where: str) -> str | None:
    prefix = f"{where}." if where else ""
    hints = typing.get_type_hints(cls)
    known = {item.name: item for item in fields(cls)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        return f"unknown field {prefix}{unknown[0]}"
    for name, item in known.items():
        if name not in value:
            if item.default is MISSING and item.default_factory is MISSING:
                return f"field {prefix}{name} is missing"
            continue
        problem = _type_problem(hints[name], value[name], f"{prefix}{name}")
        if problem is not None:
            return problem
    return None


def _first(problems: typing.Iterable[str | None]) -> str | None:
    return next((problem for problem in problems if problem is not None), None)
