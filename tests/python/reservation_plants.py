"""Small random plants for the reservation tests: hypothesis strategies, the plant's events in their sequence, the
Python ledger driven by them, raw-table loading and batching.

A plant is, per scenario (one or two), a few days of capacity calendar (the data horizon is the day after the last
one), a few real products (their real bill of materials from the seeds), lots of one or two of their materials
(random quantities, reception and expiry instants, QC status) and orders with random release, planned start, actual
start and cancellation instants and priorities. Some orders are cancelled before their release, some after it while
they hold stock, some at the instant another order is released; some cancelled orders have a replacement. Starts
slip past the expiry of lots reserved at release.

What the floor does follows the ERP, as the simulated plant does (DOMAIN.md §3): a ledger (generators/reservation.py)
walks the events while the plant is drawn, and at a start the order issues the lots reserved for it (all, part or
none, at the start or a little later), sometimes another lot of the material too (a deviation, which displaces the
reservations of the orders last in sequence). Some lots are sold spot or discarded in part, some discarded at
expiry, some refused at reception and discarded. A lot never gives more than it holds at that instant.

Instants are whole hours (expiries sometimes a minute before one) over a few days, so that ties at one instant (a
receipt, a cancellation, releases, a start, issues and an expiry at the same minute) are frequent.
"""

from __future__ import annotations

import bisect
import csv
import decimal
import heapq
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from psycopg2.extensions import connection as pg_connection
from psycopg2.extras import execute_values

from dataset_contract import BY_NAME, SEEDS_DIR
from generators.reservation import ReservationLedger
from queijaria.loading import audit
from queijaria.loading.raw_schema import partition_name

T0 = datetime(2025, 3, 1)
SCENARIOS = ("baseline", "milk_shortage")
# Wide enough that products of the inputs' decimals are exact (as PostgreSQL numeric is).
EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])
ZERO = Decimal(0)
THOUSANDTH = Decimal("0.001")
ROUNDING = decimal.Context(prec=80, traps=[decimal.InvalidOperation])
# DOMAIN.md §3: at one instant a receipt, a cancellation, a release, a start with its order's issues right after it
# (the stock its reservations held goes to it, not to others in between), then the other stock leaving lots (spot
# sales, discards) and last the expiries, since a lot is usable up to the instant it expires.
RANKS = {"receipt": 0, "cancellation": 1, "release": 2, "start": 3, "issue": 3, "movement": 4, "expiry": 5}
RAW_DATASETS = ("capacity_calendar", "production_orders", "stock_lots", "material_consumptions", "stock_movements")
RAW_TABLES = tuple(f"raw.{name}" for name in RAW_DATASETS)
# The calendar has one line and shift per day: the reservation reads only its days.
CALENDAR_LINE, CALENDAR_SHIFT = "MUS", "T1"


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class RecipeLine:
    product_id: str
    material_id: str
    quantity_per_kg: Decimal
    scrap_factor: Decimal


RECIPE_LINES = [
    RecipeLine(row["product_id"], row["material_id"], Decimal(row["quantity_per_kg"]), Decimal(row["scrap_factor"]))
    for row in _read_seed("recipe_lines")
]
BILLS: dict[str, list[RecipeLine]] = {}
for _line in RECIPE_LINES:
    BILLS.setdefault(_line.product_id, []).append(_line)
PRODUCT_LINES = {row["product_id"]: row["line_id"] for row in _read_seed("products")}
MATERIAL_UNITS = {row["material_id"]: row["unit"] for row in _read_seed("raw_materials")}
PRODUCTS = sorted(BILLS)


def thousandths(quantity: Decimal, rounding: str = decimal.ROUND_DOWN) -> Decimal:
    """A quantity as the ERP records it, to the thousandth of its unit."""
    return quantity.quantize(THOUSANDTH, rounding=rounding, context=ROUNDING)


