"""Stock reservation (DOMAIN.md §3): the dbt model equals the Python ledger of generators/reservation.py.

The model (int_reservation_changes_applied, the PL/pgSQL function of macros/reservation) and the ledger share no
code. Property-based (hypothesis) on small random plants (reservation_plants.py), against the real PostgreSQL, in a
database of its own:
- most examples execute the model's compiled SQL (the full refresh, and the incremental SQL once per batch, as dbt's
  delete+insert does) directly through psycopg2, which costs milliseconds:
  - the full refresh equals the ledger driven by the same events in the same sequence: per order, material and lot
    what was reserved, issued, returned, expired and displaced; per requirement what was short at release and at
    start, what is open, when and by which lot it was last covered; and the change rows keep the invariants (after
    every event what orders hold of a lot is within its physical balance; after every change held + open =
    requirement; no reservation from an ineligible lot);
  - the data loaded in k daily batches, the incremental SQL run after each, gives the rows of one full refresh;
- a few go through `dbt run` itself: full refresh, then k batches, then one scenario replaced as the loader
  replaces it (the next incremental run computes it again from scratch), with int_material_requirements_reserved;
- an event dated before the last run's horizon but loaded after it (a consumption, a lot, an order's cancellation)
  fails the next incremental run, naming it and asking for a full refresh; an order restated unchanged does not;
- a lot that gives more than it holds fails the run, naming the lot; a lot refused at reception and discarded
  changes nothing;
- a worked example in a planner's words, with its figures;
- the function is installed once, and again only when its definition changes.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections import Counter, namedtuple
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from reservation_plants import (
    RANKS,
    RAW_TABLES,
    SCENARIOS,
    Event,
    Lot,
    Order,
    Plant,
    Take,
    at_hour,
    batch_cuts,
    delete_scenario,
    ensure_partitions,
    insert_plant,
    plants,
    record_replace,
    truncate,
)
from support import BuiltPipeline, DbtRunner, create_database, drop_database, make_dbt_runner

from generators.reservation import ReservationLedger
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.loading.raw_schema import ensure_raw_tables

pytestmark = pytest.mark.slow

MODEL = "int_reservation_changes_applied"
REQUIREMENTS_MODEL = "int_material_requirements_reserved"
SPANS_MODEL = "int_scenario_data_spans_dated"
EMPTIED_MODEL = "int_stock_lots_emptied"
TABLE = f"intermediate.{MODEL}"
SPANS_TABLE = f"intermediate.{SPANS_MODEL}"
EMPTIED_TABLE = f"intermediate.{EMPTIED_MODEL}"
# The reservation's own tables: what the lots emptied and the changes hold is emptied together.
RESERVATION_TABLES = (EMPTIED_TABLE, TABLE)
LOAD_AUDIT = "raw.load_audit"
FUNCTION = "intermediate.apply_reservation_events"
# What a run builds: the data spans (a table: the data horizon), the lots emptied, the changes and the requirements
# they summarise.
RUN = ("--select", SPANS_MODEL, EMPTIED_MODEL, MODEL, REQUIREMENTS_MODEL)
CHANGE_COLUMNS = (
    "reservation_change_key",
    "scenario_id",
    "change_number",
    "event_at",
    "event_rank",
    "event_kind",
    "event_source_id",
    "order_id",
    "material_id",
    "lot_id",
    "change_kind",
    "reserved_change_quantity",
    "requirement_open_quantity",
    "horizon_at",
    "processed_at",
    "scenario_load_id",
)
Change = namedtuple("Change", CHANGE_COLUMNS)
# Every column but when the run happened and the horizon it ran up to: k batches and one full refresh agree on them.
RUN_COLUMNS = ("horizon_at", "processed_at")
# What one order holds of one lot went through, in the order of the ledger's Reservation fields.
HOLD_KINDS = ("reserved", "issued", "returned", "expired", "displaced")
REQUIREMENT_FIELDS = (
    "short_at_release",
    "covered_at",
    "covered_by_lot_id",
    "started_at",
    "short_at_start",
    "cancelled_at",
    "open",
)
# `make test-deep` runs ten times the examples. The default budgets catch each mutation the property tests were
# checked against, in the function: FEFO reversed, a lot expiring at the planned start not eligible, displacement
# from the first order in sequence, a start that fills open requirements, a cancellation or a displacement that does
# not, an expiry that does not open the requirement again, priority reversed, an issue that leaves the balance; in the
# incremental SQL: carried lots without their movements, a lot expiring at the watermark or received at it, a start or
# cancellation at the watermark, events from after the watermark only; in the lots emptied: a lot half used counted
# emptied. Lower them only after checking that again.
DEPTH = 10 if os.environ.get("QUEIJARIA_HYPOTHESIS_PROFILE") == "deep" else 1
SLOW_EXAMPLES_ALLOWED = [HealthCheck.too_slow, HealthCheck.data_too_large]


@dataclass(repr=False)
class ReservationDb:
    settings: ConnectionSettings
    dbt: DbtRunner
    conn: psycopg2.extensions.connection
    full_refresh_sql: str
    incremental_sql: str
    spans_sql: str
    emptied_sql: str

    def __repr__(self) -> str:
        return f"ReservationDb({self.settings.dbname})"

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(repr(self))  # type: ignore[attr-defined]

    def _fetch(self, query: str) -> list[Change]:
        with self.conn, self.conn.cursor() as cursor:
            cursor.execute(query)
            return [Change(*row) for row in cursor.fetchall()]

    def model_rows(self) -> list[Change]:
        return self._fetch(f"select {', '.join(CHANGE_COLUMNS)} from {TABLE} order by scenario_id, change_number")

    def _refresh_spans(self, cursor: psycopg2.extensions.cursor) -> None:
        """The data spans are a table: rebuilt as dbt would before the reservation reads the data horizon."""
        cursor.execute(f"delete from {SPANS_TABLE}")
        cursor.execute(f"insert into {SPANS_TABLE} select * from ({self.spans_sql}) as spans")

    def run_full_refresh_sql(self) -> list[Change]:
        with self.conn, self.conn.cursor() as cursor:
            self._refresh_spans(cursor)
        return self._fetch(
            f"select {', '.join(CHANGE_COLUMNS)} from ({self.full_refresh_sql}) as model"
            " order by scenario_id, change_number"
        )

    def run_incremental_sql(self) -> None:
        """As dbt's delete+insert does for the lots emptied then the changes, in one transaction."""
        with self.conn, self.conn.cursor() as cursor:
            self._refresh_spans(cursor)
            for table, key, model_sql in (
                (EMPTIED_TABLE, "emptied_lot_key", self.emptied_sql),
                (TABLE, "reservation_change_key", self.incremental_sql),
            ):
                cursor.execute(f"create temp table increment on commit drop as select * from ({model_sql}) as m")
                cursor.execute(f"delete from {table} where {key} in (select {key} from increment)")
                cursor.execute(f"insert into {table} select * from increment")
                cursor.execute("drop table increment")

    def emptied_lots(self) -> dict[tuple[str, str], datetime]:
        """int_stock_lots_emptied: when each lot emptied was emptied."""
        with self.conn, self.conn.cursor() as cursor:
            cursor.execute(f"select scenario_id, lot_id, emptied_at from {EMPTIED_TABLE}")
            return {(scenario_id, lot_id): emptied_at for scenario_id, lot_id, emptied_at in cursor.fetchall()}

    def failure(self, run: Callable[[], object]) -> str:
        """The error a run of the SQL raises (it must raise one)."""
        try:
            run()
        except psycopg2.Error as error:
            return str(error)
        raise AssertionError("the run did not fail")

    def requirement_rows(self) -> dict[tuple, tuple]:
        """int_material_requirements_reserved (built by dbt), in the shape of the ledger's requirements."""
        with self.conn, self.conn.cursor() as cursor:
            cursor.execute(
                "select scenario_id, order_id, material_id, short_at_release_quantity, covered_at, covered_by_lot_id,"
                " started_at, short_at_start_quantity, cancelled_at, open_quantity, reserved_quantity, issued_quantity,"
                " returned_quantity, expired_quantity, displaced_quantity, held_quantity, requirement_status"
                f" from intermediate.{REQUIREMENTS_MODEL}"
            )
            return {tuple(row[:3]): tuple(row[3:]) for row in cursor.fetchall()}

    def function(self) -> tuple[int, str]:
        """The installed function's oid and comment (where the md5 of its definition is kept)."""
        with self.conn, self.conn.cursor() as cursor:
            cursor.execute(
                f"select oid, obj_description(oid, 'pg_proc') from pg_proc where oid = '{FUNCTION}'::regproc"
            )
            return cursor.fetchone()


