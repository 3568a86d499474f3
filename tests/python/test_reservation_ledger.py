"""The ERP's reservation ledger (generators/reservation.py) keeps DOMAIN.md §3 at every event.

Worked examples in a planner's words first, then random event streams (hypothesis) after each of which every
invariant of §3 is checked: open reservations within each lot's physical balance, reserved + open = requirement,
no reservation from an ineligible lot, no stock left idle that an open requirement could take (receipts, returns
and displaced stock fill open requirements in order sequence), and every reserved quantity accounted for.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.reservation import ReservationLedger, event_order

D = Decimal


def ledger() -> ReservationLedger:
    return ReservationLedger(zero=D(0), tolerance=D(0))


def release(book: ReservationLedger, order_id: str, at: int, need: int, *, planned_start: int | None = None) -> None:
    book.release(order_id, (at, 3, 0, order_id), planned_start or at + 24, at, {"MILK": D(need)})


def test_a_receipt_fills_the_earliest_released_order_first() -> None:
    """OP-1 and OP-2 are released short of milk; the 9:00 delivery covers OP-1 before OP-2 gets the rest."""
    book = ledger()
    release(book, "OP-1", 1, 600)
    release(book, "OP-2", 2, 600)
    assert book.requirements[("OP-1", "MILK")].short_at_release == D(600)
    book.receive("LOT-A", "MILK", 9, 60, D(1000))
    assert [(r.order_id, r.open) for r in book.requirements.values()] == [("OP-1", D(0)), ("OP-2", D(200))]
    assert book.requirements[("OP-1", "MILK")].covered_at == 9
    assert book.requirements[("OP-1", "MILK")].covered_by_lot_id == "LOT-A"


def test_a_cancellation_gives_its_stock_to_the_open_requirement() -> None:
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 60, D(1000))
    release(book, "OP-1", 1, 1000)
    release(book, "OP-2", 2, 400)
    book.cancel("OP-1", 5)
    assert book.reservations[("OP-1", "MILK", "LOT-A")].returned == D(1000)
    assert book.requirements[("OP-2", "MILK")].open == D(0)
    assert book.requirements[("OP-2", "MILK")].covered_at == 5
    assert book.available("LOT-A") == D(600)


def test_start_issues_the_reserved_lots_and_what_is_open_is_the_shortage_at_start() -> None:
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 40, D(300))
    book.receive("LOT-B", "MILK", 0, 50, D(300))
    release(book, "OP-1", 1, 800)
    assert book.start("OP-1", 24) == {"MILK": [("LOT-A", D(300)), ("LOT-B", D(300))]}
    requirement = book.requirements[("OP-1", "MILK")]
    assert (requirement.short_at_release, requirement.short_at_start) == (D(200), D(200))


def test_a_goods_issue_takes_its_reservation_before_anyone_else_may_reserve_it() -> None:
    """OP-1's vat takes 10 L of LOT-B beyond its reservation before it takes its LOT-A: OP-2 gives way 10 L of LOT-B,
    and the fill that follows must not hand it LOT-A, which OP-1's goods issue is about to take."""
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 50, D(600))
    book.receive("LOT-B", "MILK", 0, 60, D(500))
    release(book, "OP-1", 1, 900)
    release(book, "OP-2", 2, 300)
    book.start("OP-1", 5)
    book.take("LOT-B", D(310), 5, "OP-1")
    assert ("OP-2", "MILK", "LOT-A") not in book.reservations
    book.take("LOT-A", D(550), 5, "OP-1")
    book.end_goods_issue()
    assert book.requirements[("OP-2", "MILK")].open == D(110)
    # What the vat left of its reservation is free again, for the next fill.
    assert book.available("LOT-A") == D(50)


def test_stock_taken_on_the_floor_displaces_the_last_order_in_sequence() -> None:
    """A spot sale took 500 L of a lot reserved for OP-1 and OP-2: OP-2, later in sequence, gives way."""
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 60, D(1000))
    release(book, "OP-1", 1, 600)
    release(book, "OP-2", 2, 400)
    book.take("LOT-A", D(500), 3)
    assert book.reservations[("OP-1", "MILK", "LOT-A")].open == D(500)
    assert book.reservations[("OP-2", "MILK", "LOT-A")].open == D(0)
    assert (book.requirements[("OP-1", "MILK")].open, book.requirements[("OP-2", "MILK")].open) == (D(100), D(400))
    assert book.reservations[("OP-1", "MILK", "LOT-A")].displaced == D(100)


def test_an_expired_lot_ends_its_reservations_and_a_fresher_lot_covers_them() -> None:
    book = ledger()
    book.receive("LOT-OLD", "MILK", 0, 30, D(500))
    release(book, "OP-1", 1, 500, planned_start=24)
    book.receive("LOT-NEW", "MILK", 20, 70, D(800))
    book.expire("LOT-OLD", 30)  # the start slipped past the old lot's expiry
    assert book.reservations[("OP-1", "MILK", "LOT-OLD")].expired == D(500)
    assert book.reservations[("OP-1", "MILK", "LOT-NEW")].open == D(500)
    assert book.requirements[("OP-1", "MILK")].covered_by_lot_id == "LOT-NEW"


