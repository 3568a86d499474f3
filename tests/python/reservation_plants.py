"""Small random plants for the reservation tests: hypothesis strategies, raw-table loading and batching.

A plant is a few real products (their real bill of materials from the seeds), lots of a few of their
materials with random quantities, times and QC status, and orders with random times and priorities, in
one or two scenarios. Some orders are cancelled: before their release, after it, or at the instant another
order is released; some cancelled orders have a replacement, released when they are cancelled or later (the
planner's reschedule). Times are whole hours over a few days so that ties (same release instant, a cancellation
and a release at the same instant, same expiry, a lot expiring at the planned start or a minute before it,
exact fits) are frequent.
"""

from __future__ import annotations

import bisect
import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from psycopg2.extensions import connection as pg_connection
from psycopg2.extras import execute_values
from reservation_reference import EXACT, Allocation, Lot, Order, RecipeLine

from dataset_contract import BY_NAME, SEEDS_DIR
from queijaria.loading import audit
from queijaria.loading.raw_schema import partition_name

T0 = datetime(2025, 3, 1)
HOURS = 96
SCENARIOS = ("baseline", "milk_shortage")


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


RECIPE_LINES = [
    RecipeLine(row["product_id"], row["material_id"], Decimal(row["quantity_per_kg"]), Decimal(row["scrap_factor"]))
    for row in _read_seed("recipe_lines")
]
PRODUCT_LINES = {row["product_id"]: row["line_id"] for row in _read_seed("products")}
MATERIAL_UNITS = {row["material_id"]: row["unit"] for row in _read_seed("raw_materials")}
PRODUCTS = sorted({line.product_id for line in RECIPE_LINES})


@dataclass(frozen=True)
class Plant:
    orders: list[Order]
    lots: list[Lot]

    def scenario(self, scenario_id: str) -> Plant:
        """The orders and lots of one scenario."""
        return Plant(
            [order for order in self.orders if order.scenario_id == scenario_id],
            [lot for lot in self.lots if lot.scenario_id == scenario_id],
        )

    def without(self, scenario_id: str) -> Plant:
        """The orders and lots of every scenario but one."""
        return Plant(
            [order for order in self.orders if order.scenario_id != scenario_id],
            [lot for lot in self.lots if lot.scenario_id != scenario_id],
        )

    def as_scenario(self, scenario_id: str) -> Plant:
        """The orders and lots of the plant's first scenario, moved to another scenario."""
        scenarios = [item.scenario_id for item in [*self.orders, *self.lots]]
        source = self.scenario(scenarios[0]) if scenarios else self
        return Plant(
            [replace(order, scenario_id=scenario_id) for order in source.orders],
            [replace(lot, scenario_id=scenario_id) for lot in source.lots],
        )

    def batches(self, cuts: list[int]) -> list[Plant]:
        """Split as the loader does: by day ranges of created_at (orders) and received_at (lots). An order shows
        what is known at the end of its batch: a cancellation after it is not there yet, and the batch in which it
        happens restates the order (the loader upserts it)."""
        bounds = [T0 + timedelta(hours=hour) for hour in sorted(cuts)]
        split = [Plant([], []) for _ in range(len(bounds) + 1)]
        for order in self.orders:
            created = bisect.bisect_left(bounds, order.created_at)
            cancelled = created if order.cancelled_at is None else bisect.bisect_left(bounds, order.cancelled_at)
            if cancelled <= created:
                split[created].orders.append(order)
            else:
                split[created].orders.append(replace(order, cancelled_at=None))
                split[cancelled].orders.append(order)
        for lot in self.lots:
            split[bisect.bisect_left(bounds, lot.received_at)].lots.append(lot)
        return split