def _hour(at: datetime | None) -> str:
    return "-" if at is None else f"{(at - T0) / timedelta(hours=1):g}h"


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def at_hour(hour: float) -> datetime:
    return T0 + hours(hour)


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
    actual_start_at: datetime | None = None
    cancelled_at: datetime | None = None
    replaces_order_id: str | None = None

    @property
    def reserves(self) -> bool:
        """Released, and not cancelled at or before its release: it has reservation events."""
        return self.released_at is not None and (self.cancelled_at is None or self.cancelled_at > self.released_at)

    @property
    def sequence(self) -> tuple:
        """Orders are served in the sequence (released_at, priority, due date, order id)."""
        return (self.released_at, self.priority, self.due_date, self.order_id)

    def requirements(self) -> dict[str, Decimal]:
        """Requirement for each material = planned kg × BOM qty per kg × (1 + scrap), to the thousandth of the
        material's unit (the precision the ERP records quantities in), half away from zero as PostgreSQL rounds."""
        return {
            line.material_id: thousandths(
                EXACT.multiply(EXACT.multiply(self.planned_kg, line.quantity_per_kg), EXACT.add(1, line.scrap_factor)),
                decimal.ROUND_HALF_UP,
            )
            for line in BILLS[self.product_id]
        }

    @property
    def status(self) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        if self.actual_start_at is not None:
            return "in_progress"
        return "planned" if self.released_at is None else "released"

    def known_at(self, end: datetime) -> Order:
        """What the ERP says of the order at `end`: the release, start and cancellation that happened before."""

        def known(at: datetime | None) -> datetime | None:
            return at if at is not None and at < end else None

        return replace(
            self,
            released_at=known(self.released_at),
            actual_start_at=known(self.actual_start_at),
            cancelled_at=known(self.cancelled_at),
        )

    def changes(self) -> list[datetime]:
        """When the ERP wrote the order: created, then each change of its status."""
        return [at for at in (self.created_at, self.released_at, self.actual_start_at, self.cancelled_at) if at]


@dataclass(frozen=True)
class Lot:
    scenario_id: str
    lot_id: str
    material_id: str
    received_at: datetime
    expires_at: datetime
    quantity: Decimal
    qc_status: str

    @property
    def is_released(self) -> bool:
        return self.qc_status == "released"


@dataclass(frozen=True)
class Take:
    """Stock leaving a lot: an issue to an order (material_consumptions) or a movement (stock_movements)."""

    scenario_id: str
    take_id: str
    kind: str  # issue or movement
    lot_id: str
    material_id: str
    at: datetime
    quantity: Decimal
    order_id: str | None = None  # issue: the order it was issued to
    deviation_reason: str | None = None  # issue: why not from a lot reserved for the order
    movement_type: str | None = None  # movement: spot_sale or discard


@dataclass(frozen=True)
class Event:
    """One row of int_reservation_events_sequenced, as the tests derive it from the plant."""

    at: datetime
    kind: str
    source_id: str
    material_id: str
    order: Order | None = None
    lot: Lot | None = None
    take: Take | None = None

    @property
    def key(self) -> tuple:
        """Its place in int_reservation_events_sequenced: (event_at, event_rank, released_at, priority, due_date,
        order_id, event_kind = 'issue', event_source_id, material_id), nulls last as in PostgreSQL's ascending order;
        an order's events and issues carry the order's sequence."""
        order = self.order
        ordering = (order.released_at, order.priority, order.due_date, order.order_id) if order else (None,) * 4
        return (
            self.at,
            RANKS[self.kind],
            *((1,) if value is None else (0, value) for value in ordering),
            self.kind == "issue",
            self.source_id,
            self.material_id,
        )


def sequenced(orders: Iterable[Order], lots: Iterable[Lot], takes: Iterable[Take]) -> list[Event]:
    """The events of one scenario's orders, lots and takes, in their sequence."""
    events = []
    for lot in lots:
        if lot.is_released:  # a lot refused at reception (or not yet released) never enters stock
            events.append(Event(lot.received_at, "receipt", lot.lot_id, lot.material_id, lot=lot))
            events.append(Event(lot.expires_at, "expiry", lot.lot_id, lot.material_id, lot=lot))
    for order in orders:
        if not order.reserves:
            continue
        for material_id in order.requirements():
            assert order.released_at is not None
            events.append(Event(order.released_at, "release", order.order_id, material_id, order=order))
            if order.cancelled_at is not None:
                events.append(Event(order.cancelled_at, "cancellation", order.order_id, material_id, order=order))
            if order.actual_start_at is not None:
                events.append(Event(order.actual_start_at, "start", order.order_id, material_id, order=order))
    by_id = {order.order_id: order for order in orders}
    events.extend(
        Event(take.at, take.kind, take.take_id, take.material_id, order=by_id.get(take.order_id or ""), take=take)
        for take in takes
    )
    return sorted(events, key=lambda event: event.key)


def new_ledger() -> ReservationLedger:
    return ReservationLedger(zero=ZERO, tolerance=ZERO)


