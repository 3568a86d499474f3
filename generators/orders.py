"""Production orders: demand turned into vat-sized orders by a daily MRP run, placed on the line's windows.

Orders come from DEMAND, not from the milk on hand: when milk is short the plan does not shrink, the reservation
model finds shortages and actual production falls short of the plan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from generators import parameters
from generators.calendar import ProductionWindows, day_windows, weekly_window_hours
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.reference import Product, Reference
from generators.stock import milk_season


@dataclass
class Rejection:
    detected_at: int
    rejected_kg: float
    cause_id: str


@dataclass
class Order:
    order_id: str
    product_id: str
    line_id: str
    created_at: int
    release_at: int
    planned_start: int
    planned_end: int
    due_day: int
    priority: int
    planned_kg: float
    # What really happened (filled by execution); the CSV shows only what is known at a batch's end.
    actual_start: int | None = None
    actual_end: int | None = None
    cancelled_at: int | None = None
    # The cancelled order this one was released to replace (the planner's reschedule).
    replaces_order_id: str | None = None
    produced_kg: float | None = None
    rejections: list[Rejection] = field(default_factory=list)
    # The planner's wait for material (execution.Executor._ready): since when the order, ready to start, found its
    # requirements open, and until when the line waits for the next scheduled receipt.
    short_since: int | None = None
    wait_until: int | None = None

    def view(self, horizon: int) -> dict[str, object]:
        """The row as the ERP shows it at `horizon` (the first minute after the batch)."""
        released = self.release_at < horizon
        started = self.actual_start is not None and self.actual_start < horizon
        finished = self.actual_end is not None and self.actual_end < horizon
        if self.cancelled_at is not None and self.cancelled_at < horizon:
            status = "cancelled"
        elif finished:
            status = "completed"
        elif started:
            status = "in_progress"
        elif released:
            status = "released"
        else:
            status = "planned"
        good = None
        if finished and self.produced_kg is not None:
            rejected = sum(item.rejected_kg for item in self.rejections if item.detected_at < horizon)
            good = round(max(self.produced_kg - rejected, 0.0), 2)
        return {
            "status": status,
            "released_at": self.release_at if released else None,
            "actual_start_at": self.actual_start if started else None,
            "actual_end_at": self.actual_end if finished else None,
            "produced_kg": self.produced_kg if finished else None,
            "good_kg": good,
            "cancelled_at": self.cancelled_at if status == "cancelled" else None,
        }

    def is_settled(self, horizon: int) -> bool:
        """Nothing about the order can change after `horizon`: it never needs restating again."""
        if self.cancelled_at is not None and self.cancelled_at < horizon:
            return True
        if self.actual_end is None or self.actual_end >= horizon:
            return False
        return all(item.detected_at < horizon for item in self.rejections)

    def to_state(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, object]) -> Order:
        values = dict(data)
        values["rejections"] = [Rejection(**item) for item in values["rejections"]]  # type: ignore[union-attr]
        return cls(**values)  # type: ignore[arg-type]


def daily_demand_kg(reference: Reference) -> dict[str, float]:
    """Average demand per calendar day and product, sized from each line's weekly window hours."""
    demand = {}
    for product in reference.products.values():
        share = parameters.PRODUCT_HOUR_SHARE.get(product.product_id, 0.0)
        hours = (
            weekly_window_hours(reference, product.line_id) / 7.0 * parameters.TARGET_LINE_LOAD[product.line_id] * share
        )
        demand[product.product_id] = hours * product.ideal_rate_kg_per_h
    return demand