def _compiled_sql(target_path: Path, folder: str, model: str) -> str:
    path = target_path / "compiled" / "queijaria_pcp" / "models" / "intermediate" / folder / f"{model}.sql"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reservation_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReservationDb]:
    settings = create_database(resolve(), "queijaria_reservation_test")
    target_path = tmp_path_factory.mktemp("dbt_reservation_target")
    dbt = make_dbt_runner(settings, target_path)
    conn = connect(settings)
    try:
        ensure_raw_tables(conn)
        ensure_partitions(conn)
        dbt("seed", "--select", "recipe_lines", "raw_materials", "products", "scenarios")
        dbt("run", "--select", f"+{REQUIREMENTS_MODEL}")  # installs the function (on-run-start), creates the tables
        dbt("compile", "--select", MODEL, SPANS_MODEL, EMPTIED_MODEL)  # the tables exist: is_incremental() is true
        incremental_sql = _compiled_sql(target_path, "planning", MODEL)
        spans_sql = _compiled_sql(target_path, "scenarios", SPANS_MODEL)
        emptied_sql = _compiled_sql(target_path, "inventory", EMPTIED_MODEL)
        dbt("compile", "--select", MODEL, "--full-refresh")
        full_refresh_sql = _compiled_sql(target_path, "planning", MODEL)
        yield ReservationDb(settings, dbt, conn, full_refresh_sql, incremental_sql, spans_sql, emptied_sql)
    finally:
        conn.close()
        drop_database(settings)


