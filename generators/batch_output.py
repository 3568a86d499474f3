"""What a simulated batch leaves behind: one CSV per dataset, and the state the next batch continues from."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from dataset_contract import BY_NAME, DATASETS
from generators import csvout, energy, iot
from generators.calendar import capacity_rows
from generators.clock import MINUTES_PER_DAY
from generators.execution import Run
from generators.maintenance import MaintenanceEvent
from generators.orders import Order
from generators.simulation import BatchSimulation
from generators.state import PlantState
from generators.stock import Lot

# (label, amount done, total): the command turns these into progress bars.
ProgressHook = Callable[[str, int, int], None]
Row = tuple[object, ...]


def dataset_file(dataset: str) -> str:
    return f"{dataset}.csv"


class HashingWriter:
    """A binary file that also counts and hashes what goes through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.bytes += len(data)
        return self.handle.write(data)


def write_datasets(
    folder: Path, sim: BatchSimulation, report: ProgressHook
) -> tuple[dict[str, dict[str, object]], dict[str, list[list[object]]]]:
    """Every dataset's CSV in `folder`, with its rows, bytes and sha256; and the event rows that belong to a later
    batch (their event time is past this batch's end), which the next state carries."""
    outputs = {
        "iot_readings": _write_iot_readings(folder, sim, report),
        "energy_readings": _write_energy_readings(folder, sim),
    }
    report("energy_readings", 1, 1)
    event_rows, pending = _event_rows_by_time(sim, _quality_rows(sim))
    report("quality", 1, 1)
    event_rows["production_orders"] = _order_rows(sim)
    event_rows["capacity_calendar"] = _capacity_rows(sim)
    event_rows["milk_collection_plan"] = [
        (
            sim.spec.scenario_id,
            plan.day,
            plan.route_id,
            plan.planned_at,
            plan.expected_at,
            plan.planned_l,
            plan.farm_count,
        )
        for plan in sim.collection_plan
    ]
    event_rows["weather_daily"] = [
        (sim.spec.scenario_id, day, float(sim.weather[0][i]), float(sim.weather[1][i]))
        for i, day in enumerate(range(sim.spec.first_day, sim.spec.last_day + 1))
    ]
    for dataset in DATASETS:
        if dataset.name not in outputs:
            outputs[dataset.name] = _write_rows(folder, dataset.name, event_rows[dataset.name])
            report(dataset.name, 1, 1)
    return outputs, pending


def _write_iot_readings(folder: Path, sim: BatchSimulation, report: ProgressHook) -> dict[str, object]:
    reference, spec, state, executor = sim.reference, sim.spec, sim.state, sim.executor
    total = spec.days * MINUTES_PER_DAY // spec.iot_interval_min * len(reference.sensors)
    with _dataset_writer(folder, "iot_readings") as writer:
        rows, _ = iot.simulate_and_write(
            writer,  # type: ignore[arg-type]
            spec.seed,
            spec.scenario_id,
            reference,
            spec.first_day,
            spec.days,
            spec.iot_interval_min,
            sim.weather,
            sim.room_repairs,
            lambda done: report("iot_readings (rows)", done, total),
            runs=state.carried_runs + executor.runs,
            downtimes=batch_events(sim) + state.carried_events,
            unpasteurized_orders={
                order.order_id
                for order in executor.executed + state.orders
                if reference.products[order.product_id].input_material_id != iot.PASTEURIZED_INPUT
            },
            backgrounds=sim.backgrounds,
        )
    return _output("iot_readings", rows, writer)


def _write_energy_readings(folder: Path, sim: BatchSimulation) -> dict[str, object]:
    with _dataset_writer(folder, "energy_readings") as writer:
        rows = energy.simulate_and_write(
            writer,  # type: ignore[arg-type]
            sim.spec.seed,
            sim.spec.scenario_id,
            sim.reference,
            sim.spec.first_day,
            sim.spec.days,
            all_runs(sim),
            sim.weather,
        )
    return _output("energy_readings", rows, writer)