class Planner:
    """The daily MRP run: accumulate demand, cut it into orders, schedule them forward on each line."""

    def __init__(
        self,
        seed: int,
        reference: Reference,
        windows: dict[str, ProductionWindows],
        scale: float,
        line_pointers: dict[str, int],
        demand_backlog_kg: dict[str, float],
        overtime_days: dict[str, set[int]],
    ) -> None:
        self.seed = seed
        self.reference = reference
        self.windows = windows
        self.scale = scale
        self.line_pointers = line_pointers
        self.demand_backlog_kg = demand_backlog_kg
        # Sundays each line works overtime (afternoon and night shifts), planned by add_overtime.
        self.overtime_days = overtime_days
        self.base_demand = daily_demand_kg(reference)
        self.daily_window_min = {
            line_id: weekly_window_hours(reference, line_id) * 60 / 6 for line_id in reference.lines
        }

    def production_factor(self, product_id: str, day: int, demand_factor: Callable[[int], float]) -> float:
        """The demand factor that today's production of the product serves.

        A ripened cheese is made its ripening time before it is sold, so today's vats serve the demand of
        `ripening_days` later; a cheese that keeps builds stock ahead, spreading a peak over the weeks before it,
        and is made to the milk curve (more in the flush, less in the dry trough).
        """
        product = self.reference.products[product_id]
        sold_on = day + product.ripening_days
        if not can_build_ahead(self.reference, product_id):
            return demand_factor(sold_on)
        days = parameters.BUILD_AHEAD_DAYS
        ahead = sum(demand_factor(sold_on + offset) for offset in range(days)) / days
        share = parameters.BUILD_AHEAD_SHARE
        milk_led = 1 + parameters.MILK_LED_PLAN_SHARE * (milk_season(day)[0] - 1)
        return ((1 - share) * demand_factor(sold_on) + share * ahead) * milk_led

    def run(self, day: int, demand_factor: Callable[[int], float]) -> list[Order]:
        created_at = day * MINUTES_PER_DAY + parameters.MRP_HOUR * 60
        earliest_start = created_at + parameters.EARLIEST_START_AFTER_CREATION_H * 60
        earliest_day = earliest_start // MINUTES_PER_DAY
        new_orders: list[tuple[int, int, str, float]] = []  # (due day, priority, product, kg)
        for product_id in sorted(self.reference.products):
            base = self.base_demand[product_id]
            if base <= 0:
                continue
            product = self.reference.products[product_id]
            rng = stream(self.seed, "demand", product_id, day)
            noise = rng.lognormal(-0.5 * parameters.DEMAND_NOISE_SIGMA**2, parameters.DEMAND_NOISE_SIGMA)
            factor = self.production_factor(product_id, day, demand_factor)
            backlog = self.demand_backlog_kg.get(product_id, 0.0) + base * factor * noise
            # Enough draws for the largest day; unused ones are simply ignored, keeping the stream aligned.
            sizes = rng.uniform(*parameters.ORDER_HOURS_RANGE, size=64) * product.ideal_rate_kg_per_h / self.scale
            priorities = np.searchsorted(np.cumsum(parameters.PRIORITY_PROBABILITIES), rng.random(64), side="right") + 1
            priorities = np.minimum(priorities, 5)
            index = 0
            while index < len(sizes):
                kg = max(round(float(sizes[index]) / 5.0) * 5.0, 5.0)
                if backlog < kg:
                    break
                priority = int(priorities[index])
                due = earliest_day + parameters.PRIORITY_DUE_DAYS[priority - 1]
                new_orders.append((due, priority, product_id, kg))
                backlog -= kg
                index += 1
            self.demand_backlog_kg[product_id] = backlog
        # Campaigns: a line makes the day's orders of one product together, by due date, then the next product, so
        # it changes over once a day, not between every two vats. The products go in the opposite order every other
        # day, so that a day starts with the product the day before ended on.
        campaign = sorted(self.reference.products, reverse=day % 2 == 1)
        new_orders.sort(key=lambda new: (campaign.index(new[2]), new))
        orders = []
        sequence: dict[str, int] = {}
        stamp = date_of_day(day).strftime("%Y%m%d")
        for due, priority, product_id, kg in new_orders:
            product = self.reference.products[product_id]
            line_id = product.line_id
            pace = standard_pace_kg_per_h(product)
            duration = math.ceil(kg / pace * 60)
            start_from = max(self.line_pointers.get(line_id, 0), earliest_start)
            gap = self.windows[line_id].gap_at(start_from)
            if parameters.MIN_GAP_FILL_H * 60 <= gap < duration:
                # The vat batch is cut to the time left before the shift's CIP; the rest of the demand waits for
                # tomorrow's run, rather than leaving the end of every shift empty.
                fitted = math.floor(gap / 60 * pace / 5.0) * 5.0
                if fitted >= 5.0:
                    self.demand_backlog_kg[product_id] = self.demand_backlog_kg.get(product_id, 0.0) + kg - fitted
                    kg = fitted
                    duration = math.ceil(kg / pace * 60)
            start, end = self.windows[line_id].place(start_from, duration)
            if end - start < duration:
                # Never bigger than a window: the line's planners split such a batch, here it is trimmed.
                kg = round((end - start) / 60 * pace, 0)
            self.line_pointers[line_id] = end
            sequence[line_id] = sequence.get(line_id, 0) + 1
            order_id = f"PO-{line_id}-{stamp}{parameters.MRP_HOUR:02d}-{sequence[line_id]:02d}"
            order_created_at = created_at + sequence[line_id] - 1
            release_rng = stream(self.seed, "release", order_id)
            lead_h = float(release_rng.uniform(*parameters.RELEASE_LEAD_H_RANGE))
            release_at = max(start - round(lead_h * 60), order_created_at + 1)
            orders.append(
                Order(
                    order_id=order_id,
                    product_id=product_id,
                    line_id=line_id,
                    created_at=order_created_at,
                    release_at=release_at,
                    planned_start=start,
                    planned_end=end,
                    due_day=due,
                    priority=priority,
                    planned_kg=round(float(kg), 2),
                )
            )
        return orders

    def add_overtime(self, day: int, extra_days: dict[str, frozenset[int]]) -> list[str]:
        """Open a Sunday's afternoon and night shifts on each line whose plan runs too far ahead; the lines it did.

        The queue is measured in window time from the earliest start of today's new orders to the end of the plan;
        the Sunday is the first after the plan's end, so the new orders fill it.
        """
        earliest_start = (
            day * MINUTES_PER_DAY + parameters.MRP_HOUR * 60 + parameters.EARLIEST_START_AFTER_CREATION_H * 60
        )
        extended = []
        for line_id in sorted(self.line_pointers):
            pointer = self.line_pointers[line_id]
            queued = self.windows[line_id].open_minutes(earliest_start, pointer)
            if queued <= parameters.OVERTIME_BACKLOG_DAYS * self.daily_window_min[line_id]:
                continue
            sunday = pointer // MINUTES_PER_DAY
            sunday += (7 - date_of_day(sunday).isoweekday()) % 7
            worked = self.overtime_days.setdefault(line_id, set())
            while sunday in worked or sunday in extra_days.get(line_id, ()):
                sunday += 7
            spans = day_windows(self.reference, line_id, sunday, {line_id: frozenset({sunday})})
            if not spans:
                continue  # a holiday Sunday stays closed
            worked.add(sunday)
            for start, end in spans:
                self.windows[line_id].add(start, end)
            extended.append(line_id)
        return extended

    def block_line(self, line_id: str, until: int) -> None:
        """The line is down until `until`: nothing new is planned on it before then."""
        self.line_pointers[line_id] = max(self.line_pointers.get(line_id, 0), until)

    def replace(self, order: Order, at_minute: int) -> Order | None:
        """Cancel `order` at `at_minute` and plan its replacement at the end of the line's plan.

        The replacement keeps product, kilos, priority and due date, gets a new window and a later release, so it
        reserves stock again. A chain of replacements stops after MAX_REPLACEMENTS: the last one simply runs late.
        """
        order.cancelled_at = at_minute
        if replacement_depth(order.order_id) >= parameters.MAX_REPLACEMENTS:
            return None
        earliest = at_minute + parameters.REPLAN_EARLIEST_START_H * 60
        return self._plan_again(
            order,
            replacement_id(order.order_id),
            order.planned_kg,
            order.planned_end - order.planned_start,
            at_minute,
            earliest,
            due_day=order.due_day,
            priority=order.priority,
            replaces_order_id=order.order_id,
        )

    def make_up(self, order: Order, kg: float, at_minute: int, order_id: str) -> Order:
        """Order again the kilos the lab rejected from `order`, planned at the end of the line's plan.

        The make-up order (`order_id`, `<order>-M<n>`) keeps the product and the due date when it can still be met,
        runs at priority 1, and is released and reserved like any new order.
        """
        product = self.reference.products[order.product_id]
        pace = standard_pace_kg_per_h(product)
        earliest = at_minute + parameters.EARLIEST_START_AFTER_CREATION_H * 60
        earliest_due = earliest // MINUTES_PER_DAY + parameters.PRIORITY_DUE_DAYS[0]
        return self._plan_again(
            order,
            order_id,
            kg,
            math.ceil(kg / pace * 60),
            at_minute,
            earliest,
            due_day=max(order.due_day, earliest_due),
            priority=1,
            replaces_order_id=None,
        )

    def _plan_again(
        self,
        order: Order,
        order_id: str,
        kg: float,
        duration: int,
        at_minute: int,
        earliest: int,
        *,
        due_day: int,
        priority: int,
        replaces_order_id: str | None,
    ) -> Order:
        """A new order for `order`'s product, created at `at_minute` and placed at the end of its line's plan."""
        start, end = self.windows[order.line_id].place(
            max(self.line_pointers.get(order.line_id, 0), earliest), duration
        )
        self.line_pointers[order.line_id] = end
        lead_h = float(stream(self.seed, "release", order_id).uniform(*parameters.RELEASE_LEAD_H_RANGE))
        return Order(
            order_id=order_id,
            product_id=order.product_id,
            line_id=order.line_id,
            created_at=at_minute,
            release_at=max(start - round(lead_h * 60), at_minute + 1),
            planned_start=start,
            planned_end=end,
            due_day=due_day,
            priority=priority,
            planned_kg=round(kg, 2),
            replaces_order_id=replaces_order_id,
        )