# -- what the model says, and what the ledger says ----------------------------------------------------------------


def model_summary(changes: Iterable[Change]) -> tuple[dict, dict]:
    """From the change rows: per (scenario, order, material, lot) the quantities reserved, issued, returned, expired
    and displaced; per (scenario, order, material) the requirement's REQUIREMENT_FIELDS, read in change order."""
    holds: dict[tuple, dict[str, Decimal]] = {}
    requirements: dict[tuple, dict[str, object]] = {}
    for change in sorted(changes, key=lambda change: (change.scenario_id, change.change_number)):
        key = (change.scenario_id, change.order_id, change.material_id)
        if change.lot_id is not None:
            sums = holds.setdefault((*key, change.lot_id), dict.fromkeys(HOLD_KINDS, Decimal(0)))
            sums[change.change_kind] += abs(change.reserved_change_quantity)
        requirement = requirements.setdefault(key, dict.fromkeys(REQUIREMENT_FIELDS))
        requirement["open"] = change.requirement_open_quantity
        if change.change_kind == "released":
            requirement["short_at_release"] = change.requirement_open_quantity
        elif change.change_kind == "started":
            requirement["started_at"] = change.event_at
            requirement["short_at_start"] = change.requirement_open_quantity
        elif change.change_kind == "cancelled":
            requirement["cancelled_at"] = change.event_at
        # Covered: a reservation left nothing open; it stands until something is open again.
        if change.change_kind == "reserved" and change.requirement_open_quantity == 0:
            requirement["covered_at"], requirement["covered_by_lot_id"] = change.event_at, change.lot_id
        elif change.requirement_open_quantity > 0:
            requirement["covered_at"], requirement["covered_by_lot_id"] = None, None
    return (
        {key: tuple(sums[kind] for kind in HOLD_KINDS) for key, sums in holds.items()},
        {key: tuple(requirement[name] for name in REQUIREMENT_FIELDS) for key, requirement in requirements.items()},
    )


def ledger_summary(ledgers: dict[str, ReservationLedger]) -> tuple[dict, dict]:
    """The same from the Python ledgers."""
    holds, requirements = {}, {}
    for scenario_id, ledger in ledgers.items():
        for (order_id, material_id, lot_id), held in ledger.reservations.items():
            holds[(scenario_id, order_id, material_id, lot_id)] = tuple(getattr(held, kind) for kind in HOLD_KINDS)
        for (order_id, material_id), requirement in ledger.requirements.items():
            requirements[(scenario_id, order_id, material_id)] = tuple(
                getattr(requirement, name) for name in REQUIREMENT_FIELDS
            )
    return holds, requirements


def assert_equals_ledger(changes: list[Change], plant: Plant) -> None:
    model_holds, model_requirements = model_summary(changes)
    ledger_holds, ledger_requirements = ledger_summary(plant.ledgers())
    assert model_requirements == ledger_requirements
    assert model_holds == ledger_holds


def assert_invariants(changes: list[Change], plant: Plant) -> None:
    """The change rows walked with the plant's own event sequence: each event's changes come together, numbered in
    sequence, in the order of the events; after every event, what orders hold of each lot is within its physical
    balance (available ≥ 0) and an expired lot holds nothing; after every change, held + open = requirement (what a
    start issues or a cancellation gives back counting as held until its last row), nothing is held once the order
    started or was cancelled and nothing changes after; a reservation comes only from a lot eligible for the order
    (same material, QC released, received, not expired, expiring at or after the planned start)."""
    by_scenario: dict[str, list[Change]] = {}
    for change in changes:
        by_scenario.setdefault(change.scenario_id, []).append(change)
    assert set(by_scenario) <= set(plant.scenarios)
    for scenario_id, rows in by_scenario.items():
        rows.sort(key=lambda change: change.change_number)
        assert [change.change_number for change in rows] == list(range(1, len(rows) + 1))
        _assert_scenario_invariants(rows, plant.scenario(scenario_id), plant.events(scenario_id))


def _event_of(change: Change) -> tuple:
    return (change.event_at, change.event_rank, change.event_kind, change.event_source_id, change.material_id)


