"""Production orders: demand turned into vat-sized orders by a daily MRP run, placed on the line's windows.

Orders come from DEMAND, not from the milk on hand: when milk is short the plan does not shrink, the reservation
model finds shortages and actual production falls short of the plan.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from generators import parameters
from generators.calendar import ProductionWindows, weekly_window_hours
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.reference import Reference


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
        hours = weekly_window_hours(reference, product.line_id) / 7.0 * parameters.TARGET_LINE_LOAD * share
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
    ) -> None:
        self.seed = seed
        self.reference = reference
        self.windows = windows
        self.scale = scale
        self.line_pointers = line_pointers
        self.demand_backlog_kg = demand_backlog_kg
        self.base_demand = daily_demand_kg(reference)

    def run(self, day: int, demand_factor: float) -> list[Order]:
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
            backlog = self.demand_backlog_kg.get(product_id, 0.0) + base * demand_factor * noise
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
        new_orders.sort()
        orders = []
        sequence: dict[str, int] = {}
        stamp = date_of_day(day).strftime("%Y%m%d")
        for due, priority, product_id, kg in new_orders:
            product = self.reference.products[product_id]
            line_id = product.line_id
            duration = math.ceil(kg / product.ideal_rate_kg_per_h * 60)
            start_from = max(self.line_pointers.get(line_id, 0), earliest_start)
            start, end = self.windows[line_id].place(start_from, duration)
            if end - start < duration:
                # Never bigger than a window: the line's planners split such a batch, here it is trimmed.
                kg = round((end - start) / 60 * product.ideal_rate_kg_per_h, 0)
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
                    planned_kg=float(kg),
                )
            )
        return orders


def weighted_average(values: list[tuple[float, float]]) -> float | None:
    total = sum(weight for _, weight in values)
    if total <= 0:
        return None
    return float(np.dot([value for value, _ in values], [weight for _, weight in values]) / total)