def _quality_rows(sim: BatchSimulation) -> tuple[list[Row], list[Row]]:
    """The lab's samples and rejections of the orders that ran; each order keeps its rejections for later make-ups."""
    scenario_id = sim.spec.scenario_id
    samples: list[Row] = []
    rejections: list[Row] = []
    for order in sim.executor.executed:
        if order.cancelled_at is not None:
            continue
        order_samples, order_rejections = sim.examined[order.order_id]
        order.rejections = order_rejections
        samples.extend(
            (scenario_id, s.sample_id, s.order_id, s.test_id, s.sampled_at, s.value, s.is_pass) for s in order_samples
        )
        rejections.extend(
            (scenario_id, f"REJ-{order.order_id[3:]}-{n:02d}", order.order_id, r.detected_at, r.rejected_kg, r.cause_id)
            for n, r in enumerate(order_rejections, start=1)
        )
    return samples, rejections


def _event_rows_by_time(
    sim: BatchSimulation, quality: tuple[list[Row], list[Row]]
) -> tuple[dict[str, list[Row]], dict[str, list[list[object]]]]:
    """Each event dataset's rows of this batch in event-time order (with the rows an earlier batch held back), and
    apart the rows whose time falls after the batch, held back for the next one."""
    scenario_id, executor = sim.spec.scenario_id, sim.executor
    event_rows: dict[str, list[Row]] = {
        "stock_lots": [_lot_row(scenario_id, lot) for lot in sim.new_lots + executor.whey_lots],
        "material_consumptions": [
            (
                scenario_id,
                c.consumption_id,
                c.order_id,
                c.lot_id,
                c.material_id,
                c.consumed_at,
                c.quantity,
                c.deviation_reason,
            )
            for c in executor.consumptions
        ],
        "maintenance_events": [_event_row(scenario_id, event) for event in batch_events(sim)],
        "stock_movements": [
            (
                scenario_id,
                m.movement_id,
                m.lot_id,
                m.material_id,
                m.movement_type,
                m.moved_at,
                m.quantity,
                m.unit_price_brl,
            )
            for m in sim.disposals.movements
        ],
        "quality_samples": quality[0],
        "quality_rejections": quality[1],
        "purchase_orders": [
            (
                scenario_id,
                purchase.purchase_order_id,
                purchase.material_id,
                sim.suppliers[purchase.material_id],
                purchase.ordered_at,
                purchase.arrives_at,
                purchase.quantity,
                sim.reference.materials[purchase.material_id].unit,
            )
            for purchase in sim.placed_purchases
        ],
    }
    pending: dict[str, list[list[object]]] = {}
    for name, rows in event_rows.items():
        rows.extend(tuple(row) for row in sim.state.pending_rows.get(name, []))
        time_index = BY_NAME[name].column_names.index(BY_NAME[name].event_time_column)
        rows.sort(key=lambda row, i=time_index: (row[i], row[1]))  # type: ignore[misc]
        pending[name] = [list(row) for row in rows if row[time_index] >= sim.horizon]  # type: ignore[operator]
        event_rows[name] = [row for row in rows if row[time_index] < sim.horizon]  # type: ignore[operator]
    return event_rows, pending


def _order_rows(sim: BatchSimulation) -> list[Row]:
    """A row for every order created in the batch, and for every earlier order whose view changed."""
    state, created_ids = sim.state, {order.order_id for order in sim.created}
    rows = []
    for order in _orders_by_creation(sim):
        view = order.view(sim.horizon)
        if order.order_id in created_ids or view != state.last_written_views.get(order.order_id):
            rows.append(_order_row(sim.spec.scenario_id, order, view))
    return rows


def _capacity_rows(sim: BatchSimulation) -> list[Row]:
    worked_sundays = {
        line_id: sim.worked_sundays[line_id] | sim.overtime_days.get(line_id, set()) for line_id in sim.reference.lines
    }
    return [
        (sim.spec.scenario_id, row.line_id, row.day, row.shift_id, row.planned_min, row.planned_downtime_min)
        for row in capacity_rows(sim.reference, sim.spec.first_day, sim.spec.last_day, worked_sundays)
    ]


