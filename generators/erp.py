"""The plant's ERP while a batch runs: its reservation ledger (generators/reservation.py) fed the plant's events in
time order, and what it tells the shop floor (which lots to issue, what stock is free to sell or discard).

Receipts, releases, cancellations and expiries are queued at their instant and applied as the simulation reaches
it; a start, an issue, a spot sale or a discard is applied when the simulation does it, after everything queued
before it (DOMAIN.md §3: at one instant, receipt, cancellation, release, start, then stock movements, then expiry).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from generators.orders import Order
from generators.reference import Reference
from generators.reservation import EVENT_RANKS, Requirement, ReservationLedger, event_order
from generators.stock import Lot

THOUSANDTH = Decimal("0.001")


def to_thousandths(quantity: float) -> int:
    """The ledger counts whole thousandths of a unit, exactly, as the ERP records them (and as the SQL model's
    numerics add them up): every quantity that reaches it is a whole number of thousandths, so nothing drifts."""
    return round(quantity * 1000)


def from_thousandths(quantity: int) -> float:
    return quantity / 1000


@dataclass
class CarriedRequirement:
    """An order's requirement released and not started nor cancelled at a batch's end, for the next batch."""

    order_id: str
    material_id: str
    release_at: int
    priority: int
    due_day: int
    planned_start: int
    required: float
    open: float
    short_at_release: float
    covered_at: int | None
    covered_by_lot_id: str | None


@dataclass
class CarriedReservation:
    """Stock of a lot an order still holds at a batch's end."""

    order_id: str
    material_id: str
    lot_id: str
    quantity: float
    reserved_at: int


def sequence(order: Order) -> tuple[int, int, int, str]:
    """Orders are served in the sequence (released_at, priority, due date, order id)."""
    return (order.release_at, order.priority, order.due_day, order.order_id)