def _assert_scenario_invariants(changes: list[Change], plant: Plant, events: list[Event]) -> None:
    lots = {lot.lot_id: lot for lot in plant.lots}
    orders = {order.order_id: order for order in plant.orders}
    place = {(e.at, RANKS[e.kind], e.kind, e.source_id, e.material_id): n for n, e in enumerate(events)}
    physical: Counter[str] = Counter()
    held_of_lot: Counter[str] = Counter()
    held_for: Counter[tuple] = Counter()
    given_up: Counter[tuple] = Counter()
    ended: set[tuple] = set()
    done = 0  # events walked

    def happen(step: Event) -> None:
        if step.kind == "receipt":
            physical[step.source_id] += step.lot.quantity  # type: ignore[union-attr]
        elif step.take is not None:
            physical[step.take.lot_id] -= step.take.quantity

    def check_lots(step: Event) -> None:
        for lot_id, held in held_of_lot.items():
            assert 0 <= held <= physical[lot_id], f"{lot_id} holds {held}, has {physical[lot_id]} after {step}"
        if step.kind == "expiry":
            assert held_of_lot[step.source_id] == 0, f"{step.source_id} still held after its expiry"

    for key, grouped in itertools.groupby(changes, key=_event_of):
        group = list(grouped)
        assert key in place, f"changes of an event the plant does not have: {group}"
        assert place[key] >= done, f"changes out of the events' sequence: {group}"
        for step in events[done : place[key]]:
            happen(step)
            check_lots(step)
        step = events[place[key]]
        happen(step)
        for change in group:
            _assert_change(change, lots, orders[change.order_id], held_of_lot, held_for, given_up, ended)
        check_lots(step)
        done = place[key] + 1
    for step in events[done:]:
        happen(step)
        check_lots(step)


def _assert_change(
    change: Change,
    lots: dict[str, Lot],
    order: Order,
    held_of_lot: Counter[str],
    held_for: Counter[tuple],
    given_up: Counter[tuple],
    ended: set[tuple],
) -> None:
    requirement = (change.order_id, change.material_id)
    assert requirement not in ended, f"a change after the start or cancellation: {change}"
    if change.lot_id is None:
        assert change.reserved_change_quantity == 0, change
    else:
        lot = lots[change.lot_id]
        assert lot.material_id == change.material_id and lot.is_released, change
        if change.change_kind == "reserved":
            assert change.reserved_change_quantity > 0, change
            assert lot.received_at <= change.event_at <= lot.expires_at, change
            assert lot.expires_at >= order.planned_start_at, change
        else:
            assert change.reserved_change_quantity < 0, change
        held_of_lot[lot.lot_id] += change.reserved_change_quantity
        held_for[requirement] += change.reserved_change_quantity
        if change.change_kind in ("issued", "returned"):
            given_up[requirement] -= change.reserved_change_quantity
    assert change.requirement_open_quantity >= 0, change
    needed = order.requirements()[change.material_id]
    assert held_for[requirement] + given_up[requirement] + change.requirement_open_quantity == needed, change
    if change.change_kind in ("started", "cancelled"):
        assert held_for[requirement] == 0, change
        ended.add(requirement)


def run_comparable(changes: Iterable[Change]) -> list[tuple]:
    """The rows without when they were computed: what k batches and one full refresh must agree on."""
    kept = [name for name in CHANGE_COLUMNS if name not in RUN_COLUMNS]
    return sorted(tuple(getattr(change, name) for name in kept) for change in changes)


def _describe(changes: list[Change], batches: int | None = None) -> None:
    """Hypothesis statistics (--hypothesis-show-statistics): what the examples exercised."""
    if batches is not None:
        event(f"batches: {batches}")
    kinds = {change.change_kind for change in changes}
    for kind in ("reserved", "issued", "returned", "expired", "displaced"):
        event(f"has {kind}" if kind in kinds else f"nothing {kind}")
    later = any(change.change_kind == "reserved" and change.event_kind != "release" for change in changes)
    event("a requirement filled after its release" if later else "filled at release only")
    short = any(change.change_kind == "started" and change.requirement_open_quantity > 0 for change in changes)
    event("short at start" if short else "nothing short at start")


# -- the properties ------------------------------------------------------------------------------------------------


@settings(max_examples=200 * DEPTH, deadline=None, suppress_health_check=SLOW_EXAMPLES_ALLOWED)
@given(plant=plants())
def test_full_refresh_equals_the_ledger(reservation_db: ReservationDb, plant: Plant) -> None:
    """The model's full refresh (compiled SQL) gives what the ledger gives, and keeps the invariants."""
    db = reservation_db
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, plant)
    changes = db.run_full_refresh_sql()
    _describe(changes)
    assert_invariants(changes, plant)
    assert_equals_ledger(changes, plant)


@settings(max_examples=80 * DEPTH, deadline=None, suppress_health_check=SLOW_EXAMPLES_ALLOWED)
@given(plant=plants(max_orders=20, max_lots=16))
def test_full_refresh_equals_the_ledger_on_busier_plants(reservation_db: ReservationDb, plant: Plant) -> None:
    """More orders and lots: longer order sequences, deeper FEFO walks, more holds per lot to displace."""
    db = reservation_db
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, plant)
    changes = db.run_full_refresh_sql()
    _describe(changes)
    assert_invariants(changes, plant)
    assert_equals_ledger(changes, plant)