def apply(ledger: ReservationLedger, events: list[Event]) -> dict[str, list[tuple[str, Decimal]]] | None:
    """One step of the ledger: a lot's or a take's event, or an order's event for all its materials at once (they
    are consecutive in the sequence). A start returns the lots the order issues."""
    first = events[0]
    if first.kind == "receipt":
        lot = first.lot
        assert lot is not None
        ledger.receive(lot.lot_id, lot.material_id, lot.received_at, lot.expires_at, lot.quantity)
    elif first.kind == "expiry":
        assert first.lot is not None
        ledger.expire(first.lot.lot_id, first.at)
    elif first.kind in ("issue", "movement"):
        take = first.take
        assert take is not None
        ledger.take(take.lot_id, take.quantity, take.at, take.order_id if first.kind == "issue" else None)
    else:
        order = first.order
        assert order is not None and order.released_at is not None
        if first.kind == "release":
            needs = order.requirements()
            requirements = {event.material_id: needs[event.material_id] for event in events}
            ledger.release(order.order_id, order.sequence, order.planned_start_at, order.released_at, requirements)
        elif first.kind == "cancellation":
            ledger.cancel(order.order_id, first.at)
        else:
            return ledger.start(order.order_id, first.at)
    return None


def steps(events: Iterable[Event]) -> Iterable[list[Event]]:
    """The events grouped into the ledger's steps: an order's event is one step for all its materials."""
    for _, group in itertools.groupby(events, key=lambda event: (event.at, event.kind, event.source_id)):
        yield list(group)


@dataclass(frozen=True)
class Plant:
    orders: tuple[Order, ...] = ()
    lots: tuple[Lot, ...] = ()
    takes: tuple[Take, ...] = ()
    # Per scenario, the days of its capacity calendar (day numbers from T0).
    calendar: dict[str, range] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line per row, instants in hours from T0 (hypothesis prints it for a failing example)."""
        lines = [f"Plant(calendar={self.calendar!r},"]
        lines += [
            f"  order {o.scenario_id}/{o.order_id} {o.product_id} {o.planned_kg} kg priority {o.priority} due"
            f" {o.due_date} created {_hour(o.created_at)} released {_hour(o.released_at)} planned start"
            f" {_hour(o.planned_start_at)} started {_hour(o.actual_start_at)} cancelled {_hour(o.cancelled_at)}"
            for o in self.orders
        ]
        lines += [
            f"  lot {lot.scenario_id}/{lot.lot_id} {lot.material_id} {lot.quantity} {lot.qc_status} received"
            f" {_hour(lot.received_at)} expires {_hour(lot.expires_at)}"
            for lot in self.lots
        ]
        lines += [
            f"  {t.kind} {t.scenario_id}/{t.take_id} {t.quantity} of {t.lot_id} ({t.material_id}) at {_hour(t.at)}"
            f" {t.order_id or t.movement_type}"
            for t in self.takes
        ]
        return "\n".join(lines) + ")"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    @property
    def scenarios(self) -> list[str]:
        return sorted(self.calendar)

    def horizon(self, scenario_id: str) -> datetime:
        """The data horizon: the day after the last calendar day; events before it are applied."""
        return T0 + timedelta(days=self.calendar[scenario_id].stop)

    def scenario(self, scenario_id: str) -> Plant:
        return self._where(lambda item_scenario: item_scenario == scenario_id)

    def without(self, scenario_id: str) -> Plant:
        return self._where(lambda item_scenario: item_scenario != scenario_id)

    def _where(self, keep: Callable[[str], bool]) -> Plant:
        return Plant(
            tuple(order for order in self.orders if keep(order.scenario_id)),
            tuple(lot for lot in self.lots if keep(lot.scenario_id)),
            tuple(take for take in self.takes if keep(take.scenario_id)),
            {scenario_id: days for scenario_id, days in self.calendar.items() if keep(scenario_id)},
        )

    def merged(self, other: Plant) -> Plant:
        """Both plants' rows; a scenario's calendar spans the days of both."""
        calendar = dict(self.calendar)
        for scenario_id, days in other.calendar.items():
            mine = calendar.get(scenario_id, days)
            calendar[scenario_id] = range(min(mine.start, days.start), max(mine.stop, days.stop))
        return Plant(self.orders + other.orders, self.lots + other.lots, self.takes + other.takes, calendar)

    def as_scenario(self, scenario_id: str) -> Plant:
        """The plant's first scenario, moved to another scenario."""
        source = self.scenario(self.scenarios[0])
        return Plant(
            tuple(replace(order, scenario_id=scenario_id) for order in source.orders),
            tuple(replace(lot, scenario_id=scenario_id) for lot in source.lots),
            tuple(replace(take, scenario_id=scenario_id) for take in source.takes),
            {scenario_id: source.calendar[self.scenarios[0]]},
        )

    def events(self, scenario_id: str) -> list[Event]:
        """The scenario's events before its data horizon, in their sequence."""
        part = self.scenario(scenario_id)
        horizon = self.horizon(scenario_id)
        return [event for event in sequenced(part.orders, part.lots, part.takes) if event.at < horizon]

    def ledgers(self) -> dict[str, ReservationLedger]:
        """The Python reference: per scenario, the ledger driven by the scenario's events in their sequence."""
        ledgers = {}
        for scenario_id in self.scenarios:
            ledger = ledgers[scenario_id] = new_ledger()
            for step in steps(self.events(scenario_id)):
                apply(ledger, step)
        return ledgers

    def batches(self, cut_days: Iterable[int]) -> list[Plant]:
        """Split as daily loads come: batch j has the calendar days in [cut j-1, cut j), the lots received and the
        stock taken in them, and every order created or changed in them as the ERP knows it at the batch's end (a
        later batch restates it when it is released, started or cancelled; the loader upserts it)."""
        bounds = [T0 + timedelta(days=day) for day in sorted(set(cut_days))]
        ends = [*bounds, datetime.max]
        count = len(bounds) + 1

        def batch_of(at: datetime) -> int:
            return bisect.bisect_right(bounds, at)

        orders: list[list[Order]] = [[] for _ in range(count)]
        lots: list[list[Lot]] = [[] for _ in range(count)]
        takes: list[list[Take]] = [[] for _ in range(count)]
        calendars: list[dict[str, range]] = [{} for _ in range(count)]
        for order in self.orders:
            for batch in sorted({batch_of(at) for at in order.changes()}):
                orders[batch].append(order.known_at(ends[batch]))
        for lot in self.lots:
            lots[batch_of(lot.received_at)].append(lot)
        for take in self.takes:
            takes[batch_of(take.at)].append(take)
        firsts, stops = [0, *sorted(set(cut_days))], [*sorted(set(cut_days)), None]
        for scenario_id, days in self.calendar.items():
            for batch in range(count):
                part = range(max(days.start, firsts[batch]), min(days.stop, stops[batch] or days.stop))
                if part:
                    calendars[batch][scenario_id] = part
        return [
            Plant(tuple(orders[batch]), tuple(lots[batch]), tuple(takes[batch]), calendars[batch])
            for batch in range(count)
        ]