class SimulatedErp:
    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.ledger = ReservationLedger(zero=0, tolerance=0)
        self._queue: list[tuple[int, int, tuple, int, str, object]] = []
        self._pushed = 0
        # The floor's write-off of what is left in a lot at its expiry (lot id, material, minute): a movement the ERP
        # applies before the expiry of the same instant (int_reservation_events_sequenced), so it is made then.
        self.before_expiry: Callable[[str, str, int], None] | None = None

    # -- what happens later ---------------------------------------------------------------------------------------
    def schedule_receipt(self, lot: Lot) -> None:
        if lot.qc_status == "released":
            self._push(lot.received_at, "receipt", (lot.lot_id,), lot)
            self._push(lot.expires_at, "expiry", (lot.lot_id,), lot.lot_id)

    def schedule_release(self, order: Order) -> None:
        self._push(order.release_at, "release", sequence(order), order)

    def schedule_cancellation(self, order: Order, minute: int) -> None:
        self._push(minute, "cancellation", sequence(order), order)

    def _push(self, minute: int, kind: str, key: tuple, payload: object) -> None:
        self._pushed += 1
        heapq.heappush(self._queue, (*event_order(kind, minute, key), self._pushed, kind, payload))

    def advance(self, minute: int, before_rank: int = 0) -> None:
        """Apply every queued event before (minute, before_rank) in the time sequence."""
        queue = self._queue
        while queue and (queue[0][0] < minute or (queue[0][0] == minute and queue[0][1] < before_rank)):
            at, _, _, _, kind, payload = heapq.heappop(self._queue)
            if kind == "receipt":
                lot: Lot = payload  # type: ignore[assignment]
                self.ledger.receive(
                    lot.lot_id, lot.material_id, lot.received_at, lot.expires_at, to_thousandths(lot.remaining)
                )
            elif kind == "expiry":
                # The lots expiring at this instant: every write-off of what is left in them comes first.
                expiring = [str(payload)]
                while queue and queue[0][0] == at and queue[0][-2] == "expiry":
                    expiring.append(str(heapq.heappop(queue)[-1]))
                if self.before_expiry is not None:
                    for lot_id in expiring:
                        if (lot_stock := self.ledger.lots.get(lot_id)) is not None:
                            self.before_expiry(lot_id, lot_stock.material_id, at)
                for lot_id in expiring:
                    self.ledger.expire(lot_id, at)
            elif kind == "release":
                order: Order = payload  # type: ignore[assignment]
                # An order cancelled at or before its release reserves nothing.
                if order.cancelled_at is None or order.cancelled_at > at:
                    requirements = {
                        material_id: to_thousandths(quantity)
                        for material_id, quantity in self.requirements(order).items()
                    }
                    self.ledger.release(order.order_id, sequence(order), order.planned_start, at, requirements)
            elif kind == "cancellation":
                self.ledger.cancel(payload.order_id, at)  # type: ignore[attr-defined]

    def requirements(self, order: Order) -> dict[str, float]:
        """Requirement of order o for material m = planned kg × BOM qty per kg × (1 + scrap), to the thousandth of
        the material's unit (the precision the ERP records quantities in), half up as PostgreSQL rounds numerics."""
        planned_kg = Decimal(str(order.planned_kg))
        return {
            line.material_id: float(
                (planned_kg * Decimal(str(line.quantity_per_kg)) * (1 + Decimal(str(line.scrap_factor)))).quantize(
                    THOUSANDTH, rounding=ROUND_HALF_UP
                )
            )
            for line in self.reference.recipes[order.product_id]
        }

    # -- what happens now -------------------------------------------------------------------------------------------
    def start(self, order: Order, minute: int) -> dict[str, list[tuple[str, float]]]:
        """Goods issue: the lots reserved for the order, per material, in FEFO order."""
        self.advance(minute, EVENT_RANKS["start"])
        return {
            material_id: [(lot_id, from_thousandths(quantity)) for lot_id, quantity in lots]
            for material_id, lots in self.ledger.start(order.order_id, minute).items()
        }

    def requirement(self, order: Order, material_id: str) -> Requirement | None:
        """The order's requirement as the ledger keeps it (quantities in thousandths)."""
        return self.ledger.requirements.get((order.order_id, material_id))

    def held(self, order: Order, material_id: str) -> list[tuple[str, float]]:
        """The lots the order holds of a material, and how much of each (FEFO)."""
        return [
            (held.lot_id, from_thousandths(held.open))
            for held in self.ledger.reserved_lots(order.order_id, material_id)
        ]

    def missing_materials(self, order: Order, minute: int) -> list[str]:
        """The materials of which no lot holds all the order needs, if it started at `minute` (its missing parts)."""
        self.advance(minute, EVENT_RANKS["start"])
        return [
            item.material_id
            for item in self.reference.recipes[order.product_id]
            if (requirement := self.requirement(order, item.material_id)) is not None and requirement.open > 0
        ]

    def take(self, lot: Lot, quantity: float, minute: int, order_id: str | None = None) -> None:
        """Stock left the lot physically (an issue for `order_id`, a spot sale, a discard)."""
        self.advance(minute, EVENT_RANKS["issue"])
        if lot.lot_id in self.ledger.lots:
            self.ledger.take(lot.lot_id, to_thousandths(quantity), minute, order_id)

    def issuable(self, lot: Lot, minute: int) -> float:
        """What the goods issue under way may take of the lot: its own reservation and what nobody holds."""
        return self.free(lot, minute) + from_thousandths(self.ledger.issuing(lot.lot_id))

    def end_goods_issue(self) -> None:
        self.ledger.end_goods_issue()

    def free(self, lot: Lot, minute: int) -> float:
        """What of the lot nobody holds: what a spot sale, a discard or an issue beyond a reservation may take."""
        self.advance(minute, EVENT_RANKS["movement"])
        if lot.lot_id not in self.ledger.lots:
            return lot.remaining
        return max(from_thousandths(to_thousandths(lot.remaining) - self.ledger.reserved_open(lot.lot_id)), 0.0)

    # -- from one batch to the next ---------------------------------------------------------------------------------
    def carried(self) -> tuple[list[CarriedRequirement], list[CarriedReservation]]:
        requirements = [
            CarriedRequirement(
                r.order_id,
                r.material_id,
                *r.sequence[:3],
                r.planned_start_at,
                from_thousandths(r.required),
                from_thousandths(r.open),
                from_thousandths(r.short_at_release),
                r.covered_at,
                r.covered_by_lot_id,
            )
            for r in self.ledger.requirements.values()
            if r.is_active
        ]
        reservations = [
            CarriedReservation(
                held.order_id, held.material_id, held.lot_id, from_thousandths(held.open), held.first_reserved_at
            )
            for requirement in self.ledger.requirements.values()
            if requirement.is_active
            for held in self.ledger.reserved_lots(requirement.order_id, requirement.material_id)
        ]
        return requirements, reservations

    @classmethod
    def resumed(
        cls,
        reference: Reference,
        first_minute: int,
        lots: list[Lot],
        orders: list[Order],
        requirements: list[CarriedRequirement],
        reservations: list[CarriedReservation],
    ) -> SimulatedErp:
        """The ERP as the last batch left it: its stock, open requirements and reservations, and what is queued."""
        erp = cls(reference)
        ledger = erp.ledger
        for lot in sorted(lots, key=lambda lot: (lot.received_at, lot.lot_id)):
            if lot.qc_status != "released":
                continue
            if lot.received_at < first_minute:
                ledger.restore_lot(
                    lot.lot_id, lot.material_id, lot.received_at, lot.expires_at, to_thousandths(lot.remaining)
                )
                erp._push(lot.expires_at, "expiry", (lot.lot_id,), lot.lot_id)
            else:
                erp.schedule_receipt(lot)
        for item in requirements:
            ledger.restore_requirement(
                Requirement(
                    item.order_id,
                    item.material_id,
                    (item.release_at, item.priority, item.due_day, item.order_id),
                    item.planned_start,
                    item.release_at,
                    to_thousandths(item.required),
                    to_thousandths(item.open),
                    to_thousandths(item.short_at_release),
                    item.covered_at,
                    item.covered_by_lot_id,
                )
            )
        for held in reservations:
            ledger.restore_reservation(
                held.order_id, held.material_id, held.lot_id, to_thousandths(held.quantity), held.reserved_at
            )
        for order in orders:
            if order.release_at >= first_minute and order.actual_start is None:
                erp.schedule_release(order)
            if order.cancelled_at is not None and order.cancelled_at >= first_minute:
                erp.schedule_cancellation(order, order.cancelled_at)
        return erp
