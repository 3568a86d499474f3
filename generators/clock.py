"""Simulated time: whole minutes since 1970-01-01 00:00 (naive plant local time), and their text forms."""

from __future__ import annotations

import datetime as dt

import numpy as np

MINUTES_PER_DAY = 1440
EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def date_of_day(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(number))


def minute_of(day: dt.date, hour: float = 0.0) -> int:
    return day_number(day) * MINUTES_PER_DAY + round(hour * 60)


def day_of_minute(minute: int) -> int:
    return minute // MINUTES_PER_DAY


def _text_matrix(text: np.ndarray, width: int) -> np.ndarray:
    return np.ascontiguousarray(text.astype(f"S{width}")).view(np.uint8).reshape(-1, width)


_CLOCK_TEXT = _text_matrix(
    np.array([f" {minute // 60:02d}:{minute % 60:02d}:00" for minute in range(MINUTES_PER_DAY)]), 9
)


def timestamp_bytes(minutes: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD HH:MM:SS` of each minute as an (n, 19) uint8 matrix, for byte-level CSV assembly.

    Dates and clock times are formatted once each (a few hundred days, 1440 minutes) and then gathered.
    """
    minutes = np.asarray(minutes, dtype=np.int64)
    days = minutes // MINUTES_PER_DAY
    if len(days) == 0:
        return np.empty((0, 19), dtype=np.uint8)
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1, dtype=np.int64)
    date_text = _text_matrix(np.datetime_as_string(span.astype("datetime64[D]"), unit="D"), 10)
    matrix = np.empty((len(minutes), 19), dtype=np.uint8)
    np.take(date_text, days - first, axis=0, out=matrix[:, :10])
    np.take(_CLOCK_TEXT, minutes % MINUTES_PER_DAY, axis=0, out=matrix[:, 10:])
    return matrix


def timestamp_strings(minutes: np.ndarray) -> list[str]:
    if len(minutes) == 0:
        return []
    return timestamp_bytes(minutes).view("S19").ravel().astype(str).tolist()


def date_strings(day_numbers: np.ndarray) -> list[str]:
    if len(day_numbers) == 0:
        return []
    return np.datetime_as_string(np.asarray(day_numbers, dtype="int64").astype("datetime64[D]"), unit="D").tolist()