# -- hypothesis strategies -------------------------------------------------------------------------------------------


@st.composite
def plants(draw: st.DrawFn, max_orders: int = 8, max_lots: int = 8) -> Plant:
    scenarios = draw(st.lists(st.sampled_from(SCENARIOS), min_size=1, max_size=2, unique=True))
    products = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=3, unique=True))
    materials = sorted({line.material_id for product in products for line in BILLS[product]})
    stocked = draw(st.lists(st.sampled_from(materials), min_size=1, max_size=2, unique=True))
    # What one kg of the products needs of a material, so that lot sizes compete with requirements.
    per_kg = {
        material: max(
            EXACT.multiply(line.quantity_per_kg, EXACT.add(1, line.scrap_factor))
            for product in products
            for line in BILLS[product]
            if line.material_id == material
        )
        for material in stocked
    }
    plant = Plant()
    for scenario_id in scenarios:
        days = draw(st.integers(2, 4))
        end = T0 + timedelta(days=days)
        orders = _orders(draw, scenario_id, products, end, max_orders)
        lots = _lots(draw, scenario_id, stocked, per_kg, orders, end, max_lots)
        takes = _floor(draw, orders, lots, end)
        plant = plant.merged(Plant(tuple(orders), tuple(lots), tuple(takes), {scenario_id: range(days)}))
    return plant