def next_state(sim: BatchSimulation, pending: dict[str, list[list[object]]]) -> PlantState:
    """Everything the next batch needs to go on where this one ended."""
    spec, state, horizon = sim.spec, sim.state, sim.horizon
    open_orders = [order for order in _orders_by_creation(sim) if not order.is_settled(horizon)]
    erp_requirements, erp_reservations = sim.erp.carried()
    sim.inventory.drop_dead_lots(sim.spec.last_day + 1)
    return PlantState(
        scenario_id=spec.scenario_id,
        seed=spec.seed,
        scale=spec.scale,
        iot_interval_min=spec.iot_interval_min,
        origin_day=state.origin_day,
        last_day=spec.last_day,
        batch_name=spec.batch_name,
        line_pointers=sim.planner.line_pointers,
        demand_backlog_kg=sim.planner.demand_backlog_kg,
        line_free_at={line_id: line.free_at for line_id, line in sim.lines.items()},
        line_last_product={line_id: line.last_product_id for line_id, line in sim.lines.items()},
        equipment=state.equipment,
        lots=sim.inventory.all_lots(),
        purchases_on_order=sim.on_order,
        purchase_sequence=state.purchase_sequence,
        orders=open_orders,
        last_written_views={order.order_id: order.view(horizon) for order in open_orders},
        pending_rows=pending,
        carried_runs=[run for run in all_runs(sim) if run.end > horizon],
        carried_events=[event for event in batch_events(sim) + state.carried_events if event.ended_at > horizon],
        shortfalls={key: round(value, 3) for key, value in sim.executor.material_shortfalls.items()},
        # The next batch's windows start a few days before its first day.
        erp_requirements=erp_requirements,
        erp_reservations=erp_reservations,
        overtime_days={
            line_id: sorted(day for day in days if day > sim.spec.last_day - 7)
            for line_id, days in sim.overtime_days.items()
        },
    )


def _orders_by_creation(sim: BatchSimulation) -> list[Order]:
    """The orders the batch tracks: those carried over and those it created, oldest first."""
    return sorted(sim.state.orders + sim.created, key=lambda order: (order.created_at, order.order_id))


def batch_events(sim: BatchSimulation) -> list[MaintenanceEvent]:
    """The maintenance events of this batch: those known in advance, then the failures met while running."""
    return sim.stops.events + sim.stops.room_failures + sim.executor.corrective


def all_runs(sim: BatchSimulation) -> list[Run]:
    return sim.state.carried_runs + sim.executor.runs


@contextmanager
def _dataset_writer(folder: Path, dataset: str) -> Iterator[HashingWriter]:
    """The dataset's CSV opened for writing, its header written, through a HashingWriter."""
    with (folder / dataset_file(dataset)).open("wb") as raw:
        writer = HashingWriter(raw)
        writer.write(csvout.header(dataset))
        yield writer


def _write_rows(folder: Path, dataset: str, rows: list[Row]) -> dict[str, object]:
    with _dataset_writer(folder, dataset) as writer:
        written = csvout.write_rows(writer, dataset, rows)  # type: ignore[arg-type]
    return _output(dataset, written, writer)


def _output(dataset: str, rows: int, writer: HashingWriter) -> dict[str, object]:
    return {"file": dataset_file(dataset), "rows": rows, "bytes": writer.bytes, "sha256": writer.sha256.hexdigest()}


def _lot_row(scenario_id: str, lot: Lot) -> Row:
    return (
        scenario_id,
        lot.lot_id,
        lot.material_id,
        lot.supplier_name,
        lot.source_order_id,
        lot.received_at,
        lot.expires_at,
        lot.quantity,
        lot.unit,
        lot.qc_status,
        lot.unit_cost_brl,
        lot.fat_pct,
        lot.protein_pct,
        lot.cbt,
        lot.ccs,
        lot.purchase_order_id,
        lot.route_id,
    )


def _event_row(scenario_id: str, event: MaintenanceEvent) -> Row:
    return (
        scenario_id,
        event.event_id,
        event.equipment_id,
        event.maintenance_type,
        event.started_at,
        event.ended_at,
        event.failure_mode_id,
    )


def _order_row(scenario_id: str, order: Order, view: dict[str, object]) -> Row:
    return (
        scenario_id,
        order.order_id,
        order.product_id,
        order.line_id,
        order.created_at,
        view["released_at"],
        order.planned_start,
        order.planned_end,
        order.due_day,
        order.priority,
        order.planned_kg,
        view["status"],
        view["actual_start_at"],
        view["actual_end_at"],
        view["produced_kg"],
        view["good_kg"],
        view["cancelled_at"],
        order.replaces_order_id,
    )
