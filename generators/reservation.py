"""The plant ERP's stock reservation, DOMAIN.md §3, as the ERP runs it: one event at a time, in time order.

A released order reserves its requirements from available lots in FEFO order; what no lot covers stays open, and
every later receipt, returned reservation or displaced stock fills the open requirements of released orders in
order sequence before anything else. At start the order issues its reserved lots and what is still open is its
shortage at start; its goods issue takes that stock out of its lots before anyone else may have it (what the vat
leaves of it is free again when the goods issue ends, at the next event that is not one of the order's issues).
Issues, spot sales and discards change a lot's physical balance when they happen; a lot that
expires ends the reservations it still holds. Open reservations never exceed a lot's physical balance: when stock
leaves a lot that others had reserved (a deviation on the floor), the reservations last in order sequence give way
and their requirements are open again.

The ledger knows nothing about simulated minutes or SQL: instants are anything ordered (minutes, datetimes) and
quantities any number type closed under + and - (float with a tolerance, Decimal exactly).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

# Ties at one instant (DOMAIN.md §3): receipt, cancellation, release, start; then what moves stock physically
# (issues, spot sales, discards) and last the expiries, since a lot is usable up to the instant it expires.
EVENT_RANKS = {"receipt": 0, "cancellation": 1, "release": 2, "start": 3, "issue": 4, "movement": 4, "expiry": 5}


@dataclass
class LotStock:
    lot_id: str
    material_id: str
    received_at: Any
    expires_at: Any
    physical: Any
    is_expired: bool = False

    def fefo_key(self) -> tuple[Any, Any, str]:
        return (self.expires_at, self.received_at, self.lot_id)


@dataclass
class Reservation:
    """What one order holds of one lot for one material, with where every reserved quantity went."""

    order_id: str
    material_id: str
    lot_id: str
    reserved: Any
    open: Any
    issued: Any
    returned: Any
    expired: Any
    displaced: Any
    first_reserved_at: Any
    changed_at: Any


@dataclass
class Requirement:
    """An order's requirement for one material, from its release until it starts or is cancelled."""

    order_id: str
    material_id: str
    sequence: tuple[Any, ...]
    planned_start_at: Any
    released_at: Any
    required: Any
    open: Any
    short_at_release: Any
    covered_at: Any = None
    covered_by_lot_id: str | None = None
    short_at_start: Any = None
    started_at: Any = None
    cancelled_at: Any = None

    @property
    def is_active(self) -> bool:
        return self.started_at is None and self.cancelled_at is None