def _instant(draw: st.DrawFn, first: datetime, last: datetime) -> datetime:
    """A whole hour in [first, last]; a third of the time a midnight there is one (where a daily load cuts, the
    watermark of the next incremental run)."""
    first = T0 + hours(-((T0 - first) // hours(1)))  # up to a whole hour
    count = int((last - first) / hours(1))
    midnights = [first + hours(n) for n in range(count + 1) if (first + hours(n)).hour == 0]
    if midnights and draw(st.sampled_from([False, False, True])):
        return draw(st.sampled_from(midnights))
    return first + hours(draw(st.integers(0, max(count, 0))))


def _start(draw: st.DrawFn, released_at: datetime | None, planned_start_at: datetime, end: datetime) -> datetime | None:
    """The actual start: none, or around the planned one (often later: slipping past the expiry of lots reserved at
    release), never before the release nor after the data horizon."""
    if released_at is None:
        return None
    slip = draw(st.sampled_from([None, None, -2, 0, 0, 0, 1, 6, 24, 40, "midnight"]))
    if slip is None:
        return None
    if slip == "midnight":
        started_at = datetime.combine(planned_start_at.date() + timedelta(days=1), datetime.min.time())
    else:
        started_at = planned_start_at + hours(slip)
    started_at = max(released_at, started_at)
    return started_at if started_at < end else None


def _orders(draw: st.DrawFn, scenario_id: str, products: list[str], end: datetime, max_orders: int) -> list[Order]:
    orders = []
    for number in range(draw(st.integers(1, max_orders))):
        created_at = _instant(draw, T0, end - hours(1))
        is_released = draw(st.sampled_from([False, True, True, True]))
        released_at = _instant(draw, created_at, created_at + hours(12)) if is_released else None
        if released_at is not None and released_at >= end:
            released_at = None
        base = released_at or created_at
        planned_start_at = _instant(draw, base, base + hours(36))
        orders.append(
            Order(
                scenario_id=scenario_id,
                order_id=f"OP-{number:03d}",
                product_id=draw(st.sampled_from(products)),
                created_at=created_at,
                released_at=released_at,
                planned_start_at=planned_start_at,
                due_date=planned_start_at.date() + timedelta(days=draw(st.integers(0, 2))),
                priority=draw(st.integers(1, 3)),
                planned_kg=Decimal(draw(st.integers(0, 20))) + draw(st.sampled_from([ZERO, Decimal("0.5")])),
                actual_start_at=_start(draw, released_at, planned_start_at, end),
            )
        )
    return orders + _cancel_some(draw, orders, end)


def _cancel_some(draw: st.DrawFn, orders: list[Order], end: datetime) -> list[Order]:
    """Cancel some orders (the list is rewritten; a cancelled order does not start) and return their replacements:
    cancelled before their release, after it while they hold stock, or at the instant another order is released
    (the cancellation comes first)."""
    releases = sorted({order.released_at for order in orders if order.released_at is not None})
    replacements: list[Order] = []
    for index, order in enumerate(orders):
        kind = draw(st.sampled_from(["none"] * 4 + ["before", "after", "after", "at another release"]))
        since = order.released_at or order.created_at
        later_releases = [at for at in releases if at > since]
        if kind == "before":  # at or before its release (or while not released)
            cancelled_at = max(order.created_at, since - hours(draw(st.integers(0, 6))))
        elif kind == "after":
            cancelled_at = _instant(draw, since + hours(1), since + hours(30))
        elif kind == "at another release" and later_releases:
            cancelled_at = draw(st.sampled_from(later_releases))
        else:
            continue
        if cancelled_at >= end:
            continue
        orders[index] = order = replace(order, cancelled_at=cancelled_at, actual_start_at=None)
        if draw(st.booleans()):
            released_at = cancelled_at + hours(draw(st.sampled_from([0, 0, 1, 5])))
            released_at = released_at if released_at < end else None
            planned_start_at = max(order.planned_start_at, released_at or cancelled_at)
            replacements.append(
                replace(
                    order,
                    order_id=f"{order.order_id}-R",
                    created_at=cancelled_at,
                    released_at=released_at,
                    planned_start_at=planned_start_at,
                    due_date=max(order.due_date, planned_start_at.date()),
                    actual_start_at=_start(draw, released_at, planned_start_at, end),
                    cancelled_at=None,
                    replaces_order_id=order.order_id,
                )
            )
    return replacements


def _lots(
    draw: st.DrawFn,
    scenario_id: str,
    stocked: list[str],
    per_kg: dict[str, Decimal],
    orders: list[Order],
    end: datetime,
    max_lots: int,
) -> list[Lot]:
    """Lots of the stocked materials. A lot expires whole hours after its reception (a midnight, often), or at an
    order's planned start or a minute before it. Its quantity is what an order of whole or quarter kilos needs (exact
    fits), as the ERP records it."""
    starts = sorted({order.planned_start_at for order in orders})
    lots = []
    for number in range(draw(st.integers(1, max_lots))):
        material_id = draw(st.sampled_from(stocked))
        received_at = _instant(draw, T0, end - hours(1))
        later_starts = [at for at in starts if at > received_at]
        if later_starts and draw(st.booleans()):
            expires_at = draw(st.sampled_from(later_starts)) - timedelta(minutes=draw(st.sampled_from([0, 1])))
        else:
            expires_at = _instant(draw, received_at + hours(1), received_at + hours(72))
        kg_equivalent = Decimal(draw(st.integers(0, 30))) + draw(st.sampled_from([ZERO, Decimal("0.25")]))
        lots.append(
            Lot(
                scenario_id=scenario_id,
                lot_id=f"L-{number:03d}",
                material_id=material_id,
                received_at=received_at,
                expires_at=expires_at,
                quantity=thousandths(EXACT.multiply(kg_equivalent, per_kg[material_id]), decimal.ROUND_HALF_UP),
                qc_status=draw(st.sampled_from(["released"] * 5 + ["pending", "rejected"])),
            )
        )
    return lots


@dataclass
class _Floor:
    """The floor while a plant is drawn: the ERP's ledger, each lot's physical balance, the takes so far, and the
    events still to come (a heap in their sequence)."""

    lots: dict[str, Lot]
    orders: dict[str, Order]
    physical: dict[str, Decimal]
    ledger: ReservationLedger = field(default_factory=new_ledger)
    takes: list[Take] = field(default_factory=list)
    queue: list[tuple[tuple, int, Event, str]] = field(default_factory=list)
    pushed: Iterator[int] = field(default_factory=itertools.count)
    take_numbers: Iterator[int] = field(default_factory=itertools.count)

    def push(self, event: Event, limit: str = "") -> None:
        heapq.heappush(self.queue, (event.key, next(self.pushed), event, limit))

    def plan(self, take: Take, limit: str) -> None:
        """A take wished for: when it happens, its quantity is cut to what the lot holds (limit 'physical') or to
        what no order holds ('available')."""
        order = self.orders.get(take.order_id or "")
        self.push(Event(take.at, take.kind, take.take_id, take.material_id, order=order, take=take), limit)

    def take_id(self, kind: str) -> str:
        return f"{'C' if kind == 'issue' else 'M'}-{next(self.take_numbers):03d}"

    def happen(self, take: Take, limit: str) -> None:
        held = self.physical[take.lot_id]
        if limit == "available" and take.lot_id in self.ledger.lots:
            held = min(held, self.ledger.available(take.lot_id))
        quantity = min(thousandths(take.quantity), held)
        if quantity <= 0:
            return
        take = replace(take, quantity=quantity)
        self.takes.append(take)
        self.physical[take.lot_id] -= quantity
        apply(self.ledger, [Event(take.at, take.kind, take.take_id, take.material_id, take=take)])


def _floor(draw: st.DrawFn, orders: list[Order], lots: list[Lot], end: datetime) -> list[Take]:
    """The stock the floor takes, in the events' sequence: issues at starts, spot sales and discards."""
    floor = _Floor(
        {lot.lot_id: lot for lot in lots},
        {order.order_id: order for order in orders},
        {lot.lot_id: lot.quantity for lot in lots},
    )
    for event in sequenced(orders, lots, ()):
        floor.push(event)
    for lot in lots:
        _plan_movements(draw, floor, lot, end)
    while floor.queue:
        step = [heapq.heappop(floor.queue)]
        while step[0][2].order is not None and floor.queue and _same_step(floor.queue[0][2], step[0][2]):
            step.append(heapq.heappop(floor.queue))
        first, limit = step[0][2], step[0][3]
        if first.at >= end:
            break
        if first.take is not None:
            floor.happen(first.take, limit)
            continue
        issued = apply(floor.ledger, [item[2] for item in step])
        if issued is not None:
            assert first.order is not None
            _issue(draw, floor, first.order, first.at, issued, end)
    return floor.takes


def _same_step(event: Event, first: Event) -> bool:
    return (event.at, event.kind, event.source_id) == (first.at, first.kind, first.source_id)


def _plan_movements(draw: st.DrawFn, floor: _Floor, lot: Lot, end: datetime) -> None:
    """Spot sales and discards of the lot: a lot refused at reception discarded then; part of a lot sold or
    discarded while in stock (what no order holds, or, on the floor, what others hold too); the rest discarded at
    expiry."""
    if lot.qc_status == "rejected" and draw(st.booleans()):
        floor.plan(_movement(floor, lot, lot.received_at, lot.quantity, "discard"), "physical")
    if not lot.is_released:
        return
    share = draw(st.sampled_from([None, None, None, Decimal("0.25"), Decimal("0.5"), Decimal(1)]))
    if share is not None:
        moved_at = _instant(draw, lot.received_at, lot.received_at + hours(48))
        if moved_at < min(end, lot.expires_at):
            kind = draw(st.sampled_from(["spot_sale", "discard"]))
            limit = draw(st.sampled_from(["available", "physical"]))
            floor.plan(_movement(floor, lot, moved_at, EXACT.multiply(lot.quantity, share), kind), limit)
    if lot.expires_at < end and draw(st.booleans()):
        limit = draw(st.sampled_from(["available", "physical"]))
        floor.plan(_movement(floor, lot, lot.expires_at, lot.quantity, "discard"), limit)


def _movement(floor: _Floor, lot: Lot, at: datetime, quantity: Decimal, kind: str) -> Take:
    return Take(
        lot.scenario_id, floor.take_id("movement"), "movement", lot.lot_id, lot.material_id, at, quantity,
        movement_type=kind,
    )  # fmt: skip


def _issue(
    draw: st.DrawFn,
    floor: _Floor,
    order: Order,
    started_at: datetime,
    issued: dict[str, list[tuple[str, Decimal]]],
    end: datetime,
) -> None:
    """At its start the order issues the lots reserved for it (all, half or none of each, at the start or a little
    later), and sometimes another lot of one of its materials (a deviation)."""
    for material_id, holds in sorted(issued.items()):
        for lot_id, quantity in holds:
            share = draw(st.sampled_from([Decimal(1), Decimal(1), Decimal(1), Decimal("0.5"), None]))
            at = started_at + timedelta(minutes=draw(st.sampled_from([0, 0, 0, 30, 120])))
            if share is not None and at < end:
                take = Take(
                    order.scenario_id, floor.take_id("issue"), "issue", lot_id, material_id, at,
                    EXACT.multiply(quantity, share), order_id=order.order_id,
                )  # fmt: skip
                floor.plan(take, "physical")
    if not draw(st.sampled_from([False, False, True])):
        return
    candidates = [
        lot
        for lot in floor.lots.values()
        if lot.material_id in issued
        and lot.is_released
        and lot.received_at <= started_at < lot.expires_at
        and floor.physical[lot.lot_id] > 0
    ]
    if not candidates:
        return
    lot = draw(st.sampled_from(sorted(candidates, key=lambda candidate: candidate.lot_id)))
    share = draw(st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1)]))
    at = started_at + timedelta(minutes=draw(st.sampled_from([0, 0, 30])))
    if at < end:
        take = Take(
            order.scenario_id, floor.take_id("issue"), "issue", lot.lot_id, lot.material_id, at,
            EXACT.multiply(floor.physical[lot.lot_id], share), order_id=order.order_id,
            deviation_reason="reserved_lot_short_on_the_floor",
        )  # fmt: skip
        floor.plan(take, "physical")


