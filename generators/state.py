"""What a batch hands to its continuation: everything the plant carries from one day to the next.

Stock on hand, purchases on order, orders not settled yet (planned, released, running, or with defects still to
be found), line and equipment condition, the planner's position and rows whose time falls after the batch.
Saved as state.json next to manifest.json; plain JSON so that it can be read and diffed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generators.execution import Run
from generators.maintenance import EquipmentState, MaintenanceEvent
from generators.orders import Order
from generators.stock import Lot, PurchaseOrder

STATE_FILE = "state.json"
STATE_VERSION = 2


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

    def save(self, folder: Path) -> None:
        data = asdict(self)
        data["version"] = STATE_VERSION
        (folder / STATE_FILE).write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))

    @classmethod
    def load(cls, folder: Path) -> PlantState:
        data = json.loads((folder / STATE_FILE).read_text())
        if data.pop("version", None) != STATE_VERSION:
            raise ValueError(f"{folder / STATE_FILE} was written by another version of the simulator")
        data["equipment"] = {key: EquipmentState(**value) for key, value in data["equipment"].items()}
        data["lots"] = [Lot(**item) for item in data["lots"]]
        data["purchases_on_order"] = [PurchaseOrder(**item) for item in data["purchases_on_order"]]
        data["orders"] = [Order.from_state(item) for item in data["orders"]]
        data["carried_runs"] = [Run(**item) for item in data["carried_runs"]]
        data["carried_events"] = [MaintenanceEvent(**item) for item in data["carried_events"]]
        return cls(**data)