@st.composite
def plants(draw: st.DrawFn, max_orders: int = 10, max_lots: int = 10) -> Plant:
    scenarios = draw(st.lists(st.sampled_from(SCENARIOS), min_size=1, max_size=2, unique=True))
    products = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=3, unique=True))
    materials = sorted({line.material_id for line in RECIPE_LINES if line.product_id in products})
    stocked = draw(st.lists(st.sampled_from(materials), min_size=1, max_size=2, unique=True))
    # What one kg of the products needs of a material, so that lot sizes compete with requirements.
    per_kg = {
        material: max(
            EXACT.multiply(line.quantity_per_kg, 1 + line.scrap_factor)
            for line in RECIPE_LINES
            if line.material_id == material and line.product_id in products
        )
        for material in stocked
    }
    orders: list[Order] = []
    lots: list[Lot] = []
    for scenario in scenarios:
        scenario_orders: list[Order] = []
        for number in range(draw(st.integers(0, max_orders))):
            created_at = T0 + timedelta(hours=draw(st.integers(0, 72)))
            delay = draw(st.one_of(st.none(), st.integers(0, 12), st.integers(0, 12)))
            released_at = None if delay is None else created_at + timedelta(hours=delay)
            planned_start_at = (released_at or created_at) + timedelta(hours=draw(st.integers(0, 48)))
            scenario_orders.append(
                Order(
                    scenario_id=scenario,
                    order_id=f"OP-{number:03d}",
                    product_id=draw(st.sampled_from(products)),
                    created_at=created_at,
                    released_at=released_at,
                    planned_start_at=planned_start_at,
                    due_date=planned_start_at.date() + timedelta(days=draw(st.integers(0, 2))),
                    priority=draw(st.integers(1, 3)),
                    planned_kg=Decimal(draw(st.integers(0, 20))) + draw(st.sampled_from([Decimal(0), Decimal("0.5")])),
                )
            )
        replacements = draw(cancellations(scenario_orders))
        orders.extend(scenario_orders + replacements)
        for number in range(draw(st.integers(0, max_lots))):
            material = draw(st.sampled_from(stocked))
            received_at = T0 + timedelta(hours=draw(st.integers(0, 72)))
            kg_equivalent = Decimal(draw(st.integers(0, 30))) + draw(st.sampled_from([Decimal(0), Decimal("0.25")]))
            lots.append(
                Lot(
                    scenario_id=scenario,
                    lot_id=f"L-{number:03d}",
                    material_id=material,
                    received_at=received_at,
                    # Whole hours after the reception, or a minute before one: at a planned start or just before.
                    expires_at=received_at
                    + timedelta(hours=draw(st.integers(1, 96)), minutes=draw(st.sampled_from([0, 0, -1]))),
                    quantity=EXACT.multiply(kg_equivalent, per_kg[material]),
                    qc_status=draw(st.sampled_from(["released"] * 4 + ["pending", "rejected"])),
                )
            )
    return Plant(orders, lots)


@st.composite
def cancellations(draw: st.DrawFn, orders: list[Order]) -> list[Order]:
    """Cancel some of the scenario's orders in place (the list is rewritten) and return their replacements."""
    releases = sorted({order.released_at for order in orders if order.released_at is not None})
    replacements: list[Order] = []
    for index, order in enumerate(orders):
        kind = draw(st.sampled_from(["none"] * 4 + ["before", "after", "at another release"]))
        start = order.released_at or order.created_at
        if kind == "before":  # at or before its release (or while not released)
            cancelled_at = max(order.created_at, start - timedelta(hours=draw(st.integers(0, 6))))
        elif kind == "after":
            cancelled_at = start + timedelta(hours=draw(st.integers(1, 30)))
        elif kind == "at another release" and [r for r in releases if r > start]:
            cancelled_at = draw(st.sampled_from([r for r in releases if r > start]))
        else:
            continue
        orders[index] = order = replace(order, cancelled_at=cancelled_at)
        if draw(st.booleans()):
            released_at = cancelled_at + timedelta(hours=draw(st.sampled_from([0, 0, 1, 5])))
            planned_start_at = max(order.planned_start_at, released_at)
            replacements.append(
                replace(
                    order,
                    order_id=f"{order.order_id}-R",
                    created_at=cancelled_at,
                    released_at=released_at,
                    planned_start_at=planned_start_at,
                    due_date=max(order.due_date, planned_start_at.date()),
                    cancelled_at=None,
                    replaces_order_id=order.order_id,
                )
            )
    return replacements


