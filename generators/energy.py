"""Energy readings per meter and 15-minute interval: base load, production, refrigeration against outdoor heat.

The plant manages its demand against the ponta tariff (18:00-21:00 on weekdays that are not holidays): the
refrigeration plant pre-cools the rooms before ponta and eases during it, and boiler/CIP and other utility loads are
moved to the hours after it. Production itself (the lines) runs whenever orders run. So the ponta share of kWh
is below a flat load's (3 of 24 hours on weekdays, about 9 %).
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day, timestamp_bytes
from generators.execution import Run
from generators.fastcsv import write_series
from generators.randomness import stream
from generators.reference import Reference
from generators.weather import ambient_by_minute

INTERVAL_MIN = 15


def _line_profiles(runs: list[Run], lines: tuple[str, ...], first_minute: int, minutes: int) -> dict[str, np.ndarray]:
    """Per line and minute: (kg per hour being made, 1 if an order is on the line)."""
    rate_steps = {line: np.zeros(minutes + 1) for line in lines}
    busy_steps = {line: np.zeros(minutes + 1) for line in lines}
    for run in runs:
        if run.end <= run.start:
            continue
        a = min(max(run.start - first_minute, 0), minutes)
        b = min(max(run.end - first_minute, 0), minutes)
        if a == b:
            continue
        kg_per_h = run.produced_kg / ((run.end - run.start) / 60)
        rate_steps[run.line_id][a] += kg_per_h
        rate_steps[run.line_id][b] -= kg_per_h
        busy_steps[run.line_id][a] += 1
        busy_steps[run.line_id][b] -= 1
    profiles = {}
    for line in lines:
        profiles[line] = np.cumsum(rate_steps[line][:-1])
        profiles[f"{line}:busy"] = np.minimum(np.cumsum(busy_steps[line][:-1]), 1.0)
    return profiles


def simulate_and_write(
    handle: BinaryIO,
    seed: int,
    scenario_id: str,
    reference: Reference,
    first_day: int,
    days: int,
    runs: list[Run],
    weather: tuple[np.ndarray, np.ndarray],
) -> int:
    first_minute = first_day * MINUTES_PER_DAY
    minutes = days * MINUTES_PER_DAY
    offsets = np.arange(minutes, dtype=np.int64)
    ambient = ambient_by_minute(weather[0], weather[1], offsets)
    heat_excess = np.maximum(ambient - parameters.REFRIGERATION_REFERENCE_DEGC, 0.0)
    profiles = _line_profiles(runs, reference.lines, first_minute, minutes)
    total_rate = sum(profiles[line] for line in reference.lines)
    busy_share = sum(profiles[f"{line}:busy"] for line in reference.lines) / len(reference.lines)
    weekday = ((first_day + offsets // MINUTES_PER_DAY) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    hour = (offsets % MINUTES_PER_DAY) // 60
    office = (weekday < 5) & (hour >= 7) & (hour < 18)
    holiday = np.array([date_of_day(day) in reference.holidays for day in range(first_day, first_day + days)])
    tariff_day = (weekday < 5) & ~holiday[offsets // MINUTES_PER_DAY]

    def hours(span: tuple[int, int]) -> np.ndarray:
        return tariff_day & (hour >= span[0]) & (hour < span[1])

    ponta = hours(parameters.PONTA_HOURS)
    refrigeration_shape = np.where(ponta, parameters.REFRIGERATION_PONTA_FACTOR, 1.0) * np.where(
        hours(parameters.REFRIGERATION_PRECOOL_HOURS), parameters.REFRIGERATION_PRECOOL_FACTOR, 1.0
    )
    utilities_shape = np.where(ponta, parameters.UTILITIES_PONTA_FACTOR, 1.0) * np.where(
        hours(parameters.UTILITIES_AFTER_PONTA_HOURS), parameters.UTILITIES_AFTER_PONTA_FACTOR, 1.0
    )
    starts = np.arange(first_minute, first_minute + minutes, INTERVAL_MIN, dtype=np.int64)
    timestamps = timestamp_bytes(starts)
    rows = 0
    for meter in reference.meters:
        if meter.line_id is not None:
            busy = profiles[f"{meter.line_id}:busy"]
            kw = meter.base_load_kw * (0.25 + 0.75 * busy) + meter.kwh_per_kg * profiles[meter.line_id]
        elif meter.load_type == "refrigeration":
            kw = (
                meter.base_load_kw + meter.kw_per_degc_above_25c * heat_excess
            ) * refrigeration_shape + meter.kwh_per_kg * total_rate
        elif meter.load_type == "building":
            kw = meter.base_load_kw * np.where(office, 1.0, 0.45) + meter.kw_per_degc_above_25c * heat_excess
        else:
            kw = meter.base_load_kw * (0.35 + 0.65 * busy_share) * utilities_shape + meter.kwh_per_kg * total_rate
        kwh = kw.reshape(-1, INTERVAL_MIN).sum(axis=1) / 60.0
        noise = stream(seed, "energy", meter.meter_id, first_day).normal(1.0, 0.03, size=len(kwh))
        hundredths = np.rint(np.maximum(kwh * noise, 0.0) * 100).astype(np.int64)
        rows += write_series(handle, f"{scenario_id},{meter.meter_id},".encode(), timestamps, hundredths)
    return rows
