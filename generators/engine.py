"""One batch of one scenario: simulate the days, write every dataset, the manifest and the state to continue from."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from generators import csvout, energy, iot, parameters, rooms
from generators.calendar import capacity_rows, production_windows
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.execution import Executor, LineState, Run
from generators.maintenance import MaintenanceEvent, initial_state, preventive_events
from generators.orders import Order, Planner, Rejection, daily_demand_kg, fresh_lines
from generators.quality import ROOM_TYPES, QualityLab, Sample
from generators.randomness import stream
from generators.reference import Reference
from generators.rescheduling import Rescheduler
from generators.scenarios import ScenarioEffects
from generators.state import STATE_FILE, PlantState
from generators.stock import (
    Disposals,
    Inventory,
    Lot,
    PurchaseOrder,
    make_farms,
    milk_receptions,
    purchase_lot,
    round_purchase,
    supplier_names,
)
from generators.weather import daily_weather, herd_heat_excess
from queijaria.datasets import BY_NAME, DATASETS

# (label, amount done, total) — the command turns these into progress bars.
ProgressHook = Callable[[str, int, int], None]
MANIFEST_FILE = "manifest.json"


def dataset_file(dataset: str) -> str:
    return f"{dataset}.csv"


# Every file a batch folder gets.
BATCH_FILES = (*(dataset_file(dataset.name) for dataset in DATASETS), STATE_FILE, MANIFEST_FILE)
PLANNING_LOOKAHEAD_DAYS = 240


@dataclass(frozen=True)
class BatchSpec:
    scenario_id: str
    seed: int
    first_day: int
    days: int
    scale: float
    iot_interval_min: int
    out_root: Path

    @property
    def last_day(self) -> int:
        return self.first_day + self.days - 1

    @property
    def batch_name(self) -> str:
        return f"{date_of_day(self.first_day).isoformat()}_{date_of_day(self.last_day).isoformat()}"

    @property
    def folder(self) -> Path:
        return self.out_root / self.scenario_id / self.batch_name


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


def material_daily_usage(reference: Reference) -> dict[str, float]:
    demand = daily_demand_kg(reference)
    usage: dict[str, float] = {}
    for product_id, kg in demand.items():
        for line in reference.recipes[product_id]:
            usage[line.material_id] = usage.get(line.material_id, 0.0) + kg * line.quantity_per_kg * (
                1 + line.scrap_factor
            )
    return usage


def _purchased_materials(reference: Reference) -> list[str]:
    return [m.material_id for m in reference.materials.values() if not m.is_internal and m.material_id != "MILK"]


def _fresh_state(
    reference: Reference, spec: BatchSpec, usage: dict[str, float], suppliers: dict[str, str]
) -> PlantState:
    first_minute = spec.first_day * MINUTES_PER_DAY
    lots = []
    for material_id in _purchased_materials(reference):
        material = reference.materials[material_id]
        days = min(parameters.OPENING_STOCK_DAYS, 0.6 * material.shelf_life_days)
        quantity = round_purchase(usage.get(material_id, 0.0) * days, material.unit)
        lot = Lot(
            lot_id=f"LOT-{material_id}-{date_of_day(spec.first_day).strftime('%Y%m%d')}-OPEN",
            material_id=material_id,
            supplier_name=suppliers[material_id],
            source_order_id=None,
            received_at=first_minute,
            expires_at=(spec.first_day + material.shelf_life_days + 1) * MINUTES_PER_DAY,
            quantity=quantity,
            unit=material.unit,
            qc_status="released",
            unit_cost_brl=material.unit_cost_brl,
            remaining=quantity,
        )
        lots.append(lot)
    return PlantState(
        scenario_id=spec.scenario_id,
        seed=spec.seed,
        scale=spec.scale,
        iot_interval_min=spec.iot_interval_min,
        origin_day=spec.first_day,
        last_day=spec.first_day - 1,
        batch_name="",
        line_pointers=dict.fromkeys(reference.lines, first_minute),
        demand_backlog_kg={},
        line_free_at=dict.fromkeys(reference.lines, first_minute),
        line_last_product=dict.fromkeys(reference.lines),
        equipment={item.equipment_id: initial_state(spec.seed, item, spec.first_day) for item in reference.equipment},
        lots=lots,
        purchases_on_order=[],
        purchase_sequence={},
        orders=[],
        last_written_views={},
        pending_rows={},
        carried_runs=[],
        carried_events=[],
    )


def _lot_row(scenario_id: str, lot: Lot) -> tuple[object, ...]:
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
    )


def _event_row(scenario_id: str, event: MaintenanceEvent) -> tuple[object, ...]:
    return (
        scenario_id,
        event.event_id,
        event.equipment_id,
        event.maintenance_type,
        event.started_at,
        event.ended_at,
        event.failure_mode_id,
    )


def _order_row(scenario_id: str, order: Order, view: dict[str, object]) -> tuple[object, ...]:
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


def simulate_batch(
    reference: Reference,
    spec: BatchSpec,
    previous: PlantState | None,
    progress: ProgressHook | None = None,
    folder: Path | None = None,
) -> dict[str, object]:
    """Simulate the batch and write it to `folder` (by default the spec's batch folder under its out_root)."""

    def report(label: str, done: int, total: int) -> None:
        if progress is not None:
            progress(label, done, total)

    scenario_id, seed = spec.scenario_id, spec.seed
    first_minute = spec.first_day * MINUTES_PER_DAY
    horizon = (spec.last_day + 1) * MINUTES_PER_DAY
    usage = material_daily_usage(reference)
    suppliers = supplier_names(seed, reference)
    state = previous if previous is not None else _fresh_state(reference, spec, usage, suppliers)
    effects = ScenarioEffects(reference.scenarios[scenario_id])
    farms = make_farms(seed, usage["MILK"] * parameters.MILK_SUPPLY_MARGIN, spec.scale)
    planned_first_day, planned_last_day = spec.first_day - 3, spec.last_day + PLANNING_LOOKAHEAD_DAYS
    # Through a demand peak, the lines of fresh cheeses (no stock can be built ahead for them) work Sunday afternoon
    # and night shifts; they are in the capacity calendar.
    peak_sundays = frozenset(
        day
        for day in range(planned_first_day, planned_last_day + 1)
        if date_of_day(day).isoweekday() == 7 and effects.demand_factor(day) >= parameters.EXTRA_SHIFT_DEMAND_FACTOR
    )
    extra_days = dict.fromkeys(fresh_lines(reference), peak_sundays)
    overtime_days = {line_id: set(days) for line_id, days in state.overtime_days.items()}
    worked_sundays = {
        line_id: frozenset(extra_days.get(line_id, frozenset()) | overtime_days.get(line_id, set()))
        for line_id in reference.lines
    }
    windows = production_windows(reference, planned_first_day, planned_last_day, worked_sundays)
    equipment_by_id = reference.equipment_by_id()

    inventory = Inventory()
    for lot in state.lots:
        inventory.add(lot)
    # A fresh plant writes its opening stock; a continuation's carried lots were written by earlier batches.
    new_lots: list[Lot] = list(state.lots) if previous is None else []
    lines = {
        line_id: LineState(line_id, state.line_free_at[line_id], state.line_last_product[line_id])
        for line_id in reference.lines
    }
    waiting = sorted(
        (o for o in state.orders if o.actual_start is None and o.cancelled_at is None),
        key=lambda o: (o.planned_start, o.order_id),
    )
    for order in waiting:
        lines[order.line_id].queue.append(order)

    events: list[MaintenanceEvent] = preventive_events(
        seed, list(reference.equipment), state.equipment, spec.first_day, spec.last_day
    )
    for event in events:
        line = lines[equipment_by_id[event.equipment_id].line_id]
        if equipment_by_id[event.equipment_id].equipment_type not in parameters.CALENDAR_AGING_TYPES:
            line.preventive.append(event)  # rooms are renewed by their calendar wear (rooms.calendar_failures)
        line.downtimes.append((event.started_at, event.ended_at))
    room_failures = rooms.calendar_failures(seed, reference, state.equipment, events, first_minute, horizon)
    carried_room_repairs = [
        event
        for event in state.carried_events
        if event.maintenance_type == "corrective"
        and equipment_by_id[event.equipment_id].equipment_type in parameters.CALENDAR_AGING_TYPES
    ]
    for event in room_failures + carried_room_repairs:
        lines[equipment_by_id[event.equipment_id].line_id].downtimes.append((event.started_at, event.ended_at))
    for breakdown in effects.breakdowns(spec.first_day, spec.last_day):
        if breakdown.end_minute <= first_minute or breakdown.start_minute >= horizon:
            continue
        equipment = equipment_by_id[breakdown.equipment_id]
        lines[equipment.line_id].downtimes.append((breakdown.start_minute, breakdown.end_minute))
        if breakdown.start_minute >= first_minute:
            stamp = date_of_day(breakdown.start_minute // MINUTES_PER_DAY).strftime("%Y%m%d")
            clock = f"{(breakdown.start_minute % MINUTES_PER_DAY) // 60:02d}{breakdown.start_minute % 60:02d}"
            modes = reference.failure_modes.get(equipment.equipment_type, ())
            events.append(
                MaintenanceEvent(
                    f"CM-{equipment.equipment_id}-{stamp}{clock}",
                    equipment.equipment_id,
                    "corrective",
                    breakdown.start_minute,
                    breakdown.end_minute,
                    modes[0] if modes else None,
                )
            )
    for line in lines.values():
        line.downtimes.sort()
        line.preventive.sort(key=lambda event: event.started_at)

    executor = Executor(seed, reference, inventory, windows, lines, state.equipment)
    planner = Planner(seed, reference, windows, spec.scale, state.line_pointers, state.demand_backlog_kg, overtime_days)
    rescheduler = Rescheduler(reference, planner, executor, lines)
    # Stops the planner learns of when they start: (minute, line, end), handled in time order with execution.
    line_stops = sorted(
        (breakdown.start_minute, equipment_by_id[breakdown.equipment_id].line_id, breakdown.end_minute)
        for breakdown in effects.breakdowns(spec.first_day, spec.last_day)
        if first_minute <= breakdown.start_minute < horizon
    )

    def advance(limit: int) -> None:
        while line_stops and line_stops[0][0] < limit:
            minute, line_id, end = line_stops.pop(0)
            executor.run_until(minute)
            rescheduler.line_down(line_id, minute, end)
        executor.run_until(limit)
        examine_until(limit)

    weather = daily_weather(seed, effects, spec.first_day, spec.last_day)
    known_stops = events + room_failures + state.carried_events
    room_repairs = [
        event
        for event in known_stops
        if event.maintenance_type == "corrective"
        and equipment_by_id[event.equipment_id].equipment_type in ROOM_TYPES
        and event.ended_at > first_minute
    ]
    backgrounds = iot.sensor_backgrounds(
        seed, reference, spec.first_day, spec.days, spec.iot_interval_min, weather, room_repairs
    )
    live = iot.LiveExcursions(reference, backgrounds)
    for event in known_stops:
        live.add_stop(event)
    run_products = {order.order_id: order.product_id for order in state.orders}
    for run in state.carried_runs:
        live.add_run(run, reference.products[run_products[run.order_id]].input_material_id == iot.PASTEURIZED_INPUT)
    lab = QualityLab(seed, reference)
    examined: dict[str, tuple[list[Sample], list[Rejection]]] = {}
    seen = {"runs": 0, "stops": 0, "executed": 0}
    waiting_lab: list[Order] = []

    def repasteurizing_min(start: int) -> float:
        """A dip of the pasteurizer shorter than DIVERSION_HOLD_MIN while the vat fills: the diversion valve sent
        that milk back and it was pasteurized again, the time lost (a longer dip reached the vat: see quality)."""
        fill_end = start + parameters.VAT_FILL_MIN
        dip = max(live.minutes_below_while_serving(s.sensor_id, start, fill_end) for s in lab.pasteurizer_sensors)
        return dip if dip < parameters.DIVERSION_HOLD_MIN else 0.0

    executor.repasteurizing_min = repasteurizing_min
    for order in state.orders:
        # Defects of an earlier batch's orders found from this batch on are made up here.
        rescheduler.rejected(order, order.rejections, first_minute)

    def examine_until(limit: int) -> None:
        """Give the lab every order that ended by `limit`: by then every stop during its run is known."""
        for order in executor.executed[seen["executed"] :]:
            run_products[order.order_id] = order.product_id
        for run in executor.runs[seen["runs"] :]:
            product = reference.products[run_products[run.order_id]]
            live.add_run(run, product.input_material_id == iot.PASTEURIZED_INPUT)
        seen["runs"] = len(executor.runs)
        for event in executor.corrective[seen["stops"] :]:
            live.add_stop(event)
        seen["stops"] = len(executor.corrective)
        waiting_lab.extend(o for o in executor.executed[seen["executed"] :] if o.cancelled_at is None)
        seen["executed"] = len(executor.executed)
        still = []
        for order in waiting_lab:
            assert order.actual_end is not None
            if order.actual_end > limit:
                still.append(order)
                continue
            examined[order.order_id] = lab.examine(order, executor.input_quality[order.order_id], live)
            rescheduler.rejected(order, examined[order.order_id][1], first_minute)
        waiting_lab[:] = still

    created: list[Order] = rescheduler.created
    on_order = list(state.purchases_on_order)
    disposals = Disposals(seed)
    heat = herd_heat_excess(seed, effects, spec.first_day, spec.last_day)
    for day in range(spec.first_day, spec.last_day + 1):
        day_start = day * MINUTES_PER_DAY
        for lot in milk_receptions(seed, farms, day, effects.milk_supply_factor(day), heat[day - spec.first_day]):
            inventory.add(lot)
            new_lots.append(lot)
            disposals.refused(lot)
        arriving = [purchase for purchase in on_order if purchase.arrives_at < day_start + MINUTES_PER_DAY]
        on_order = [purchase for purchase in on_order if purchase.arrives_at >= day_start + MINUTES_PER_DAY]
        for purchase in arriving:
            material = reference.materials[purchase.material_id]
            lot = purchase_lot(seed, material, purchase, suppliers[material.material_id], f"P{purchase.sequence:04d}")
            inventory.add(lot)
            new_lots.append(lot)
            disposals.refused(lot)
        advance(day_start + parameters.MILK_REVIEW_HOUR * 60)
        disposals.review_milk(inventory, day)
        advance(day_start + parameters.MRP_HOUR * 60)
        rescheduler.milk_check(day_start + parameters.MRP_HOUR * 60)
        rescheduler.make_up(day_start + parameters.MRP_HOUR * 60)
        for line_id in planner.add_overtime(day, extra_days):
            executor.forget_candidate(line_id)
        for order in planner.run(day, effects.demand_factor):
            lines[order.line_id].queue.append(order)
            created.append(order)
        advance(day_start + 8 * 60)
        on_order.extend(_reorder(reference, seed, inventory, on_order, state, usage, spec.scale, effects, day))
        advance(day_start + MINUTES_PER_DAY)
        disposals.write_off_expired(inventory, day)
        inventory.drop_dead_lots(day)
        report("plant simulation (days)", 1, spec.days)
    for line in lines.values():
        # Preventive work done after the line's last start still renewed its equipment; the next batch must know.
        executor.apply_preventive(line, horizon)
    examine_until(math.inf)  # type: ignore[arg-type]

    folder = spec.folder if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, dict[str, object]] = {}
    all_events = events + room_failures + executor.corrective
    iot_total = spec.days * MINUTES_PER_DAY // spec.iot_interval_min * len(reference.sensors)
    with (folder / dataset_file("iot_readings")).open("wb") as raw:
        writer = HashingWriter(raw)
        writer.write(csvout.header("iot_readings"))
        iot_rows, _ = iot.simulate_and_write(
            writer,  # type: ignore[arg-type]
            seed,
            scenario_id,
            reference,
            spec.first_day,
            spec.days,
            spec.iot_interval_min,
            weather,
            room_repairs,
            lambda rows: report("iot_readings (rows)", rows, iot_total),
            runs=state.carried_runs + executor.runs,
            downtimes=all_events + state.carried_events,
            unpasteurized_orders={
                order.order_id
                for order in executor.executed + state.orders
                if reference.products[order.product_id].input_material_id != iot.PASTEURIZED_INPUT
            },
            backgrounds=backgrounds,
        )
    outputs["iot_readings"] = _output(dataset_file("iot_readings"), iot_rows, writer)

    runs: list[Run] = state.carried_runs + executor.runs
    with (folder / dataset_file("energy_readings")).open("wb") as raw:
        writer = HashingWriter(raw)
        writer.write(csvout.header("energy_readings"))
        energy_rows = energy.simulate_and_write(
            writer,  # type: ignore[arg-type]
            seed,
            scenario_id,
            reference,
            spec.first_day,
            spec.days,
            runs,
            weather,
        )
    outputs["energy_readings"] = _output(dataset_file("energy_readings"), energy_rows, writer)
    report("energy_readings", 1, 1)

    samples, rejections = [], []
    for order in executor.executed:
        if order.cancelled_at is not None:
            continue
        order_samples, order_rejections = examined[order.order_id]
        order.rejections = order_rejections
        samples.extend(
            (scenario_id, s.sample_id, s.order_id, s.test_id, s.sampled_at, s.value, s.is_pass) for s in order_samples
        )
        rejections.extend(
            (scenario_id, f"REJ-{order.order_id[3:]}-{n:02d}", order.order_id, r.detected_at, r.rejected_kg, r.cause_id)
            for n, r in enumerate(order_rejections, start=1)
        )
    report("quality", 1, 1)

    event_rows: dict[str, list[tuple[object, ...]]] = {
        "stock_lots": [_lot_row(scenario_id, lot) for lot in new_lots + executor.whey_lots],
        "material_consumptions": [
            (scenario_id, c.consumption_id, c.order_id, c.lot_id, c.material_id, c.consumed_at, c.quantity)
            for c in executor.consumptions
        ],
        "maintenance_events": [_event_row(scenario_id, event) for event in all_events],
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
            for m in disposals.movements
        ],
        "quality_samples": samples,
        "quality_rejections": rejections,
    }
    pending: dict[str, list[list[object]]] = {}
    for name, rows in event_rows.items():
        rows.extend(tuple(row) for row in state.pending_rows.get(name, []))
        time_index = BY_NAME[name].column_names.index(BY_NAME[name].event_time_column)
        rows.sort(key=lambda row, i=time_index: (row[i], row[1]))  # type: ignore[misc]
        pending[name] = [list(row) for row in rows if row[time_index] >= horizon]  # type: ignore[operator]
        event_rows[name] = [row for row in rows if row[time_index] < horizon]  # type: ignore[operator]

    tracked = state.orders + created
    created_ids = {order.order_id for order in created}
    order_rows = []
    next_views: dict[str, dict[str, object]] = {}
    still_open: list[Order] = []
    for order in sorted(tracked, key=lambda o: (o.created_at, o.order_id)):
        view = order.view(horizon)
        if order.order_id in created_ids or view != state.last_written_views.get(order.order_id):
            order_rows.append(_order_row(scenario_id, order, view))
        if not order.is_settled(horizon):
            still_open.append(order)
            next_views[order.order_id] = view
    event_rows["production_orders"] = order_rows
    event_rows["capacity_calendar"] = [
        (scenario_id, row.line_id, row.day, row.shift_id, row.planned_min, row.planned_downtime_min)
        for row in capacity_rows(
            reference,
            spec.first_day,
            spec.last_day,
            {line_id: worked_sundays[line_id] | overtime_days.get(line_id, set()) for line_id in reference.lines},
        )
    ]
    event_rows["weather_daily"] = [
        (scenario_id, day, float(weather[0][i]), float(weather[1][i]))
        for i, day in enumerate(range(spec.first_day, spec.last_day + 1))
    ]

    for dataset in DATASETS:
        if dataset.name in outputs:
            continue
        file_name = dataset_file(dataset.name)
        with (folder / file_name).open("wb") as raw:
            writer = HashingWriter(raw)
            writer.write(csvout.header(dataset.name))
            rows_written = csvout.write_rows(writer, dataset.name, event_rows[dataset.name])  # type: ignore[arg-type]
        outputs[dataset.name] = _output(file_name, rows_written, writer)
        report(dataset.name, 1, 1)

    carried_runs = [run for run in runs if run.end > horizon]
    carried_events = [event for event in all_events + state.carried_events if event.ended_at > horizon]
    inventory.drop_dead_lots(spec.last_day + 1)
    next_state = PlantState(
        scenario_id=scenario_id,
        seed=seed,
        scale=spec.scale,
        iot_interval_min=spec.iot_interval_min,
        origin_day=state.origin_day,
        last_day=spec.last_day,
        batch_name=spec.batch_name,
        line_pointers=planner.line_pointers,
        demand_backlog_kg=planner.demand_backlog_kg,
        line_free_at={line_id: line.free_at for line_id, line in lines.items()},
        line_last_product={line_id: line.last_product_id for line_id, line in lines.items()},
        equipment=state.equipment,
        lots=inventory.all_lots(),
        purchases_on_order=on_order,
        purchase_sequence=state.purchase_sequence,
        orders=still_open,
        last_written_views=next_views,
        pending_rows=pending,
        carried_runs=carried_runs,
        carried_events=carried_events,
        shortfalls={key: round(value, 3) for key, value in executor.material_shortfalls.items()},
        # The next batch's windows start a few days before its first day.
        overtime_days={
            line_id: sorted(day for day in days if day > spec.last_day - 7) for line_id, days in overtime_days.items()
        },
    )
    next_state.save(folder)
    manifest = {
        "scenario_id": scenario_id,
        "seed": seed,
        "first_date": date_of_day(spec.first_day).isoformat(),
        "last_date": date_of_day(spec.last_day).isoformat(),
        "iot_interval_min": spec.iot_interval_min,
        "scale": spec.scale,
        "continues": previous.batch_name if previous is not None else None,
        "datasets": {dataset.name: outputs[dataset.name] for dataset in DATASETS},
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _output(file_name: str, rows: int, writer: HashingWriter) -> dict[str, object]:
    return {"file": file_name, "rows": rows, "bytes": writer.bytes, "sha256": writer.sha256.hexdigest()}


def _reorder(
    reference: Reference,
    seed: int,
    inventory: Inventory,
    on_order: list[PurchaseOrder],
    state: PlantState,
    usage: dict[str, float],
    scale: float,
    effects: ScenarioEffects,
    day: int,
) -> list[PurchaseOrder]:
    """Daily review of purchased materials: order when the position no longer covers lead time plus safety."""
    placed = []
    for material_id in _purchased_materials(reference):
        material = reference.materials[material_id]
        rate = usage.get(material_id, 0.0) * effects.demand_factor(day)
        if rate <= 0:
            continue
        position = sum(
            lot.remaining
            for lot in inventory.lots.get(material_id, ())
            if lot.qc_status == "released" and lot.expires_at >= day * MINUTES_PER_DAY
        ) + sum(purchase.quantity for purchase in on_order if purchase.material_id == material_id)
        if position >= rate * (material.lead_time_days + parameters.SAFETY_STOCK_DAYS):
            continue
        # A bigger --scale means more, smaller deliveries (more lot rows), never more material.
        cover = min(parameters.REORDER_COVER_DAYS / scale, 0.5 * material.shelf_life_days)
        sequence = state.purchase_sequence.get(material_id, 0) + 1
        state.purchase_sequence[material_id] = sequence
        hour = float(stream(seed, "reorder", material_id, sequence).uniform(9.0, 16.0))
        arrives = (day + material.lead_time_days) * MINUTES_PER_DAY + math.floor(hour * 60)
        placed.append(PurchaseOrder(material_id, arrives, round_purchase(rate * cover, material.unit), sequence))
    return placed
