"""The stock reservation policy of DOMAIN.md §3 in plain Python: the oracle of the reservation tests.

Written from the document only, independently of the SQL, and as plainly as possible: no indexes, no
incremental state, every eligibility rule spelled out on every lot for every requirement. It is slow
(requirements × lots) and meant for the small plants of the property-based tests.

Interpretations shared with the dbt model (documented in its yml):
- requirement = planned kg × quantity per kg × (1 + scrap), exact decimal arithmetic, no rounding;
- a lot's expiry is an instant (expires_at) and the lot is usable up to it: eligible when expires_at ≥ the
  order's planned start;
- received_at ≤ released_at is inclusive; QC status is the lot's status as loaded ('released' only);
- orders with no released_at are not reserved; neither are orders released after the scenario's data
  horizon (the latest order created_at or lot received_at loaded), whose stock on hand is not known yet;
- releases and cancellations are events of one time sequence; at the same instant a cancellation comes
  before a release. A cancellation gives everything its order reserved back to the lots; an order cancelled at
  or before its release reserves nothing (and has no rows); a cancellation after the data horizon has not
  happened yet;
- every requirement gets one shortage row (lot None), zero when fully reserved; every row of a cancelled order
  says when it was given back (returned_at) and how much (returned_quantity = its reserved quantity);
- an order's sequence number is its place among the scenario's reserved orders that have a bill of materials.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

# Wide enough that products of the inputs' decimals are exact (as PostgreSQL numeric is).
EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


@dataclass(frozen=True)
class Order:
    scenario_id: str
    order_id: str
    product_id: str
    created_at: datetime
    released_at: datetime | None
    planned_start_at: datetime
    due_date: date
    priority: int
    planned_kg: Decimal
    cancelled_at: datetime | None = None
    replaces_order_id: str | None = None


@dataclass(frozen=True)
class Lot:
    scenario_id: str
    lot_id: str
    material_id: str
    received_at: datetime
    expires_at: datetime
    quantity: Decimal
    qc_status: str


@dataclass(frozen=True)
class RecipeLine:
    product_id: str
    material_id: str
    quantity_per_kg: Decimal
    scrap_factor: Decimal


@dataclass(frozen=True)
class Allocation:
    """A reservation of a lot for an order and material, or (lot_id None) the shortage of that requirement."""

    scenario_id: str
    order_id: str
    material_id: str
    lot_id: str | None
    reserved_quantity: Decimal
    short_quantity: Decimal
    returned_quantity: Decimal = Decimal(0)
    returned_at: datetime | None = None


def requirement_quantity(order: Order, line: RecipeLine) -> Decimal:
    """Requirement of order o for material m = planned kg × BOM qty per kg × (1 + scrap)."""
    return EXACT.multiply(EXACT.multiply(order.planned_kg, line.quantity_per_kg), EXACT.add(1, line.scrap_factor))


def data_horizons(orders: list[Order], lots: list[Lot]) -> dict[str, datetime]:
    horizons: dict[str, datetime] = {}
    for scenario_id, event_at in [(o.scenario_id, o.created_at) for o in orders] + [
        (lot.scenario_id, lot.received_at) for lot in lots
    ]:
        horizons[scenario_id] = max(event_at, horizons.get(scenario_id, event_at))
    return horizons


def can_serve(lot: Lot, order: Order, material_id: str, remaining: Decimal) -> bool:
    """A lot can serve order o when every rule of the policy holds."""
    assert order.released_at is not None
    return (
        lot.scenario_id == order.scenario_id
        and lot.material_id == material_id
        and lot.received_at <= order.released_at
        and lot.expires_at >= order.planned_start_at
        and lot.qc_status == "released"
        and remaining > 0
    )


def cancelled_first(order: Order) -> bool:
    """Cancelled at or before its release: the cancellation comes first, the release reserves nothing."""
    return order.cancelled_at is not None and order.released_at is not None and order.cancelled_at <= order.released_at


def reserved_orders(orders: list[Order], lots: list[Lot]) -> list[Order]:
    """Orders released up to their scenario's data horizon and not cancelled first, in the sequence
    (released_at, priority, due date, id)."""
    horizons = data_horizons(orders, lots)
    released = [
        order
        for order in orders
        if order.released_at is not None
        and order.released_at <= horizons[order.scenario_id]
        and not cancelled_first(order)
    ]
    # Scenarios never interact.
    released.sort(key=lambda o: (o.scenario_id, o.released_at, o.priority, o.due_date, o.order_id))
    return released


def sequence_numbers(orders: list[Order], lots: list[Lot], recipe_lines: list[RecipeLine]) -> dict[tuple, int]:
    """(scenario, order) -> place of the order in its scenario's sequence, among the orders that reserve."""
    with_bill = {line.product_id for line in recipe_lines}
    numbers: dict[tuple, int] = {}
    for order in reserved_orders(orders, lots):
        if order.product_id in with_bill:
            scenario_count = sum(1 for scenario_id, _ in numbers if scenario_id == order.scenario_id)
            numbers[(order.scenario_id, order.order_id)] = scenario_count + 1
    return numbers


def reserve(orders: list[Order], lots: list[Lot], recipe_lines: list[RecipeLine]) -> list[Allocation]:
    """Every reservation and shortage row the policy produces for the given data."""
    horizons = data_horizons(orders, lots)
    # Events: (scenario, instant, 0 for a cancellation / 1 for a release, priority, due date, order id).
    events: list[tuple[tuple, str, Order]] = []
    for order in reserved_orders(orders, lots):
        key = (order.priority, order.due_date, order.order_id)
        events.append(((order.scenario_id, order.released_at, 1, *key), "release", order))
        if order.cancelled_at is not None and order.cancelled_at <= horizons[order.scenario_id]:
            events.append(((order.scenario_id, order.cancelled_at, 0, *key), "cancellation", order))
    events.sort(key=lambda event: event[0])

    remaining = {(lot.scenario_id, lot.lot_id): lot.quantity for lot in lots}
    allocations: list[Allocation] = []
    rows_of: dict[tuple[str, str], list[int]] = {}
    for _, kind, order in events:
        rows = rows_of.setdefault((order.scenario_id, order.order_id), [])
        if kind == "cancellation":
            # Everything the order reserved goes back to its lots now, for the releases that follow.
            for index in rows:
                row = allocations[index]
                if row.lot_id is not None:
                    key = (row.scenario_id, row.lot_id)
                    remaining[key] = EXACT.add(remaining[key], row.reserved_quantity)
                allocations[index] = replace(
                    row, returned_quantity=row.reserved_quantity, returned_at=order.cancelled_at
                )
            continue
        for line in sorted((r for r in recipe_lines if r.product_id == order.product_id), key=lambda r: r.material_id):
            still_needed = requirement_quantity(order, line)
            # Lots in FEFO order (expires_at, received_at, lot id).
            for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.received_at, lot.lot_id)):
                if still_needed <= 0:
                    break
                key = (lot.scenario_id, lot.lot_id)
                if not can_serve(lot, order, line.material_id, remaining[key]):
                    continue
                taken = min(still_needed, remaining[key])  # partial reservation
                remaining[key] = EXACT.subtract(remaining[key], taken)  # final: later orders see the rest
                still_needed = EXACT.subtract(still_needed, taken)
                rows.append(len(allocations))
                allocations.append(
                    Allocation(order.scenario_id, order.order_id, line.material_id, lot.lot_id, taken, Decimal(0))
                )
            rows.append(len(allocations))
            allocations.append(
                Allocation(order.scenario_id, order.order_id, line.material_id, None, Decimal(0), max(still_needed, 0))
            )
    return allocations