@settings(max_examples=120 * DEPTH, deadline=None, suppress_health_check=SLOW_EXAMPLES_ALLOWED)
@given(plant=plants(max_orders=12, max_lots=12), cuts=batch_cuts())
def test_incremental_batches_equal_the_full_refresh(
    reservation_db: ReservationDb, plant: Plant, cuts: list[int]
) -> None:
    """The data loaded in k daily batches (orders restated as they change), the incremental SQL run after each with
    the data horizon moving, gives exactly the rows of one full refresh."""
    db = reservation_db
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, plant)
    full = db.run_full_refresh_sql()
    batches = plant.batches(cuts)
    _describe(full, len(batches))

    truncate(db.conn, *RAW_TABLES, *RESERVATION_TABLES)
    for batch in batches:
        insert_plant(db.conn, batch)
        db.run_incremental_sql()
    rows = db.model_rows()
    assert run_comparable(rows) == run_comparable(full)
    assert all(change.event_at < change.horizon_at for change in rows)
    assert db.emptied_lots() == _emptied_expected(plant)


def _emptied_expected(plant: Plant) -> dict[tuple[str, str], datetime]:
    """The lots whose issues and movements add up to their quantity, with the last of them (a lot nothing left
    was never emptied)."""
    left: dict[tuple[str, str], list[Take]] = {}
    for take in plant.takes:
        left.setdefault((take.scenario_id, take.lot_id), []).append(take)
    lots = {(lot.scenario_id, lot.lot_id): lot.quantity for lot in plant.lots}
    return {
        key: max(take.at for take in takes)
        for key, takes in left.items()
        if key in lots and sum(take.quantity for take in takes) >= lots[key]
    }


def _requirements_expected(plant: Plant) -> dict[tuple, tuple]:
    """int_material_requirements_reserved's figures, from the ledger."""
    expected = {}
    for scenario_id, ledger in plant.ledgers().items():
        for (order_id, material_id), requirement in ledger.requirements.items():
            holds = [
                held
                for (held_order, held_material, _), held in ledger.reservations.items()
                if (held_order, held_material) == (order_id, material_id)
            ]
            sums = [sum((getattr(held, kind) for held in holds), Decimal(0)) for kind in HOLD_KINDS]
            status = "started" if requirement.started_at else "cancelled" if requirement.cancelled_at else "open"
            expected[(scenario_id, order_id, material_id)] = (
                *(getattr(requirement, name) for name in REQUIREMENT_FIELDS),
                *sums,
                sums[0] - sum(sums[1:]),
                status,
            )
    return expected


@settings(
    max_examples=3 * DEPTH, deadline=None, suppress_health_check=[*SLOW_EXAMPLES_ALLOWED, HealthCheck.filter_too_much]
)
@given(plant=plants(), replacement=plants(), cuts=batch_cuts(max_batches=3))
def test_dbt_run_full_refresh_batches_and_a_replaced_scenario(
    reservation_db: ReservationDb, plant: Plant, replacement: Plant, cuts: list[int]
) -> None:
    """Through `dbt run` itself (materialization, delete+insert, hooks): the full refresh equals the ledger, and so
    does int_material_requirements_reserved; k batches give the full refresh's rows; then the loader replaces one
    scenario's raw data (a fresh simulation) and the next incremental run, with no flag, computes that scenario again
    from scratch and keeps the other, as a full refresh would."""
    replaced = plant.scenarios[0]
    assume(plant.ledgers()[replaced].requirements)  # the scenario has changes to replace
    db = reservation_db
    truncate(db.conn, *RAW_TABLES, LOAD_AUDIT)
    for scenario_id in SCENARIOS:
        record_replace(db.conn, scenario_id)
    insert_plant(db.conn, plant)
    db.dbt("run", *RUN, "--full-refresh")
    full = db.model_rows()
    assert_equals_ledger(full, plant)
    assert db.requirement_rows() == _requirements_expected(plant)

    truncate(db.conn, *RAW_TABLES)
    batches = plant.batches(cuts)
    insert_plant(db.conn, batches[0])
    db.dbt("run", *RUN, "--full-refresh")
    for batch in batches[1:]:
        insert_plant(db.conn, batch)
        db.dbt("run", *RUN)
    assert run_comparable(db.model_rows()) == run_comparable(full)

    fresh = replacement.as_scenario(replaced)
    delete_scenario(db.conn, replaced)
    insert_plant(db.conn, fresh)
    record_replace(db.conn, replaced)
    result = db.dbt("run", *RUN)
    assert f"scenario {replaced} was replaced" in result.stdout
    after = plant.without(replaced).merged(fresh)
    rows = db.model_rows()
    assert run_comparable(rows) == run_comparable(db.run_full_refresh_sql())
    assert_equals_ledger(rows, after)
    assert db.requirement_rows() == _requirements_expected(after)
    truncate(db.conn, LOAD_AUDIT)


# -- worked examples -----------------------------------------------------------------------------------------------


