"""The planner's reaction to what the shop floor tells it: orders that cannot run as planned are cancelled at the
moment the planner learns it and replaced by a new order planned at the end of the line's plan (DOMAIN.md §3).

Two triggers: a long stop of a line (the breakdown) over the orders' planned windows, and a line so far behind
that an order would start after every litre of milk it could reserve at its release has expired.

And rejected batches: when the lab's rejections leave an order short of its plan, the next MRP run orders the
missing kilos again (a make-up order, `<order>-M<n>`), so the demand does not go short.
"""

from __future__ import annotations

import math

from generators import parameters
from generators.execution import Executor, LineState
from generators.orders import Order, Planner, Rejection, is_make_up
from generators.reference import Reference


class Rescheduler:
    def __init__(self, reference: Reference, planner: Planner, executor: Executor, lines: dict[str, LineState]) -> None:
        self.reference = reference
        self.planner = planner
        self.executor = executor
        self.erp = executor.erp
        self.lines = lines
        self.created: list[Order] = []
        executor.on_cancel = self._replace_cancelled
        # Make-up orders to place when their rejection is detected: (detected_at, make-up id, order, kilos).
        self.detections: list[tuple[int, str, Order, float]] = []

    def rejected(self, order: Order, rejections: list[Rejection], since: int) -> None:
        """The lab's verdict on a finished order; the planner learns each rejection when it is detected (from
        `since` on: earlier ones were handled by an earlier batch). What the n-th rejection leaves short of the plan
        and the earlier ones did not is made up by `<order>-M<n>`."""
        if is_make_up(order.order_id) or order.produced_kg is None:
            return
        rejected_kg, made_up = 0.0, 0.0
        ordered = sorted(rejections, key=lambda r: (r.detected_at, r.cause_id))
        for number, rejection in enumerate(ordered, start=1):
            rejected_kg += rejection.rejected_kg
            good = order.produced_kg - rejected_kg
            if good >= parameters.MAKE_UP_BELOW_SHARE * order.planned_kg:
                continue
            step = parameters.MAKE_UP_ROUND_KG
            needed = math.ceil((order.planned_kg - good) / step) * step
            if needed > made_up and rejection.detected_at >= since:
                self.detections.append((rejection.detected_at, f"{order.order_id}-M{number}", order, needed - made_up))
            made_up = max(made_up, needed)
        self.detections.sort(key=lambda item: (item[0], item[1]))

    def make_up(self, minute: int) -> None:
        """At the MRP run: order again what the rejections detected since the last run left short."""
        while self.detections and self.detections[0][0] <= minute:
            _, order_id, order, kg = self.detections.pop(0)
            product = self.reference.products[order.product_id]
            if kg < parameters.MAKE_UP_MIN_H * product.ideal_rate_kg_per_h:
                backlog = self.planner.demand_backlog_kg
                backlog[order.product_id] = backlog.get(order.product_id, 0.0) + kg
                continue
            make_up = self.planner.make_up(order, kg, minute, order_id)
            self.lines[order.line_id].queue.append(make_up)
            self.created.append(make_up)
            self.erp.schedule_release(make_up)

    def _replace_cancelled(self, order: Order, minute: int) -> None:
        replacement = self.planner.replace(order, minute)
        # The ERP gives the cancelled order's reservations back at that instant.
        self.erp.schedule_cancellation(order, minute)
        if replacement is not None:
            self.lines[order.line_id].queue.append(replacement)
            self.created.append(replacement)
            self.erp.schedule_release(replacement)

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
                # Like the shop floor: a run starts in a window and runs on at the standard pace it was planned at,
                # through a CIP if need be (the projection must not see the line later than it will be, or it
                # replans for nothing).
                start = windows.next_open(max(cursor, order.planned_start))
                end = start + (order.planned_end - order.planned_start)
                is_milk = self.reference.products[order.product_id].input_material_id == "MILK"
                if is_milk and start > order.release_at + life:
                    # Its replacement goes to the end of the plan: it no longer takes this place in the queue.
                    late.append(order)
                else:
                    cursor = end
            self._cancel(line, late, minute)