@dataclass
class ReservationLedger:
    """One scenario's reservations. `zero` is the number type's zero; `tolerance` what counts as nothing left
    (0 for exact decimals, a small float for floats)."""

    zero: Any = 0
    tolerance: Any = 0
    lots: dict[str, LotStock] = field(default_factory=dict)
    requirements: dict[tuple[str, str], Requirement] = field(default_factory=dict)
    reservations: dict[tuple[str, str, str], Reservation] = field(default_factory=dict)
    # The indexes every event works through: open reservations per lot and per requirement, active requirements
    # per material (in order sequence) and the lots of each material that may still serve one.
    _holding: dict[str, dict[tuple[str, str], Reservation]] = field(default_factory=dict)
    _held_for: dict[tuple[str, str], dict[str, Reservation]] = field(default_factory=dict)
    _waiting: dict[str, list[Requirement]] = field(default_factory=dict)
    _active_by_order: dict[str, list[Requirement]] = field(default_factory=dict)
    # Σ open reservations per lot, kept as they change (summing the holds each time costs more than the policy),
    # and, within it, what a started order's goods issue is taking out of each lot.
    _reserved: dict[str, Any] = field(default_factory=dict)
    _issuing: dict[str, Any] = field(default_factory=dict)
    _issuing_order: str | None = None
    _stock: dict[str, list[LotStock]] = field(default_factory=dict)

    # -- what the ledger says ------------------------------------------------------------------------------------
    def reserved_open(self, lot_id: str) -> Any:
        return self._reserved.get(lot_id, self.zero)

    def available(self, lot_id: str) -> Any:
        lot = self.lots[lot_id]
        if lot.is_expired:
            return self.zero
        return lot.physical - self.reserved_open(lot_id)

    def reserved_lots(self, order_id: str, material_id: str) -> list[Reservation]:
        """The order's open reservations of a material, in FEFO order of their lots."""
        held = self._held_for.get((order_id, material_id), {}).values()
        return sorted(held, key=lambda r: self.lots[r.lot_id].fefo_key())

    # -- events ----------------------------------------------------------------------------------------------------
    def receive(self, lot_id: str, material_id: str, received_at: Any, expires_at: Any, quantity: Any) -> None:
        """A QC-released lot enters available stock and fills the open requirements of its material."""
        self.end_goods_issue()
        self.restore_lot(lot_id, material_id, received_at, expires_at, quantity)
        self._fill(material_id, received_at)

    def release(
        self,
        order_id: str,
        sequence: tuple[Any, ...],
        planned_start_at: Any,
        released_at: Any,
        requirements: dict[str, Any],
    ) -> None:
        """Reserve each requirement FEFO from the available eligible lots; the rest stays open."""
        self.end_goods_issue()
        for material_id in sorted(requirements):
            requirement = Requirement(
                order_id,
                material_id,
                sequence,
                planned_start_at,
                released_at,
                requirements[material_id],
                requirements[material_id],
                None,
            )
            self._activate(requirement)
            self._serve(requirement, released_at)
            requirement.short_at_release = requirement.open

    def cancel(self, order_id: str, cancelled_at: Any) -> None:
        """The order's reservations go back to their lots now and fill the open requirements of others."""
        self.end_goods_issue()
        for requirement in self._order_requirements(order_id):
            requirement.cancelled_at = cancelled_at
            self._retire(requirement)
            for held in self.reserved_lots(order_id, requirement.material_id):
                held.returned += held.open
                self._release_hold(held, cancelled_at)
            self._fill(requirement.material_id, cancelled_at)

    def start(self, order_id: str, started_at: Any) -> dict[str, list[tuple[str, Any]]]:
        """Goods issue: the order takes its reserved lots; what is still open is its shortage at start.

        Returns, per material, the lots to issue and how much of each (FEFO). Until the goods issue ends, that stock
        stays out of what others may reserve: the order's issues (`take` with its id) take it first."""
        self.end_goods_issue()
        self._issuing_order = order_id
        to_issue: dict[str, list[tuple[str, Any]]] = {}
        for requirement in self._order_requirements(order_id):
            requirement.started_at = started_at
            requirement.short_at_start = requirement.open
            self._retire(requirement)
            issued = []
            for held in self.reserved_lots(order_id, requirement.material_id):
                issued.append((held.lot_id, held.open))
                held.issued += held.open
                self._issuing[held.lot_id] = self._issuing.get(held.lot_id, self.zero) + held.open
                held.open = self.zero
                held.changed_at = started_at
                self._unhold(held)
            to_issue[requirement.material_id] = issued
        return to_issue

    def issuing(self, lot_id: str) -> Any:
        """What the goods issue under way may still take of the lot from its order's reservation."""
        return self._issuing.get(lot_id, self.zero)

    def end_goods_issue(self) -> None:
        """The started order's goods issue is over: what it did not take of its reservation is free again (it fills
        open requirements at the next event that fills, like any stock freed without one)."""
        issuing, self._issuing, self._issuing_order = self._issuing, {}, None
        for lot_id, quantity in issuing.items():
            self._reserved[lot_id] -= quantity
            self._drop_residue(lot_id)

    def take(self, lot_id: str, quantity: Any, at: Any, order_id: str | None = None) -> None:
        """Stock leaves a lot physically (an issue for `order_id`, a spot sale or a discard). The goods issue of the
        order just started takes its reservation first. If what is left no longer covers the lot's open
        reservations, those last in order sequence give way and their requirements are open again."""
        if order_id is None or order_id != self._issuing_order:
            self.end_goods_issue()
        lot = self.lots.get(lot_id)
        if lot is None:
            return  # a lot refused at reception never entered stock
        own = min(self._issuing.get(lot_id, self.zero), quantity)
        if own > self.zero:
            self._issuing[lot_id] -= own
            self._reserved[lot_id] -= own
        if quantity > lot.physical + self.tolerance:
            raise ValueError(f"lot {lot_id} gives {quantity} at {at} but holds {lot.physical}")
        lot.physical -= quantity
        excess = self.reserved_open(lot_id) - lot.physical
        if excess <= self.tolerance:
            return
        holding = self._holding.get(lot_id, {}).values()
        for held in sorted(holding, key=lambda r: self.requirements[_key(r)].sequence, reverse=True):
            if excess <= self.tolerance:
                break
            given = min(held.open, excess)
            held.open -= given
            self._reserved[lot_id] -= given
            held.displaced += given
            held.changed_at = at
            excess -= given
            self._reopen(self.requirements[_key(held)], given)
            if held.open <= self.tolerance:
                self._unhold(held)
        self._fill(lot.material_id, at)

    def expire(self, lot_id: str, expired_at: Any) -> None:
        """The lot is no longer usable: the reservations it still holds end, their requirements are open again."""
        self.end_goods_issue()
        lot = self.lots.get(lot_id)
        if lot is None:
            return
        lot.is_expired = True
        for held in list(self._holding.get(lot_id, {}).values()):
            self._reopen(self.requirements[_key(held)], held.open)
            held.expired += held.open
            self._release_hold(held, expired_at)
        self._fill(lot.material_id, expired_at)

    # -- resuming where another ledger stopped (a simulation's next batch) ----------------------------------------
    def restore_lot(self, lot_id: str, material_id: str, received_at: Any, expires_at: Any, physical: Any) -> None:
        lot = LotStock(lot_id, material_id, received_at, expires_at, physical)
        self.lots[lot_id] = lot
        bisect.insort(self._stock.setdefault(material_id, []), lot, key=LotStock.fefo_key)

    def restore_requirement(self, requirement: Requirement) -> None:
        self._activate(requirement)

    def restore_reservation(self, order_id: str, material_id: str, lot_id: str, quantity: Any, at: Any) -> None:
        self._hold(self.requirements[(order_id, material_id)], lot_id, quantity, at)

    # -- the policy --------------------------------------------------------------------------------------------------
    def _serve(self, requirement: Requirement, at: Any) -> None:
        """Reserve what the requirement still needs from its material's eligible lots, FEFO."""
        if requirement.open <= self.tolerance:
            return
        reserved = self._reserved
        stock = self._stock.get(requirement.material_id, [])
        # The stock is in FEFO order: the lots expiring before the planned start (not eligible) come first.
        first = bisect.bisect_left(stock, requirement.planned_start_at, key=_expires_at)
        for lot in stock[first:]:
            if requirement.open <= self.tolerance:
                break
            if lot.is_expired:
                continue
            free = lot.physical - reserved.get(lot.lot_id, self.zero)
            if free <= self.tolerance:
                continue
            taken = min(free, requirement.open)
            self._hold(requirement, lot.lot_id, taken, at)
            requirement.open -= taken
            if requirement.open <= self.tolerance:
                requirement.covered_at, requirement.covered_by_lot_id = at, lot.lot_id

    def _fill(self, material_id: str, at: Any) -> None:
        """Open requirements of released orders, in order sequence, take the stock available now."""
        # Lots that can never serve again (expired, or nothing left on hand) leave the material's stock list.
        stock = [
            lot for lot in self._stock.get(material_id, ()) if not lot.is_expired and lot.physical > self.tolerance
        ]
        self._stock[material_id] = stock
        if not any(self.available(lot.lot_id) > self.tolerance for lot in stock):
            return
        for requirement in self._waiting.get(material_id, ()):
            if requirement.open > self.tolerance:
                self._serve(requirement, at)

    def _hold(self, requirement: Requirement, lot_id: str, quantity: Any, at: Any) -> None:
        key = (requirement.order_id, requirement.material_id, lot_id)
        held = self.reservations.get(key)
        if held is None:
            zero = self.zero
            held = Reservation(*key, zero, zero, zero, zero, zero, zero, at, at)
            self.reservations[key] = held
        if held.open <= self.tolerance:
            self._holding.setdefault(lot_id, {})[key[:2]] = held
            self._held_for.setdefault(key[:2], {})[lot_id] = held
        held.reserved += quantity
        held.open += quantity
        held.changed_at = at
        self._reserved[lot_id] = self._reserved.get(lot_id, self.zero) + quantity

    def _release_hold(self, held: Reservation, at: Any) -> None:
        self._reserved[held.lot_id] -= held.open
        held.open = self.zero
        held.changed_at = at
        self._unhold(held)

    def _unhold(self, held: Reservation) -> None:
        holding = self._holding.get(held.lot_id)
        if holding is not None and holding.pop(_key(held), None) is not None:
            del self._held_for[_key(held)][held.lot_id]
            if not holding:
                self._drop_residue(held.lot_id)

    def _drop_residue(self, lot_id: str) -> None:
        """Nothing held of the lot: its open reservations are exactly what a goods issue under way still takes of it,
        with no rounding residue."""
        if not self._holding.get(lot_id):
            self._reserved[lot_id] = self._issuing.get(lot_id, self.zero)

    def _order_requirements(self, order_id: str) -> list[Requirement]:
        return sorted(self._active_by_order.get(order_id, ()), key=lambda r: r.material_id)

    def _activate(self, requirement: Requirement) -> None:
        self.requirements[(requirement.order_id, requirement.material_id)] = requirement
        bisect.insort(self._waiting.setdefault(requirement.material_id, []), requirement, key=_sequence)
        self._active_by_order.setdefault(requirement.order_id, []).append(requirement)

    def _reopen(self, requirement: Requirement, quantity: Any) -> None:
        requirement.open += quantity
        requirement.covered_at, requirement.covered_by_lot_id = None, None

    def _retire(self, requirement: Requirement) -> None:
        self._waiting[requirement.material_id].remove(requirement)
        active = self._active_by_order[requirement.order_id]
        active.remove(requirement)
        if not active:
            del self._active_by_order[requirement.order_id]


def _expires_at(lot: LotStock) -> Any:
    return lot.expires_at


def _sequence(requirement: Requirement) -> tuple[Any, ...]:
    return requirement.sequence


def _key(held: Reservation) -> tuple[str, str]:
    return (held.order_id, held.material_id)


def event_order(kind: str, at: Any, tie_key: Hashable) -> tuple[Any, int, Hashable]:
    """Where an event goes in the time sequence: its instant, then its kind's rank, then its own key."""
    return (at, EVENT_RANKS[kind], tie_key)
