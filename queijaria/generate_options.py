"""The bounds of `queijaria generate`'s options, shared by the command line and by a continuation's state.json.

Each *_problem function says what is wrong with a value, None when nothing is: the same words whether the value
comes from the command line or from the state.json of a continuation (a file anyone can edit, once trusted).
"""

from __future__ import annotations

import datetime as dt
import math

# The calendar a batch must lie in. The simulation keys its random streams by days since 1970 (never negative) and
# plans 240 days past a batch; these bounds keep every date far from those limits and from PostgreSQL's.
FIRST_SUPPORTED_DATE = dt.date(1990, 1, 1)
LAST_SUPPORTED_DATE = dt.date(2200, 12, 31)
SCALE_RANGE = (0.25, 50.0)
IOT_INTERVAL_RANGE = (1, 60)


def seed_problem(seed: int) -> str | None:
    return None if seed >= 0 else f"{seed} is out of range: the seed must be 0 or more"


def scale_problem(scale: float) -> str | None:
    low, high = SCALE_RANGE
    # A comparison with NaN is always false: without this the range check would blame the wrong bound.
    if isinstance(scale, float) and not math.isfinite(scale):
        return f"{scale} is not a number: the scale must be a number from {low:g} to {high:g}"
    if not low <= scale <= high:  # exact for an int of any size too (a hand-edited state.json)
        shown = f"{scale:g}" if isinstance(scale, float) or abs(scale) < 10**15 else "a number of 16 digits or more"
        return f"{shown} is out of range: the scale must be from {low:g} to {high:g}"
    return None


def iot_interval_problem(minutes: int) -> str | None:
    low, high = IOT_INTERVAL_RANGE
    if not low <= minutes <= high:
        return f"{minutes} is out of range: the IoT interval must be from {low} to {high} minutes"
    if 1440 % minutes != 0:
        return f"{minutes} does not divide a day (1440 minutes) evenly: use e.g. 1, 2, 5, 10, 15, 30 or 60"
    return None