def batch_cuts(min_batches: int = 2, max_batches: int = 4) -> st.SearchStrategy[list[int]]:
    """k - 1 cut days, k = min_batches..max_batches: batch j has the days in [cut j-1, cut j) (a scenario with fewer
    days has nothing in the last batches)."""
    return st.integers(min_batches, max_batches).flatmap(
        lambda k: st.lists(st.integers(1, 3), min_size=k - 1, max_size=k - 1, unique=True)
    )


# -- the raw tables ----------------------------------------------------------------------------------------------


def ensure_partitions(conn: pg_connection, scenarios: Iterable[str] = SCENARIOS) -> None:
    """The raw tables are partitioned by scenario; the loader creates partitions, the tests do it here."""
    with conn.cursor() as cursor:
        for name in RAW_DATASETS:
            dataset = BY_NAME[name]
            for scenario_id in scenarios:
                cursor.execute(
                    f"create table if not exists raw.{partition_name(dataset, scenario_id)}"
                    f" partition of {dataset.table} for values in ('{scenario_id}')"
                )
    conn.commit()


def _insert(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple], key: tuple[str, ...] = ()) -> None:
    if not rows:
        return
    statement = f"insert into {table} ({', '.join(columns)}) values %s"
    if key:
        # A later batch restates an order, as the loader's upsert does (its loaded_at is the new load's).
        updates = ", ".join(f"{column} = excluded.{column}" for column in (*columns, "loaded_at") if column not in key)
        statement += f" on conflict ({', '.join(key)}) do update set {updates}"
    execute_values(cursor, statement, rows)