def _order(
    order_id: str,
    released_h: float,
    start_h: float,
    *,
    started_h: float | None = None,
    cancelled_h: float | None = None,
    planned_kg: str = "10",
) -> Order:
    """A baseline order of 10 kg of mussarela: 103.5 L of milk (10 L/kg, 3.5 % scrap), and other materials."""
    return Order(
        scenario_id="baseline",
        order_id=order_id,
        product_id="MUS",
        created_at=at_hour(released_h - 1),
        released_at=at_hour(released_h),
        planned_start_at=at_hour(start_h),
        due_date=at_hour(start_h + 24).date(),
        priority=2,
        planned_kg=Decimal(planned_kg),
        actual_start_at=None if started_h is None else at_hour(started_h),
        cancelled_at=None if cancelled_h is None else at_hour(cancelled_h),
    )


def _milk(lot_id: str, received_h: float, expires_h: float, litres: str, qc_status: str = "released") -> Lot:
    return Lot("baseline", lot_id, "MILK", at_hour(received_h), at_hour(expires_h), Decimal(litres), qc_status)


def _issue(take_id: str, order_id: str, lot_id: str, at_h: float, litres: str) -> Take:
    return Take("baseline", take_id, "issue", lot_id, "MILK", at_hour(at_h), Decimal(litres), order_id=order_id)


def _sale(take_id: str, lot_id: str, at_h: float, litres: str) -> Take:
    return Take(
        "baseline", take_id, "movement", lot_id, "MILK", at_hour(at_h), Decimal(litres), movement_type="spot_sale"
    )


def _days(count: int) -> dict[str, range]:
    return {"baseline": range(count)}


def _milk_summary(changes: list[Change]) -> tuple[dict, dict]:
    holds, requirements = model_summary(changes)
    return (
        {(key[1], key[3]): value for key, value in holds.items() if key[2] == "MILK"},
        {key[1]: value for key, value in requirements.items() if key[2] == "MILK"},
    )


def test_worked_example_of_a_planner_day(reservation_db: ReservationDb) -> None:
    """Milk for four orders of 103.5 L over two days (hours from 1 March 00:00):
    - L-A (150 L, expires at 36:00) arrives at 6:00. OP-1 (released 8:00) reserves 103.5 L of it; OP-2 (9:00) the
      other 46.5 L and is 57 L short.
    - L-B (100 L) arrives at 12:00 and covers OP-2 (57 L); OP-3, released at 13:00 to start at 38:00, after L-A's
      expiry, takes the 43 L left of L-B and is 60.5 L short.
    - OP-1 is cancelled at 15:00: its 103.5 L of L-A go back; OP-3 may not have them (L-A expires before its start);
      OP-4, released at that very instant (the cancellation comes first), takes them.
    - 30 L of L-B are sold spot at 18:00: OP-3, last in sequence, gives them up (displaced) and is 90.5 L short.
    - OP-4 starts at 33:00 and issues its 103.5 L of L-A. L-A expires at 36:00 with OP-2's 46.5 L, which OP-2
      had not issued (its start slipped): open again.
    - L-C (200 L) arrives at 37:00: OP-2 is covered first (46.5 L), then OP-3 (90.5 L).
    - OP-2 starts at 38:00 with nothing short and issues L-B and L-C."""
    plant = Plant(
        (
            _order("OP-1", 8, 34, cancelled_h=15),
            _order("OP-2", 9, 35, started_h=38),
            _order("OP-3", 13, 38),
            _order("OP-4", 15, 33, started_h=33),
        ),
        (_milk("L-A", 6, 36, "150"), _milk("L-B", 12, 80, "100"), _milk("L-C", 37, 85, "200")),
        (
            _sale("M-1", "L-B", 18, "30"),
            _issue("C-1", "OP-4", "L-A", 33, "103.5"),
            _issue("C-2", "OP-2", "L-B", 38, "57"),
            _issue("C-3", "OP-2", "L-C", 38, "46.5"),
        ),
        _days(3),
    )
    db = reservation_db
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, plant)
    changes = db.run_full_refresh_sql()
    assert_invariants(changes, plant)
    holds, requirements = _milk_summary(changes)
    d = Decimal
    # (reserved, issued, returned, expired, displaced)
    assert holds == {
        ("OP-1", "L-A"): (d("103.5"), 0, d("103.5"), 0, 0),
        ("OP-2", "L-A"): (d("46.5"), 0, 0, d("46.5"), 0),
        ("OP-2", "L-B"): (d(57), d(57), 0, 0, 0),
        ("OP-2", "L-C"): (d("46.5"), d("46.5"), 0, 0, 0),
        ("OP-3", "L-B"): (d(43), 0, 0, 0, d(30)),
        ("OP-3", "L-C"): (d("90.5"), 0, 0, 0, 0),
        ("OP-4", "L-A"): (d("103.5"), d("103.5"), 0, 0, 0),
    }
    # (short at release, covered at, covered by, started at, short at start, cancelled at, open)
    assert requirements == {
        "OP-1": (0, at_hour(8), "L-A", None, None, at_hour(15), 0),
        "OP-2": (d(57), at_hour(37), "L-C", at_hour(38), 0, None, 0),
        "OP-3": (d("60.5"), at_hour(37), "L-C", None, None, None, 0),
        "OP-4": (0, at_hour(15), "L-A", at_hour(33), 0, None, 0),
    }
    assert_equals_ledger(changes, plant)