def batch_cuts(max_batches: int = 5) -> st.SearchStrategy[list[int]]:
    """k - 1 cut hours, k = 1..max_batches: batch j holds the events in (cut j-1, cut j]."""
    return st.integers(1, max_batches).flatmap(
        lambda k: st.lists(st.integers(0, HOURS), min_size=k - 1, max_size=k - 1, unique=True)
    )


def ensure_partitions(conn: pg_connection, scenarios: Iterable[str] = SCENARIOS) -> None:
    """The raw tables are partitioned by scenario; the loader creates partitions, the tests do it here."""
    with conn.cursor() as cursor:
        for dataset in (BY_NAME["production_orders"], BY_NAME["stock_lots"]):
            for scenario_id in scenarios:
                cursor.execute(
                    f"create table if not exists raw.{partition_name(dataset, scenario_id)}"
                    f" partition of {dataset.table} for values in ('{scenario_id}')"
                )
    conn.commit()


def _status(order: Order) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    return "planned" if order.released_at is None else "released"


def insert_plant(conn: pg_connection, plant: Plant) -> None:
    with conn.cursor() as cursor:
        if plant.orders:
            execute_values(
                cursor,
                "insert into raw.production_orders (scenario_id, order_id, product_id, line_id, created_at,"
                " released_at, planned_start_at, planned_end_at, due_date, priority, planned_kg, status, cancelled_at,"
                " replaces_order_id) values %s"
                # A later batch restates an order (its cancellation), as the loader's upsert does.
                " on conflict (scenario_id, order_id) do update set status = excluded.status,"
                " cancelled_at = excluded.cancelled_at",
                [
                    (
                        o.scenario_id,
                        o.order_id,
                        o.product_id,
                        PRODUCT_LINES[o.product_id],
                        o.created_at,
                        o.released_at,
                        o.planned_start_at,
                        o.planned_start_at + timedelta(hours=4),
                        o.due_date,
                        o.priority,
                        o.planned_kg,
                        _status(o),
                        o.cancelled_at,
                        o.replaces_order_id,
                    )
                    for o in plant.orders
                ],
            )
        if plant.lots:
            execute_values(
                cursor,
                "insert into raw.stock_lots (scenario_id, lot_id, material_id, supplier_name, received_at,"
                " expires_at, quantity, unit, qc_status, unit_cost_brl) values %s",
                [
                    (
                        lot.scenario_id,
                        lot.lot_id,
                        lot.material_id,
                        "Fazenda de teste",
                        lot.received_at,
                        lot.expires_at,
                        lot.quantity,
                        MATERIAL_UNITS[lot.material_id],
                        lot.qc_status,
                        Decimal(1),
                    )
                    for lot in plant.lots
                ],
            )
    conn.commit()


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
    """Empty a scenario's raw orders and lots (its partitions), as the loader's replace does before the new data."""
    with conn.cursor() as cursor:
        for dataset in (BY_NAME["production_orders"], BY_NAME["stock_lots"]):
            cursor.execute(f"truncate raw.{partition_name(dataset, scenario_id)}")
    conn.commit()


def truncate(conn: pg_connection, *tables: str) -> None:
    with conn.cursor() as cursor:
        cursor.execute(f"truncate {', '.join(tables)}")
    conn.commit()


Row = tuple[str, str, str, str, Decimal, Decimal, Decimal, datetime | None]


def as_rows(allocations: Iterable[Allocation | tuple]) -> list[Row]:
    """Comparable rows: (scenario, order, material, lot or '', reserved, short, returned, returned_at), sorted."""
    rows = []
    for item in allocations:
        values = (
            (
                item.scenario_id,
                item.order_id,
                item.material_id,
                item.lot_id,
                item.reserved_quantity,
                item.short_quantity,
                item.returned_quantity,
                item.returned_at,
            )
            if isinstance(item, Allocation)
            else tuple(item)
        )
        scenario_id, order_id, material_id, lot_id, reserved, short, returned, returned_at = values
        rows.append(
            (
                scenario_id,
                order_id,
                material_id,
                lot_id or "",
                Decimal(reserved),
                Decimal(short),
                Decimal(returned),
                returned_at,
            )
        )
    return sorted(rows, key=lambda row: (*row[:7], row[7] or datetime.min))