def insert_plant(conn: pg_connection, plant: Plant) -> None:
    """The plant's rows into the raw tables, in one transaction (one load)."""
    with conn, conn.cursor() as cursor:
        _insert(
            cursor,
            "raw.capacity_calendar",
            ("scenario_id", "line_id", "calendar_date", "shift_id", "planned_min", "planned_downtime_min"),
            [
                (scenario_id, CALENDAR_LINE, T0.date() + timedelta(days=day), CALENDAR_SHIFT, 480, 0)
                for scenario_id, days in plant.calendar.items()
                for day in days
            ],
        )
        _insert(
            cursor,
            "raw.production_orders",
            (
                "scenario_id", "order_id", "product_id", "line_id", "created_at", "released_at", "planned_start_at",
                "planned_end_at", "due_date", "priority", "planned_kg", "status", "actual_start_at", "cancelled_at",
                "replaces_order_id",
            ),
            [
                (
                    o.scenario_id, o.order_id, o.product_id, PRODUCT_LINES[o.product_id], o.created_at, o.released_at,
                    o.planned_start_at, o.planned_start_at + hours(4), o.due_date, o.priority, o.planned_kg, o.status,
                    o.actual_start_at, o.cancelled_at, o.replaces_order_id,
                )
                for o in plant.orders
            ],
            key=("scenario_id", "order_id"),
        )  # fmt: skip
        _insert(
            cursor,
            "raw.stock_lots",
            (
                "scenario_id", "lot_id", "material_id", "supplier_name", "received_at", "expires_at", "quantity",
                "unit", "qc_status", "unit_cost_brl",
            ),
            [
                (
                    lot.scenario_id, lot.lot_id, lot.material_id, "Fazenda de teste", lot.received_at,
                    lot.expires_at, lot.quantity, MATERIAL_UNITS[lot.material_id], lot.qc_status, Decimal(1),
                )
                for lot in plant.lots
            ],
        )  # fmt: skip
        _insert(
            cursor,
            "raw.material_consumptions",
            (
                "scenario_id", "consumption_id", "order_id", "lot_id", "material_id", "consumed_at", "quantity",
                "deviation_reason",
            ),
            [
                (t.scenario_id, t.take_id, t.order_id, t.lot_id, t.material_id, t.at, t.quantity, t.deviation_reason)
                for t in plant.takes
                if t.kind == "issue"
            ],
        )  # fmt: skip
        _insert(
            cursor,
            "raw.stock_movements",
            ("scenario_id", "movement_id", "lot_id", "material_id", "movement_type", "moved_at", "quantity",
             "unit_price_brl"),
            [
                (
                    t.scenario_id, t.take_id, t.lot_id, t.material_id, t.movement_type, t.at, t.quantity,
                    Decimal("1.5") if t.movement_type == "spot_sale" else None,
                )
                for t in plant.takes
                if t.kind == "movement"
            ],
        )  # fmt: skip


def record_replace(conn: pg_connection, scenario_id: str) -> str:
    """A load audit row as the loader writes when it replaces a scenario's raw data; returns the load id."""
    load_id = str(uuid.uuid4())
    with conn.cursor() as cursor:
        audit.record(
            cursor,
            audit.AuditRow(
                load_id=load_id,
                scenario_id=scenario_id,
                batch="test",
                continues=None,
                batch_sha256="test",
                mode="replace",
                dataset="production_orders",
                file="test",
                rows=0,
                bytes=0,
                sha256="test",
                started_at=datetime.now(UTC),
                seconds=0.0,
            ),
        )
    conn.commit()
    return load_id


def delete_scenario(conn: pg_connection, scenario_id: str) -> None:
    """Empty a scenario's raw partitions, as the loader's replace does before the new data."""
    with conn.cursor() as cursor:
        for name in RAW_DATASETS:
            cursor.execute(f"truncate raw.{partition_name(BY_NAME[name], scenario_id)}")
    conn.commit()


def truncate(conn: pg_connection, *tables: str) -> None:
    with conn, conn.cursor() as cursor:
        cursor.execute(f"truncate {', '.join(tables)}")