# -- late events -----------------------------------------------------------------------------------------------------

# Days 1 and 2 of March loaded and applied (the watermark is 3 March 00:00): OP-1 holds 103.5 L of L-1 and issues
# them at its start on day 2; OP-2, released on day 2, holds another 103.5 L. The next day brings L-2 and OP-3.
FIRST_DAYS = Plant(
    (_order("OP-1", 8, 30, started_h=30), _order("OP-2", 26, 50)),
    (_milk("L-1", 6, 90, "300"),),
    (_issue("C-1", "OP-1", "L-1", 30, "103.5"),),
    _days(2),
)
NEXT_DAY = Plant((_order("OP-3", 52, 70),), (_milk("L-2", 50, 90, "80"),), (), {"baseline": range(2, 3)})
LATE = {
    "consumption": (
        replace(NEXT_DAY, takes=(_issue("C-LATE", "OP-2", "L-1", 40, "50"),)),
        "issue C-LATE at 2025-03-02 16:00:00 (last processed 2025-03-03 00:00:00)",
    ),
    "lot": (
        replace(NEXT_DAY, lots=(*NEXT_DAY.lots, _milk("L-LATE", 20, 90, "40"))),
        "receipt L-LATE at 2025-03-01 20:00:00 (last processed 2025-03-03 00:00:00)",
    ),
    "cancellation": (
        replace(NEXT_DAY, orders=(_order("OP-2", 26, 50, cancelled_h=44), *NEXT_DAY.orders)),
        "cancellation OP-2 at 2025-03-02 20:00:00 (last processed 2025-03-03 00:00:00)",
    ),
}


def _first_days_applied(db: ReservationDb) -> list[Change]:
    truncate(db.conn, *RAW_TABLES, *RESERVATION_TABLES)
    insert_plant(db.conn, FIRST_DAYS)
    db.run_incremental_sql()
    applied = db.model_rows()
    assert {change.change_kind for change in applied} >= {"reserved", "issued", "started"}
    return applied


@pytest.mark.parametrize("late", sorted(LATE))
def test_a_late_event_fails_the_incremental_run(reservation_db: ReservationDb, late: str) -> None:
    """A batch loaded after the run brings an event dated before its horizon: the next incremental run refuses to
    place it silently, names it and asks for a full refresh, and changes nothing; the full refresh places it."""
    db = reservation_db
    applied = _first_days_applied(db)
    batch, named = LATE[late]
    insert_plant(db.conn, batch)
    message = db.failure(db.run_incremental_sql)
    assert named in message
    assert "Run a full refresh: dbt build --full-refresh -s int_reservation_changes_applied" in message
    assert db.model_rows() == applied
    everything = FIRST_DAYS.merged(batch)
    if late == "cancellation":
        everything = replace(everything, orders=(FIRST_DAYS.orders[0], *batch.orders))
    changes = db.run_full_refresh_sql()
    assert_invariants(changes, everything)
    assert_equals_ledger(changes, everything)


def test_an_order_restated_unchanged_is_not_late(reservation_db: ReservationDb) -> None:
    """The next batch restates both orders with the same instants (the loader upserts them, their loaded_at is
    new): their release and start were already applied, the run goes on and gives the full refresh's rows."""
    db = reservation_db
    _first_days_applied(db)
    insert_plant(db.conn, replace(NEXT_DAY, orders=FIRST_DAYS.orders + NEXT_DAY.orders))
    db.run_incremental_sql()
    assert run_comparable(db.model_rows()) == run_comparable(db.run_full_refresh_sql())


def test_a_late_consumption_fails_dbt_run(reservation_db: ReservationDb) -> None:
    """The same through `dbt run`: an order restated unchanged passes, a late consumption fails the run by name."""
    db = reservation_db
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, FIRST_DAYS)
    db.dbt("run", *RUN, "--full-refresh")
    insert_plant(db.conn, replace(NEXT_DAY, orders=FIRST_DAYS.orders + NEXT_DAY.orders))
    db.dbt("run", *RUN)
    applied = db.model_rows()

    late = Plant(takes=(_issue("C-LATE", "OP-2", "L-1", 40, "50"),), calendar={"baseline": range(3, 4)})
    insert_plant(db.conn, late)
    result = db.dbt("run", *RUN, check=False)
    assert result.returncode != 0
    assert "issue C-LATE at 2025-03-02 16:00:00 (last processed 2025-03-04 00:00:00)" in result.stdout, result.stdout
    assert "Run a full refresh" in result.stdout
    assert db.model_rows() == applied
    db.dbt("run", *RUN, "--full-refresh")
    assert_equals_ledger(db.model_rows(), FIRST_DAYS.merged(NEXT_DAY).merged(late))


