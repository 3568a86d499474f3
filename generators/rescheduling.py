"""The planner's reaction to what the shop floor tells it: orders that cannot run as planned are cancelled at the
moment the planner learns it and replaced by a new order planned at the end of the line's plan (DOMAIN.md §3).

Two triggers: a long stop of a line (the breakdown) over the orders' planned windows, and a line so far behind
that an order would start after every litre of milk it could reserve at its release has expired.
"""

from __future__ import annotations

from generators import parameters
from generators.execution import Executor, LineState
from generators.orders import Order, Planner
from generators.reference import Reference


class Rescheduler:
    def __init__(self, reference: Reference, planner: Planner, executor: Executor, lines: dict[str, LineState]) -> None:
        self.reference = reference
        self.planner = planner
        self.executor = executor
        self.lines = lines
        self.created: list[Order] = []
        executor.on_cancel = self._replace_cancelled

    def _replace_cancelled(self, order: Order, minute: int) -> None:
        replacement = self.planner.replace(order, minute)
        if replacement is not None:
            self.lines[order.line_id].queue.append(replacement)
            self.created.append(replacement)

    def _cancel(self, line: LineState, orders: list[Order], minute: int) -> None:
        if not orders:
            return
        withdrawn = {order.order_id for order in orders}
        line.queue = [order for order in line.queue if order.order_id not in withdrawn]
        self.executor.forget_candidate(line.line_id)
        for order in orders:
            self._replace_cancelled(order, minute)

    def line_down(self, line_id: str, start: int, end: int) -> None:
        """At `start` the line stops until `end`: replan the waiting orders whose window the stop overlaps."""
        if end - start < parameters.RESCHEDULE_MIN_DOWNTIME_H * 60:
            return
        self.planner.block_line(line_id, end)
        line = self.lines[line_id]
        hit = [order for order in line.queue if order.planned_start < end and order.planned_end > start]
        self._cancel(line, hit, start)

    def milk_check(self, minute: int) -> None:
        """At the MRP run: replan the milk orders that, at the line's pace, would start after their milk expires."""
        life = parameters.MILK_LIFE_H * 60
        for line_id in self.reference.lines:
            line = self.lines[line_id]
            windows = self.executor.windows[line_id]
            cursor = max(line.free_at, minute)
            late: list[Order] = []
            for order in line.queue:
                # Like the shop floor: a run starts in a window and runs on at the usual pace, through a CIP if
                # need be (the projection must not see the line later than it will be, or it replans for nothing).
                start = windows.next_open(max(cursor, order.planned_start))
                end = start + round((order.planned_end - order.planned_start) / parameters.PERFORMANCE_MEAN)
                is_milk = self.reference.products[order.product_id].input_material_id == "MILK"
                if is_milk and start > order.release_at + life:
                    # Its replacement goes to the end of the plan: it no longer takes this place in the queue.
                    late.append(order)
                else:
                    cursor = end
            self._cancel(line, late, minute)
