"""Shop-floor execution: orders start when the line is free and inside a window, take milk/whey and materials FEFO
from what is really in stock, run at a realistic rate, stop for failures and repairs, and leave whey behind.

Lines are advanced together in time order (a global event loop over order starts) because they share the milk.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from generators import parameters
from generators.calendar import ProductionWindows
from generators.clock import MINUTES_PER_DAY
from generators.erp import SimulatedErp, sequence
from generators.maintenance import EquipmentState, MaintenanceEvent, corrective_event, minor_stop_event, renew
from generators.orders import Order
from generators.randomness import stream
from generators.reference import Equipment, Reference
from generators.stock import Inventory, Lot


@dataclass
class Consumption:
    consumption_id: str
    order_id: str
    lot_id: str
    material_id: str
    consumed_at: int
    quantity: float
    # Why the lot was not one the ERP reserved for the order (None when it was): see Executor._issue.
    deviation_reason: str | None = None


@dataclass
class Run:
    """One order on its line, for the energy and IoT models."""

    order_id: str
    line_id: str
    start: int
    end: int
    produced_kg: float


@dataclass
class InputQuality:
    fat_pct: float | None
    protein_pct: float | None
    cbt: float | None


@dataclass
class LineState:
    line_id: str
    free_at: int
    last_product_id: str | None
    queue: list[Order] = field(default_factory=list)
    downtimes: list[tuple[int, int]] = field(default_factory=list)
    preventive: list[MaintenanceEvent] = field(default_factory=list)


def _solids_index(fat_pct: float, protein_pct: float) -> float:
    # Van Slyke: cheese yield is proportional to 0.93·F + C − 0.1 (C = casein ≈ 78 % of protein).
    return 0.93 * fat_pct + parameters.CASEIN_SHARE_OF_PROTEIN * protein_pct - 0.1


REFERENCE_SOLIDS = _solids_index(parameters.REFERENCE_FAT_PCT, parameters.REFERENCE_PROTEIN_PCT)


# Issues come in whole thousandths of the unit (stock.Inventory.take): less than that cannot be issued.
ISSUE_STEP = 0.001


class Executor:
    def __init__(
        self,
        seed: int,
        reference: Reference,
        inventory: Inventory,
        erp: SimulatedErp,
        windows: dict[str, ProductionWindows],
        lines: dict[str, LineState],
        equipment_states: dict[str, EquipmentState],
        repasteurizing_min: Callable[[int], float] | None = None,
    ) -> None:
        self.seed = seed
        self.reference = reference
        self.inventory = inventory
        self.erp = erp
        self.windows = windows
        self.lines = lines
        self.equipment_states = equipment_states
        equipment_by_line: dict[str, list[Equipment]] = {}
        for item in reference.equipment:
            # Always-on rooms wear on the calendar instead (generators/rooms.py); their failures come as downtimes.
            if item.equipment_type not in parameters.CALENDAR_AGING_TYPES:
                equipment_by_line.setdefault(item.line_id, []).append(item)
        self.equipment_by_line = equipment_by_line
        self.consumptions: list[Consumption] = []
        self.corrective: list[MaintenanceEvent] = []
        self.whey_lots: list[Lot] = []
        self.runs: list[Run] = []
        self.input_quality: dict[str, InputQuality] = {}
        self.executed: list[Order] = []
        self.material_shortfalls: dict[str, float] = {}
        self._candidates: dict[str, int] = {}
        # How far the lines have run: an order that reaches the head of its queue later (the one before it was
        # cancelled while it waited) cannot start in the past.
        self.now = 0
        self._equipment_by_id = reference.equipment_by_id()
        # Called when an order is cancelled at its start for want of milk: the planner may replace it.
        self.on_cancel: Callable[[Order, int], None] | None = None
        # When the ERP's scheduled receipts (collection plan, purchase orders) bring a material next after a minute.
        self.expected_receipt_at: Callable[[str, int], int | None] = lambda material_id, minute: None
        # Minutes a milk batch starting at a minute loses while the pasteurizer's diverted milk is re-pasteurized.
        self.repasteurizing_min = repasteurizing_min

    def _settle(self, line: LineState, minute: int) -> int:
        """Move a start out of closed time and out of downtime until it is stable."""
        while True:
            moved = self.windows[line.line_id].next_open(minute)
            for start, end in line.downtimes:
                if start <= moved < end:
                    moved = end
            if moved == minute:
                return minute
            minute = moved

    def _candidate_start(self, line: LineState) -> int:
        if line.line_id not in self._candidates:
            order = line.queue[0]
            rng = stream(self.seed, "start", order.order_id)
            delay = min(max(rng.normal(parameters.START_DELAY_MEAN_MIN, parameters.START_DELAY_SD_MIN), -15.0), 90.0)
            changeover = (
                parameters.CHANGEOVER_MIN_SAME_PRODUCT
                if line.last_product_id in (None, order.product_id)
                else parameters.CHANGEOVER_MIN_OTHER_PRODUCT
            )
            earliest = max(
                order.planned_start + round(delay), line.free_at + changeover, order.wait_until or 0, self.now
            )
            self._candidates[line.line_id] = self._settle(line, earliest)
        return self._candidates[line.line_id]

    def forget_candidate(self, line_id: str) -> None:
        """The head of the line's queue changed: its start must be worked out again."""
        self._candidates.pop(line_id, None)

    def run_until(self, limit: int) -> None:
        """Execute, in time order across lines, every queued order that starts before `limit`; orders starting at
        one minute (those that waited for the same delivery, say) in the ERP's order sequence, as it issues them."""
        while True:
            candidates = [
                (self._candidate_start(line), sequence(line.queue[0]), line)
                for line in (self.lines[line_id] for line_id in self.reference.lines)
                if line.queue
            ]
            best_start, _, best_line = min(candidates, key=lambda item: item[:2], default=(limit, None, None))
            if best_line is None or best_start >= limit:
                self.now = max(self.now, limit)
                return
            self.now = best_start
            order = best_line.queue[0]
            self._candidates.pop(best_line.line_id, None)
            reaction = self._ready(order, best_start)
            if reaction == "wait":
                continue
            best_line.queue.pop(0)
            if reaction == "replace":
                # The planner cancels it the minute after it was found short: in the ERP's sequence a cancellation
                # comes before the releases and starts of its own minute, and those of this minute are done.
                order.cancelled_at = best_start + 1
                self.executed.append(order)
                if self.on_cancel is not None:
                    self.on_cancel(order, order.cancelled_at)
                continue
            self._execute(best_line, order, best_start)

    def _ready(self, order: Order, start: int) -> str:
        """The planner's look at the ERP before the vat starts (DOMAIN.md §3): what to do with an order some of whose
        requirements no lot holds.

        Short of its milk (or whey), it waits for the next scheduled receipt, for at most WAIT_FOR_MATERIAL_MAX_H
        since it was first ready, and on while what it holds could still make it in full (started, it would be a
        shortage that hurts nothing); then it starts and makes what the milk allows, or is replaced when it holds
        less than CANCEL_BELOW_INPUT_SHARE of it. Short of anything else (a culture, a coagulant, packaging), no
        cheese can be made: it waits for the purchase order that brings it, or is replaced when none is due."""
        missing = self.erp.missing_materials(order, start)
        if not missing:
            return "start"
        if order.short_since is None:
            order.short_since = start
        input_id = self.reference.products[order.product_id].input_material_id
        others = [self.expected_receipt_at(material_id, start) for material_id in missing if material_id != input_id]
        if others:
            if any(arrival is None for arrival in others):
                return "replace"
            order.wait_until = min(arrival for arrival in others if arrival is not None)
            return "wait"
        next_arrival = self.expected_receipt_at(input_id, start)
        deadline = order.short_since + parameters.WAIT_FOR_MATERIAL_MAX_H * 60
        if next_arrival is not None and (next_arrival <= deadline or self._held_makes_in_full(order)):
            order.wait_until = next_arrival
            return "wait"
        requirement = self.erp.requirement(order, input_id)
        held_share = 1 - requirement.open / requirement.required if requirement and requirement.required else 1.0
        if held_share < parameters.CANCEL_BELOW_INPUT_SHARE:
            return "replace"
        return "start"

    def _held_makes_in_full(self, order: Order) -> bool:
        """Whether the milk (or whey) the order holds could still make it in full: the cheesemaker's estimate from the
        lots' solids and the recipe's process loss (without the fill allowance), given the benefit of the yield's
        spread (PLANNER_YIELD_MARGIN), against the in-full tolerance."""
        product = self.reference.products[order.product_id]
        recipe_line = next(
            item for item in self.reference.recipes[order.product_id] if item.material_id == product.input_material_id
        )
        lots = {lot.lot_id: lot for lot in self.inventory.lots.get(recipe_line.material_id, ())}
        held = [(lots[lot_id], quantity) for lot_id, quantity in self.erp.held(order, recipe_line.material_id)]
        litres = sum(quantity for _, quantity in held)
        if litres <= 0:
            return False
        per_kg = recipe_line.quantity_per_kg * (1 + recipe_line.scrap_factor - parameters.BATCH_FILL_ALLOWANCE)
        expected_kg = litres / per_kg * _milk_solids_ratio(held)
        return expected_kg * (1 + parameters.PLANNER_YIELD_MARGIN) >= parameters.MAKE_UP_BELOW_SHARE * order.planned_kg

    def apply_preventive(self, line: LineState, minute: int) -> None:
        by_id = self._equipment_by_id
        while line.preventive and line.preventive[0].started_at <= minute:
            event = line.preventive.pop(0)
            renew(self.seed, by_id[event.equipment_id], self.equipment_states[event.equipment_id])

    def _issue(
        self, order: Order, material_id: str, minute: int, quantity: float, reserved: list[tuple[str, float]]
    ) -> list[tuple[Lot, float]]:
        """Goods issue of up to `quantity` (DOMAIN.md §3): what the ERP reserved for the order first, lot by lot;
        then, as a recorded deviation, whatever else the vat takes (more than the bill of materials: a high scrap, a
        top-up for poor milk; or what was short at start), from stock nobody holds, of any lot. The floor never
        takes stock the ERP holds for other orders: the vat goes without (material_shortfalls)."""
        taken: list[tuple[Lot, float]] = []
        wanted = quantity
        lots = {lot.lot_id: lot for lot in self.inventory.lots.get(material_id, ())}
        for lot_id, held in reserved:
            lot = lots.get(lot_id)
            if wanted < ISSUE_STEP or lot is None or not lot.usable(minute):
                continue
            can_take = min(self.erp.issuable(lot, minute), held)
            if can_take > 1e-9:
                wanted -= self._take(order, lot, min(can_take, wanted), minute, None, taken)
        if wanted >= ISSUE_STEP:
            requirement = self.erp.requirement(order, material_id)
            started_short = requirement is not None and requirement.short_at_start > 0
            reason = "short_at_start" if started_short else "over_requirement"
            for lot in self.inventory.lots.get(material_id, ()):
                if wanted < ISSUE_STEP:
                    break
                if lot.remaining > 1e-9 and lot.usable(minute):
                    can_take = self.erp.free(lot, minute)
                    if can_take > 1e-9:
                        wanted -= self._take(order, lot, min(can_take, wanted), minute, reason, taken)
        issued = quantity - wanted
        if issued < quantity - 1e-6:
            self.material_shortfalls[material_id] = self.material_shortfalls.get(material_id, 0.0) + quantity - issued
        return taken

    def _take(
        self,
        order: Order,
        lot: Lot,
        quantity: float,
        minute: int,
        reason: str | None,
        taken: list[tuple[Lot, float]],
    ) -> float:
        amount = self.inventory.take(lot, quantity)
        if amount <= 0:
            return 0.0
        self.erp.take(lot, amount, minute, order.order_id)
        taken.append((lot, amount))
        self.consumptions.append(
            # numbered once all of the order's issues are known
            Consumption("", order.order_id, lot.lot_id, lot.material_id, minute, amount, reason)
        )
        return amount

    def _execute(self, line: LineState, order: Order, start: int) -> None:
        product = self.reference.products[order.product_id]
        recipe = self.reference.recipes[order.product_id]
        rng = stream(self.seed, "execute", order.order_id)
        scrap_draws = rng.uniform(0.3, 1.7, size=len(recipe))
        performance = min(max(rng.normal(parameters.PERFORMANCE_MEAN, parameters.PERFORMANCE_SD), 0.7), 1.0)
        yield_noise = rng.normal(1.0, parameters.YIELD_NOISE_SD)
        whey_noise = rng.normal(1.0, 0.03)
        self.apply_preventive(line, start)

        input_index = next(i for i, item in enumerate(recipe) if item.material_id == product.input_material_id)
        input_line = recipe[input_index]
        # The bill of materials sizes the vat to deliver the order in full: its scrap factor for the milk (or whey)
        # holds the fill allowance on top of the process's own losses, which vary from batch to batch.
        input_scrap = (input_line.scrap_factor - parameters.BATCH_FILL_ALLOWANCE) * scrap_draws[input_index]
        per_kg = input_line.quantity_per_kg * (1 + input_scrap)
        wanted = order.planned_kg * input_line.quantity_per_kg * (1 + input_line.scrap_factor)
        available = self.inventory.available(input_line.material_id, start)
        first_consumption = len(self.consumptions)
        reserved = self.erp.start(order, start)
        taken = self._issue(
            order, input_line.material_id, start, min(wanted, available), reserved.get(input_line.material_id, [])
        )
        solids = _milk_solids_ratio(taken)
        if solids < 1.0 - parameters.BATCH_FILL_ALLOWANCE / 2:
            # Milk poor enough to eat the allowance makes too little cheese: the vat is topped up for a full order.
            left = available - sum(amount for _, amount in taken)
            top_up = min(wanted * (1 / solids - 1), left)
            if top_up > 1e-6:
                taken = taken + self._issue(order, input_line.material_id, start, top_up, [])
        used = sum(amount for _, amount in taken)
        fat = _weighted([(lot.fat_pct, amount) for lot, amount in taken if lot.fat_pct is not None])
        protein = _weighted([(lot.protein_pct, amount) for lot, amount in taken if lot.protein_pct is not None])
        cbt = _weighted([(lot.cbt, amount) for lot, amount in taken if lot.cbt is not None])
        yield_factor = yield_noise
        if fat is not None and protein is not None:
            yield_factor *= _solids_index(fat, protein) / REFERENCE_SOLIDS
        produced = round(used / per_kg * yield_factor, 2)

        for index, item in enumerate(recipe):
            if index == input_index:
                continue
            quantity = produced * item.quantity_per_kg * (1 + item.scrap_factor * scrap_draws[index])
            self._issue(order, item.material_id, start, quantity, reserved.get(item.material_id, []))
        self.erp.end_goods_issue()
        for number, consumption in enumerate(self.consumptions[first_consumption:], start=1):
            consumption.consumption_id = f"CON-{order.order_id[3:]}-{number:02d}"

        run_minutes = produced / (product.ideal_rate_kg_per_h * performance) * 60
        if product.input_material_id == "MILK" and self.repasteurizing_min is not None:
            run_minutes += self.repasteurizing_min(start)
        end = self._run(line, start, run_minutes)
        order.actual_start, order.actual_end, order.produced_kg = start, end, produced
        self.input_quality[order.order_id] = InputQuality(fat, protein, cbt)
        self.runs.append(Run(order.order_id, line.line_id, start, end, produced))
        self.executed.append(order)
        line.free_at, line.last_product_id = end, order.product_id
        if product.whey_l_per_kg > 0:
            self._leave_whey(order, math.floor(produced * product.whey_l_per_kg * whey_noise), end)

    def _leave_whey(self, order: Order, litres: int, end: int) -> None:
        """The whey the vat leaves behind at the run's end: a lot for the ricotta line."""
        whey = self.reference.materials["WHEY"]
        lot = Lot(
            lot_id=f"LOT-WHEY-{order.order_id[3:]}",
            material_id="WHEY",
            supplier_name=None,
            source_order_id=order.order_id,
            received_at=end,
            expires_at=(end // MINUTES_PER_DAY + whey.shelf_life_days + 1) * MINUTES_PER_DAY,
            quantity=float(litres),
            unit=whey.unit,
            qc_status="released",
            unit_cost_brl=whey.unit_cost_brl,
            remaining=float(litres),
        )
        self.inventory.add(lot)
        self.erp.schedule_receipt(lot)
        self.whey_lots.append(lot)

    def _run(self, line: LineState, start: int, run_minutes: float) -> int:
        """Advance through the run: planned downtime pauses it, equipment failures stop it for the repair."""
        equipment = self.equipment_by_line.get(line.line_id, [])
        now = float(start)
        remaining = run_minutes
        while remaining > 1e-9:
            next_down = next(((a, b) for a, b in line.downtimes if b > now), None)
            if next_down is not None and next_down[0] <= now:
                now = float(next_down[1])
                continue
            gap = next_down[0] - now if next_down is not None else math.inf
            states = self.equipment_states
            failing = min(equipment, key=lambda item: states[item.equipment_id].hours_to_failure)
            to_failure = states[failing.equipment_id].hours_to_failure * 60
            jamming = min(equipment, key=lambda item: _hours_or_inf(states[item.equipment_id].hours_to_stop))
            to_stop = _hours_or_inf(states[jamming.equipment_id].hours_to_stop) * 60
            step = min(remaining, gap, to_failure, to_stop)
            now += step
            remaining -= step
            for item in equipment:
                state = states[item.equipment_id]
                state.hours_to_failure -= step / 60
                if state.hours_to_stop is not None:
                    state.hours_to_stop -= step / 60
            if remaining <= 1e-9:
                continue
            modes = self.reference.failure_modes
            if step == to_failure:
                state = states[failing.equipment_id]
                event = corrective_event(
                    self.seed, failing, state, math.ceil(now), modes.get(failing.equipment_type, ())
                )
                self.corrective.append(event)
                renew(self.seed, failing, state)
                now = float(event.ended_at)
            elif step == to_stop:
                event = minor_stop_event(
                    self.seed,
                    jamming,
                    states[jamming.equipment_id],
                    math.ceil(now),
                    modes.get(jamming.equipment_type, ()),
                )
                self.corrective.append(event)
                now = float(event.ended_at)
        return math.ceil(now)


def _milk_solids_ratio(taken: list[tuple[Lot, float]]) -> float:
    """Expected cheese per litre of the issued lots against the reference milk (1 when they carry no analysis)."""
    fat = _weighted([(lot.fat_pct, amount) for lot, amount in taken if lot.fat_pct is not None])
    protein = _weighted([(lot.protein_pct, amount) for lot, amount in taken if lot.protein_pct is not None])
    if fat is None or protein is None:
        return 1.0
    return _solids_index(fat, protein) / REFERENCE_SOLIDS


def _hours_or_inf(hours: float | None) -> float:
    return math.inf if hours is None else hours


def _weighted(values: list[tuple[float, float]]) -> float | None:
    total = sum(weight for _, weight in values)
    if total <= 0:
        return None
    return sum(value * weight for value, weight in values) / total
