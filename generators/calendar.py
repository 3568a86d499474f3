"""The capacity calendar: planned shifts per line and day, and the production windows orders are placed in.

A shift's planned CIP (cleaning) sits at its end, so a production window runs from the shift start for
planned_min - planned_cip_min minutes. Holidays close the plant; Sundays are closed by the shift patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.clock import MINUTES_PER_DAY, date_of_day, day_number
from generators.reference import Reference, ShiftPattern

# Shifts added on the extra-shift days of a demand peak (the morning stays with preventive maintenance).
EXTRA_SHIFTS = ("T2", "T3")


@dataclass(frozen=True)
class CapacityRow:
    line_id: str
    day: int
    shift_id: str
    planned_min: int
    planned_downtime_min: int


def day_shifts(
    reference: Reference, line_id: str, day: int, extra_days: dict[str, frozenset[int]]
) -> list[ShiftPattern]:
    """The shifts a line works on a day; on an extra-shift day (a Sunday of a demand peak) the afternoon and
    night shifts run as on a Saturday, after the morning's preventive work."""
    weekday = date_of_day(day).isoweekday()
    shifts = list(reference.shift_patterns[(line_id, weekday)])
    if day not in extra_days.get(line_id, ()):
        return shifts
    extra = {
        shift.shift_id: shift for shift in reference.shift_patterns[(line_id, 6)] if shift.shift_id in EXTRA_SHIFTS
    }
    return [extra.get(shift.shift_id, shift) for shift in shifts]


def capacity_rows(
    reference: Reference, first_day: int, last_day: int, extra_days: dict[str, frozenset[int]] | None = None
) -> list[CapacityRow]:
    extra_days = extra_days or {}
    rows = []
    for day in range(first_day, last_day + 1):
        calendar_date = date_of_day(day)
        closed = calendar_date in reference.holidays
        for line_id in reference.lines:
            for shift in day_shifts(reference, line_id, day, extra_days):
                planned = 0 if closed else shift.planned_min
                downtime = 0 if closed else min(shift.planned_cip_min, planned)
                rows.append(CapacityRow(line_id, day, shift.shift_id, planned, downtime))
    return rows


class ProductionWindows:
    """The [start, end) minutes of every production window of one line, sorted, for placing and starting orders."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self.starts = starts
        self.ends = ends

    def place(self, earliest: int, duration: int) -> tuple[int, int]:
        """First start >= earliest where the whole duration fits inside one window (capped at the longest window)."""
        index = int(np.searchsorted(self.ends, earliest, side="right"))
        while index < len(self.starts):
            start = max(earliest, int(self.starts[index]))
            fits = min(duration, int(self.ends[index] - self.starts[index]))
            if start + fits <= self.ends[index]:
                return start, start + fits
            index += 1
        raise ValueError("no production window left in the planning horizon; extend it")

    def gap_at(self, minute: int) -> int:
        """Minutes left in the window that holds `minute` or, if it is closed, in the next window."""
        index = int(np.searchsorted(self.ends, minute, side="right"))
        if index >= len(self.starts):
            return 0
        return int(self.ends[index] - max(minute, int(self.starts[index])))

    def add(self, start: int, end: int) -> None:
        """Open one more window (an overtime shift); it must not overlap the existing ones."""
        index = int(np.searchsorted(self.starts, start))
        self.starts = np.insert(self.starts, index, start)
        self.ends = np.insert(self.ends, index, end)

    def open_minutes(self, start: int, end: int) -> int:
        """Window minutes between `start` and `end`."""
        overlap = np.minimum(self.ends, end) - np.maximum(self.starts, start)
        return int(overlap[overlap > 0].sum())

    def next_open(self, minute: int) -> int:
        """The minute itself if it is inside a window, else the start of the next window."""
        index = int(np.searchsorted(self.ends, minute, side="right"))
        if index >= len(self.starts):
            raise ValueError("no production window left in the planning horizon; extend it")
        return max(minute, int(self.starts[index]))


def day_windows(
    reference: Reference, line_id: str, day: int, extra_days: dict[str, frozenset[int]]
) -> list[tuple[int, int]]:
    """The [start, end) production windows of a line on a day: each shift up to its CIP; none on a holiday."""
    if date_of_day(day) in reference.holidays:
        return []
    windows = []
    for shift in day_shifts(reference, line_id, day, extra_days):
        productive = shift.planned_min - shift.planned_cip_min
        if productive > 0:
            start = day * MINUTES_PER_DAY + shift.start_minute_of_day
            windows.append((start, start + productive))
    return windows


def production_windows(
    reference: Reference, first_day: int, last_day: int, extra_days: dict[str, frozenset[int]] | None = None
) -> dict[str, ProductionWindows]:
    extra_days = extra_days or {}
    windows: dict[str, ProductionWindows] = {}
    for line_id in reference.lines:
        spans = [
            span for day in range(first_day, last_day + 1) for span in day_windows(reference, line_id, day, extra_days)
        ]
        starts = np.array([start for start, _ in spans], dtype=np.int64)
        ends = np.array([end for _, end in spans], dtype=np.int64)
        windows[line_id] = ProductionWindows(starts, ends)
    return windows


def weekly_window_hours(reference: Reference, line_id: str) -> float:
    """Production-window hours of a line in an ordinary week (no holidays): the base of demand sizing."""
    minutes = 0
    for weekday in range(1, 8):
        for shift in reference.shift_patterns[(line_id, weekday)]:
            minutes += max(shift.planned_min - shift.planned_cip_min, 0)
    return minutes / 60.0


__all__ = ["CapacityRow", "ProductionWindows", "capacity_rows", "day_number", "day_windows", "production_windows"]