def standard_pace_kg_per_h(product: Product) -> float:
    """Kilos an hour orders are planned at: the expected performance, less the vat's fill allowance, not the ideal
    rate, so that a plan holds the time its batches will take and does not run ahead of what the line can do."""
    return product.ideal_rate_kg_per_h * parameters.PERFORMANCE_MEAN / (1 + parameters.BATCH_FILL_ALLOWANCE)


def is_make_up(order_id: str) -> bool:
    """PO-…-07-01-M1 (and its replacements, PO-…-07-01-M1-R1) make up what the lab rejected from PO-…-07-01."""
    return re.search(r"-M\d+(-R\d+)?$", order_id) is not None


def can_build_ahead(reference: Reference, product_id: str) -> bool:
    product = reference.products[product_id]
    return product.shelf_life_days - product.ripening_days >= parameters.BUILD_AHEAD_MIN_SHELF_DAYS


def fresh_lines(reference: Reference) -> list[str]:
    """Lines making a cheese that does not keep long enough to be built ahead of a peak."""
    return sorted({p.line_id for p in reference.products.values() if not can_build_ahead(reference, p.product_id)})


def replacement_id(order_id: str) -> str:
    """PO-…-07-01 is replaced by PO-…-07-01-R1, that one by PO-…-07-01-R2: unique and traceable to the first."""
    root, _, suffix = order_id.rpartition("-R")
    if root and suffix.isdigit():
        return f"{root}-R{int(suffix) + 1}"
    return f"{order_id}-R1"


def replacement_depth(order_id: str) -> int:
    root, _, suffix = order_id.rpartition("-R")
    return int(suffix) if root and suffix.isdigit() else 0


def weighted_average(values: list[tuple[float, float]]) -> float | None:
    total = sum(weight for _, weight in values)
    if total <= 0:
        return None
    return float(np.dot([value for value, _ in values], [weight for _, weight in values]) / total)
