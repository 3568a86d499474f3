"""The days of one batch, as the plant lives them: milk and purchases arrive, the morning milk review, MRP and the
planner, the lines run the orders, and the lab examines each order once it has ended."""

from __future__ import annotations

import math
from functools import partial

from generators import iot, parameters
from generators.batch_spec import BatchSpec
from generators.calendar import production_windows
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.downtimes import KnownStops, schedule_known_stops
from generators.erp import SimulatedErp
from generators.execution import Executor, LineState
from generators.orders import Order, Planner, Rejection, fresh_lines
from generators.quality import ROOM_TYPES, QualityLab, Sample
from generators.randomness import stream
from generators.reference import Reference
from generators.rescheduling import Rescheduler
from generators.scenarios import ScenarioEffects
from generators.state import PlantState
from generators.stock import (
    Disposals,
    Inventory,
    Lot,
    PlannedCollection,
    PurchaseOrder,
    make_farms,
    milk_collection_plan,
    milk_receptions,
    milk_routes,
    purchase_lot,
    round_purchase,
)
from generators.weather import daily_weather, herd_heat_excess

PLANNING_LOOKAHEAD_DAYS = 240


class BatchSimulation:
    """One batch of one scenario while its days run: `run_day` for each day, then `finish` (the preventive work
    after the lines' last starts, the last lab results). Its attributes are what the batch's datasets and the
    state to continue from are written from."""

    def __init__(
        self,
        reference: Reference,
        spec: BatchSpec,
        state: PlantState,
        usage: dict[str, float],
        suppliers: dict[str, str],
        *,
        fresh: bool,
    ) -> None:
        self.reference, self.spec, self.state, self.usage, self.suppliers = reference, spec, state, usage, suppliers
        self.seed, self.first_day, self.last_day = spec.seed, spec.first_day, spec.last_day
        self.first_minute, self.horizon = spec.first_day * MINUTES_PER_DAY, (spec.last_day + 1) * MINUTES_PER_DAY
        self.effects = ScenarioEffects(reference.scenarios[spec.scenario_id])
        self.farms = make_farms(self.seed, usage["MILK"] * parameters.MILK_SUPPLY_MARGIN, spec.scale)
        self.routes = milk_routes(self.farms)
        self.collection_plan: list[PlannedCollection] = []
        self.placed_purchases: list[PurchaseOrder] = []
        self._plan_calendar()
        self.inventory = Inventory()
        for lot in state.lots:
            self.inventory.add(lot)
        self.erp = SimulatedErp.resumed(
            reference, self.first_minute, state.lots, state.orders, state.erp_requirements, state.erp_reservations
        )
        # A fresh plant writes its opening stock; a continuation's carried lots were written by earlier batches.
        self.new_lots: list[Lot] = list(state.lots) if fresh else []
        self.lines = self._lines()
        self.stops: KnownStops = schedule_known_stops(
            reference, spec.seed, state, self.effects, self.lines, spec.first_day, spec.last_day
        )
        self._watch_sensors()
        self.executor = Executor(
            self.seed,
            reference,
            self.inventory,
            self.erp,
            self.windows,
            self.lines,
            state.equipment,
            self.repasteurizing_min,
        )
        self.executor.expected_receipt_at = self.expected_receipt_at
        self.planner = Planner(
            self.seed,
            reference,
            self.windows,
            spec.scale,
            state.line_pointers,
            state.demand_backlog_kg,
            self.overtime_days,
        )
        self.rescheduler = Rescheduler(reference, self.planner, self.executor, self.lines)
        for order in state.orders:
            # Defects of an earlier batch's orders found from this batch on are made up here.
            self.rescheduler.rejected(order, order.rejections, self.first_minute)
        self.created: list[Order] = self.rescheduler.created
        self.on_order: list[PurchaseOrder] = list(state.purchases_on_order)
        self.disposals = Disposals(self.seed, self.erp)
        self.erp.before_expiry = partial(self.disposals.write_off_at_expiry, self.inventory)
        self.heat = herd_heat_excess(self.seed, self.effects, spec.first_day, spec.last_day)

    def _plan_calendar(self) -> None:
        """The lines' production windows, with the Sundays they work."""
        reference, effects = self.reference, self.effects
        planned_first_day, planned_last_day = self.first_day - 3, self.last_day + PLANNING_LOOKAHEAD_DAYS
        # Through a demand peak, the lines of fresh cheeses (no stock can be built ahead for them) work Sunday
        # afternoon and night shifts; they are in the capacity calendar.
        peak_sundays = frozenset(
            day
            for day in range(planned_first_day, planned_last_day + 1)
            if date_of_day(day).isoweekday() == 7 and effects.demand_factor(day) >= parameters.EXTRA_SHIFT_DEMAND_FACTOR
        )
        self.extra_days = dict.fromkeys(fresh_lines(reference), peak_sundays)
        self.overtime_days = {line_id: set(days) for line_id, days in self.state.overtime_days.items()}
        self.worked_sundays = {
            line_id: frozenset(self.extra_days.get(line_id, frozenset()) | self.overtime_days.get(line_id, set()))
            for line_id in reference.lines
        }
        self.windows = production_windows(reference, planned_first_day, planned_last_day, self.worked_sundays)

    def _lines(self) -> dict[str, LineState]:
        """Each line as the last batch left it, with the orders still waiting to start in its queue."""
        state = self.state
        lines = {
            line_id: LineState(line_id, state.line_free_at[line_id], state.line_last_product[line_id])
            for line_id in self.reference.lines
        }
        waiting = sorted(
            (o for o in state.orders if o.actual_start is None and o.cancelled_at is None),
            key=lambda o: (o.planned_start, o.order_id),
        )
        for order in waiting:
            lines[order.line_id].queue.append(order)
        return lines

    def _watch_sensors(self) -> None:
        """The weather, the sensors' background and the lab, which judges each order by the readings during its
        run: the stops known in advance and the runs carried over are given to it now."""
        reference, state, equipment_by_id = self.reference, self.state, self.reference.equipment_by_id()
        self.weather = daily_weather(self.seed, self.effects, self.first_day, self.last_day)
        known_stops = self.stops.events + self.stops.room_failures + state.carried_events
        self.room_repairs = [
            event
            for event in known_stops
            if event.maintenance_type == "corrective"
            and equipment_by_id[event.equipment_id].equipment_type in ROOM_TYPES
            and event.ended_at > self.first_minute
        ]
        self.backgrounds = iot.sensor_backgrounds(
            self.seed,
            reference,
            self.first_day,
            self.spec.days,
            self.spec.iot_interval_min,
            self.weather,
            self.room_repairs,
        )
        self.live = iot.LiveExcursions(reference, self.backgrounds)
        for event in known_stops:
            self.live.add_stop(event)
        self.run_products = {order.order_id: order.product_id for order in state.orders}
        for run in state.carried_runs:
            product = reference.products[self.run_products[run.order_id]]
            self.live.add_run(run, product.input_material_id == iot.PASTEURIZED_INPUT)
        self.lab = QualityLab(self.seed, reference)
        self.examined: dict[str, tuple[list[Sample], list[Rejection]]] = {}
        self._seen = {"runs": 0, "stops": 0, "executed": 0}
        self._waiting_lab: list[Order] = []

    def repasteurizing_min(self, start: int) -> float:
        """A dip of the pasteurizer shorter than DIVERSION_HOLD_MIN while the vat fills: the diversion valve sent
        that milk back and it was pasteurized again, the time lost (a longer dip reached the vat: see quality)."""
        fill_end = start + parameters.VAT_FILL_MIN
        dip = max(
            self.live.minutes_below_while_serving(sensor.sensor_id, start, fill_end)
            for sensor in self.lab.pasteurizer_sensors
        )
        return dip if dip < parameters.DIVERSION_HOLD_MIN else 0.0

    def expected_receipt_at(self, material_id: str, minute: int) -> int | None:
        """When the ERP's scheduled receipts bring a material next after `minute`: raw milk by the collection plan
        (each route's expected arrival, the afternoon before for the next day), purchases by their due arrival.
        Whey has none: it comes from the vats."""
        if material_id == "MILK":
            day_start = minute // MINUTES_PER_DAY * MINUTES_PER_DAY
            return min(
                arrival
                for start in (day_start, day_start + MINUTES_PER_DAY)
                for route in self.routes
                if (arrival := start + route.expected_minute_of_day) > minute
            )
        due = [lot.received_at for lot in self.inventory.lots.get(material_id, ()) if lot.received_at > minute]
        due += [purchase.arrives_at for purchase in self.on_order if purchase.material_id == material_id]
        return min(due, default=None)

    def run_day(self, day: int) -> None:
        """One day: the receptions, then the plant runs from one daily planning moment to the next."""
        day_start = day * MINUTES_PER_DAY
        self._receive(day)
        review_minute = day_start + parameters.MILK_REVIEW_HOUR * 60
        self._advance(review_minute)
        # The vats starting at the review's minute go first: the ERP takes starts before stock movements.
        self.executor.run_until(review_minute + 1)
        self.disposals.review_milk(self.inventory, day)
        mrp_minute = day_start + parameters.MRP_HOUR * 60
        self._advance(mrp_minute)
        self.rescheduler.milk_check(mrp_minute)
        self.rescheduler.make_up(mrp_minute)
        for line_id in self.planner.add_overtime(day, self.extra_days):
            self.executor.forget_candidate(line_id)
        for order in self.planner.run(day, self.effects.demand_factor):
            self.lines[order.line_id].queue.append(order)
            self.created.append(order)
            self.erp.schedule_release(order)
        self._advance(day_start + parameters.REORDER_HOUR * 60)
        placed = self._reorder(day)
        self.on_order.extend(placed)
        self.placed_purchases.extend(placed)
        self._advance(day_start + MINUTES_PER_DAY)
        self.disposals.write_off_expired(self.inventory, day)
        self.inventory.drop_dead_lots(day)

    def finish(self) -> None:
        for line in self.lines.values():
            # Preventive work done after the line's last start still renewed its equipment; the next batch must know.
            self.executor.apply_preventive(line, self.horizon)
        self._examine_until(math.inf)  # type: ignore[arg-type]
        # The ERP as at the batch's end: what happens from its first minute on is the next batch's.
        self.erp.advance(self.horizon)

    def _receive(self, day: int) -> None:
        """The day's milk from the farms and the purchases due by its end, each a new lot (refused ones at once)."""
        heat = self.heat[day - self.first_day]
        self.collection_plan.extend(milk_collection_plan(self.routes, day, self.effects.milk_supply_factor(day)))
        for lot in milk_receptions(self.seed, self.farms, day, self.effects.milk_supply_factor(day), heat):
            self._stock(lot)
        day_end = (day + 1) * MINUTES_PER_DAY
        arriving = [purchase for purchase in self.on_order if purchase.arrives_at < day_end]
        self.on_order = [purchase for purchase in self.on_order if purchase.arrives_at >= day_end]
        for purchase in arriving:
            material = self.reference.materials[purchase.material_id]
            supplier = self.suppliers[material.material_id]
            self._stock(purchase_lot(self.seed, material, purchase, supplier, f"P{purchase.sequence:04d}"))

    def _stock(self, lot: Lot) -> None:
        self.inventory.add(lot)
        self.new_lots.append(lot)
        self.erp.schedule_receipt(lot)
        self.disposals.refused(lot)

    def _advance(self, limit: int) -> None:
        """Run the lines to `limit`, the planner reacting to each breakdown as it starts, then hand the lab every
        order that ended."""
        line_stops = self.stops.line_stops
        while line_stops and line_stops[0][0] < limit:
            minute, line_id, end = line_stops.pop(0)
            self.executor.run_until(minute)
            self.rescheduler.line_down(line_id, minute, end)
        self.executor.run_until(limit)
        self._examine_until(limit)

    def _examine_until(self, limit: int) -> None:
        """Give the lab every order that ended by `limit`: by then every stop during its run is known."""
        executor, seen, live = self.executor, self._seen, self.live
        for order in executor.executed[seen["executed"] :]:
            self.run_products[order.order_id] = order.product_id
        for run in executor.runs[seen["runs"] :]:
            product = self.reference.products[self.run_products[run.order_id]]
            live.add_run(run, product.input_material_id == iot.PASTEURIZED_INPUT)
        seen["runs"] = len(executor.runs)
        for event in executor.corrective[seen["stops"] :]:
            live.add_stop(event)
        seen["stops"] = len(executor.corrective)
        self._waiting_lab.extend(o for o in executor.executed[seen["executed"] :] if o.cancelled_at is None)
        seen["executed"] = len(executor.executed)
        still = []
        for order in self._waiting_lab:
            assert order.actual_end is not None
            if order.actual_end > limit:
                still.append(order)
                continue
            self.examined[order.order_id] = self.lab.examine(order, executor.input_quality[order.order_id], live)
            self.rescheduler.rejected(order, self.examined[order.order_id][1], self.first_minute)
        self._waiting_lab = still

    def _reorder(self, day: int) -> list[PurchaseOrder]:
        """Daily review of purchased materials: order when the position no longer covers lead time plus safety."""
        reference, state, scale = self.reference, self.state, self.spec.scale
        placed = []
        for material_id in purchased_materials(reference):
            material = reference.materials[material_id]
            rate = self.usage.get(material_id, 0.0) * self.effects.demand_factor(day)
            if rate <= 0:
                continue
            position = sum(
                lot.remaining
                for lot in self.inventory.lots.get(material_id, ())
                if lot.qc_status == "released" and lot.expires_at >= day * MINUTES_PER_DAY
            ) + sum(purchase.quantity for purchase in self.on_order if purchase.material_id == material_id)
            if position >= rate * (material.lead_time_days + parameters.SAFETY_STOCK_DAYS):
                continue
            # A bigger --scale means more, smaller deliveries (more lot rows), never more material.
            cover = min(parameters.REORDER_COVER_DAYS / scale, 0.5 * material.shelf_life_days)
            sequence = state.purchase_sequence.get(material_id, 0) + 1
            state.purchase_sequence[material_id] = sequence
            hour = float(stream(self.seed, "reorder", material_id, sequence).uniform(9.0, 16.0))
            arrives = (day + material.lead_time_days) * MINUTES_PER_DAY + math.floor(hour * 60)
            placed.append(
                PurchaseOrder(
                    material_id,
                    arrives,
                    round_purchase(rate * cover, material.unit),
                    sequence,
                    ordered_at=day * MINUTES_PER_DAY + parameters.REORDER_HOUR * 60,
                )
            )
        return placed


def purchased_materials(reference: Reference) -> list[str]:
    return [m.material_id for m in reference.materials.values() if not m.is_internal and m.material_id != "MILK"]