def test_a_lot_expiring_before_the_planned_start_is_not_reserved() -> None:
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 23, D(500))
    release(book, "OP-1", 1, 500, planned_start=24)
    assert book.requirements[("OP-1", "MILK")].open == D(500) and book.available("LOT-A") == D(500)


def test_taking_more_than_the_lot_holds_is_refused() -> None:
    book = ledger()
    book.receive("LOT-A", "MILK", 0, 60, D(100))
    with pytest.raises(ValueError, match="LOT-A gives 101"):
        book.take("LOT-A", D(101), 5)


# --- random event streams ---------------------------------------------------------------------------------------

MATERIALS = ("MILK", "SALT")
quantities = st.integers(min_value=0, max_value=12).map(D)


@st.composite
def event_streams(draw: st.DrawFn) -> list[tuple]:
    """Lots, orders and floor movements over 48 whole hours, so that ties at one instant are frequent."""
    events = []
    for index in range(draw(st.integers(0, 7))):
        lot_id = f"L{index}"
        received = draw(st.integers(0, 40))
        expires = received + draw(st.integers(0, 30))
        events.append(("receipt", received, lot_id, (draw(st.sampled_from(MATERIALS)), expires, draw(quantities))))
        events.append(("expiry", expires, lot_id, None))
        for _ in range(draw(st.integers(0, 2))):
            events.append(("movement", draw(st.integers(received, 48)), lot_id, draw(quantities)))
    for index in range(draw(st.integers(0, 7))):
        order_id = f"O{index}"
        released = draw(st.integers(0, 40))
        sequence = (released, draw(st.integers(1, 5)), draw(st.integers(0, 3)), order_id)
        planned_start = released + draw(st.integers(0, 24))
        needs = draw(st.dictionaries(st.sampled_from(MATERIALS), quantities, min_size=1))
        events.append(("release", released, sequence, (order_id, planned_start, needs)))
        ending = draw(st.sampled_from(["start", "cancellation", None]))
        if ending is not None:
            events.append((ending, draw(st.integers(released, 48)), sequence, order_id))
    return sorted(events, key=lambda event: event_order(event[0], event[1], str(event[2])))


def apply(book: ReservationLedger, kind: str, at: int, key: object, payload: object) -> None:
    if kind == "receipt":
        material_id, expires, quantity = payload  # type: ignore[misc]
        book.receive(str(key), material_id, at, expires, quantity)
    elif kind == "release":
        order_id, planned_start, needs = payload  # type: ignore[misc]
        book.release(order_id, key, planned_start, at, needs)  # type: ignore[arg-type]
    elif kind == "cancellation":
        book.cancel(str(payload), at)
    elif kind == "start":
        for issues in book.start(str(payload), at).values():
            for lot_id, quantity in issues:
                book.take(lot_id, quantity, at, str(payload))
    elif kind == "movement":
        lot = book.lots.get(str(key))
        if lot is not None:  # a spot sale or discard of at most what the lot holds
            book.take(lot.lot_id, min(payload, lot.physical), at)  # type: ignore[type-var]
    elif kind == "expiry":
        book.expire(str(key), at)


def assert_invariants(book: ReservationLedger) -> None:
    for lot in book.lots.values():
        held = book.reserved_open(lot.lot_id)
        assert held <= lot.physical, f"{lot.lot_id}: {held} reserved of {lot.physical} on hand"
        assert not (lot.is_expired and held > 0), f"{lot.lot_id} expired and still reserved"
    for held in book.reservations.values():
        accounted = held.open + held.issued + held.returned + held.expired + held.displaced
        assert held.reserved == accounted, held
        requirement = book.requirements[(held.order_id, held.material_id)]
        if held.open > 0:
            lot = book.lots[held.lot_id]
            assert not lot.is_expired and lot.expires_at >= requirement.planned_start_at, (held, lot)
    for requirement in book.requirements.values():
        holds = book.reserved_lots(requirement.order_id, requirement.material_id)
        if requirement.is_active:
            assert sum((h.open for h in holds), D(0)) + requirement.open == requirement.required, requirement
            if requirement.open > 0:
                idle = [
                    lot.lot_id
                    for lot in book.lots.values()
                    if lot.material_id == requirement.material_id
                    and not lot.is_expired
                    and lot.expires_at >= requirement.planned_start_at
                    and book.available(lot.lot_id) > 0
                ]
                assert not idle, f"{requirement.order_id} open {requirement.open} while {idle} have stock"
        else:
            assert not holds, requirement
        if requirement.started_at is not None:
            # At start the open reservations are issued and the rest is short: together, the requirement.
            issued = sum((h.issued for h in book.reservations.values() if _of(h, requirement)), D(0))
            assert issued + requirement.short_at_start == requirement.required, requirement


def _of(held: object, requirement: object) -> bool:
    return (held.order_id, held.material_id) == (requirement.order_id, requirement.material_id)  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(event_streams())
def test_every_event_keeps_the_policy(events: list[tuple]) -> None:
    book = ledger()
    for kind, at, key, payload in events:
        apply(book, kind, at, key, payload)
        assert_invariants(book)