def test_a_lot_that_gives_more_than_it_holds_fails_the_run(reservation_db: ReservationDb) -> None:
    """L-1 holds 300 L; 103.5 L are issued at 30:00, then 250 L sold at 40:00: the run stops, naming the lot."""
    db = reservation_db
    plant = replace(FIRST_DAYS, takes=(*FIRST_DAYS.takes, _sale("M-OVER", "L-1", 40, "250")))
    truncate(db.conn, *RAW_TABLES)
    insert_plant(db.conn, plant)
    named = "lot L-1 of scenario baseline gives 250 at 2025-03-02 16:00:00 (movement M-OVER) but holds 196.5"
    assert named in db.failure(db.run_full_refresh_sql)
    with pytest.raises(ValueError, match="lot L-1 gives 250"):
        plant.ledgers()
    result = db.dbt("run", *RUN, "--full-refresh", check=False)
    assert result.returncode != 0
    assert named in result.stdout


def test_a_lot_refused_at_reception_and_discarded_changes_nothing(reservation_db: ReservationDb) -> None:
    """A cream lot refused at reception never enters stock, and its discard at reception changes no reservation,
    even when nothing else of the run is cream (no other cream lot, no requirement of it); the milk of OP-1 is
    reserved as usual. In the full refresh and in the incremental run of the day after."""
    plant = Plant(
        (_order("OP-1", 8, 30),),
        (_milk("L-1", 6, 90, "300"),),
        (),
        _days(1),
    )
    refusal = Plant(
        lots=(Lot("baseline", "L-R", "CREAM", at_hour(29), at_hour(200), Decimal(40), "rejected"),),
        takes=(Take("baseline", "M-R", "movement", "L-R", "CREAM", at_hour(29), Decimal(40), movement_type="discard"),),
        calendar={"baseline": range(1, 2)},
    )
    db = reservation_db
    truncate(db.conn, *RAW_TABLES, *RESERVATION_TABLES)
    insert_plant(db.conn, plant)
    db.run_incremental_sql()
    insert_plant(db.conn, refusal)
    db.run_incremental_sql()
    everything = plant.merged(refusal)
    assert_equals_ledger(db.model_rows(), everything)
    assert run_comparable(db.model_rows()) == run_comparable(db.run_full_refresh_sql())
    assert "L-R" not in {change.lot_id for change in db.model_rows()}


# -- the function's installation ---------------------------------------------------------------------------------


def _project_copy(root: Path) -> Path:
    """The dbt project's files (no Python tests, no data), to change one of them."""
    shutil.copytree(
        PROJECT_ROOT,
        root,
        ignore=shutil.ignore_patterns(".*", "__pycache__", "python", "target", "logs", "data", "reports", "*.egg-info"),
    )
    return root


def test_function_is_installed_only_when_its_definition_changes(reservation_db: ReservationDb, tmp_path: Path) -> None:
    """Every dbt invocation runs the install hook; an unchanged function is left alone (same oid, so a run using
    it at the same time is never disturbed), a changed definition is installed."""
    db = reservation_db
    db.dbt("run", "--select", "int_scenario_versions_loaded")
    installed = db.function()
    db.dbt("run", "--select", "int_scenario_versions_loaded")
    assert db.function() == installed

    project = _project_copy(tmp_path / "project")
    macro = project / "macros" / "reservation" / "install_reservation_functions.sql"
    macro.write_text(macro.read_text().replace("#variable_conflict use_column", "#variable_conflict use_column\n-- v2"))
    changed = make_dbt_runner(db.settings, tmp_path / "target", project_dir=project)
    result = changed("run", "--select", "int_scenario_versions_loaded")
    assert f"installing {FUNCTION}" in result.stdout
    oid, comment = db.function()
    assert oid != installed[0] and comment != installed[1]
    with db.conn.cursor() as cursor:
        cursor.execute(f"select pg_get_functiondef('{FUNCTION}'::regproc) like '%-- v2%'")
        assert cursor.fetchone()[0]
    db.conn.commit()

    db.dbt("run", "--select", "int_scenario_versions_loaded")  # the project's own definition again
    assert db.function()[1] == installed[1]


def test_generated_milk_shortage_is_shorter_than_baseline(built_pipeline: BuiltPipeline) -> None:
    """On the simulator's scenarios, the dry season (milk receptions −25 %) leaves more milk short at release."""
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select scenario_id, sum(short_at_release_quantity) from marts.fct_material_shortages"
            " where material_id = 'MILK' group by scenario_id"
        )
        short_milk_l = dict(cursor.fetchall())
    assert short_milk_l.get("milk_shortage", 0) > short_milk_l.get("baseline", 0)
