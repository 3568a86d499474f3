"""IoT readings: every sensor sampled on a fixed grid, noise around its nominal value plus what moves it out of spec.

Three things push a sensor out of its limits: short random excursions (a sticking valve, a fouled probe), the
outdoor heat reaching cold and ripening rooms and brine (the heatwave), and repairs of the room's own equipment
(a compressor trip warms the room, a humidifier fault dries it). The out-of-spec minutes are kept per sensor so the
quality model can see what each order went through.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from generators import parameters
from generators.clock import MINUTES_PER_DAY, timestamp_bytes
from generators.fastcsv import write_series
from generators.maintenance import MaintenanceEvent
from generators.randomness import stream
from generators.reference import Reference, Sensor
from generators.weather import ambient_by_minute


@dataclass
class OutOfSpecIndex:
    """Cumulative count of out-of-spec readings per sensor on the batch's sampling grid."""

    first_minute: int
    interval_min: int
    cumulative: dict[str, np.ndarray]
    high_cumulative: dict[str, np.ndarray]

    def _position(self, minute: int, length: int) -> int:
        return min(max((minute - self.first_minute + self.interval_min - 1) // self.interval_min, 0), length - 1)

    def minutes_out(self, sensor_id: str, start: int, end: int, high_only: bool | None = None) -> float:
        """Minutes out of spec in [start, end); high_only=True counts above-max only, False below-min only."""
        series = self.cumulative[sensor_id]
        high = self.high_cumulative[sensor_id]
        a, b = self._position(start, len(series)), self._position(end, len(series))
        total, above = int(series[b] - series[a]), int(high[b] - high[a])
        count = total if high_only is None else (above if high_only else total - above)
        return float(count * self.interval_min)


def _room_heat_offset(sensor: Sensor, equipment_type: str, ambient: np.ndarray) -> np.ndarray | None:
    excess = np.maximum(ambient - parameters.ROOM_HEAT_THRESHOLD_DEGC, 0.0)
    if sensor.measure == "temperature" and equipment_type in parameters.ROOM_TEMPERATURE_GAIN:
        return parameters.ROOM_TEMPERATURE_GAIN[equipment_type] * excess
    if sensor.measure == "humidity" and equipment_type == "ripening_room":
        return parameters.ROOM_HUMIDITY_GAIN * excess
    return None


def _repair_offset(sensor: Sensor, events: list[MaintenanceEvent], offsets: np.ndarray, first: int) -> np.ndarray:
    effect = np.zeros(len(offsets))
    for event in events:
        warming = sensor.measure == "temperature" and event.failure_mode_id != "humidifier_fault"
        drying = sensor.measure == "humidity" and event.failure_mode_id == "humidifier_fault"
        if not (warming or drying):
            continue
        lo, hi = np.searchsorted(offsets, [event.started_at - first, event.ended_at - first])
        elapsed = offsets[lo:hi] - (event.started_at - first)
        effect[lo:hi] += np.minimum(0.04 * elapsed, 5.0) if warming else -np.minimum(0.2 * elapsed, 15.0)
    return effect


def simulate_and_write(
    handle: BinaryIO,
    seed: int,
    scenario_id: str,
    reference: Reference,
    first_day: int,
    days: int,
    interval_min: int,
    weather: tuple[np.ndarray, np.ndarray],
    room_repairs: list[MaintenanceEvent],
    on_sensor_done: Callable[[int], None] | None = None,
) -> tuple[int, OutOfSpecIndex]:
    first_minute = first_day * MINUTES_PER_DAY
    offsets = np.arange(0, days * MINUTES_PER_DAY, interval_min, dtype=np.int64)
    timestamps = timestamp_bytes(offsets + first_minute)
    ambient = ambient_by_minute(weather[0], weather[1], offsets)
    equipment = reference.equipment_by_id()
    repairs_by_equipment: dict[str, list[MaintenanceEvent]] = {}
    for event in room_repairs:
        repairs_by_equipment.setdefault(event.equipment_id, []).append(event)
    count = len(offsets)
    cumulative: dict[str, np.ndarray] = {}
    high_cumulative: dict[str, np.ndarray] = {}
    rows = 0
    for sensor in reference.sensors:
        rng = stream(seed, "iot", sensor.sensor_id, first_day)
        # Slow drift (hourly knots, interpolated) plus white noise: consecutive readings are correlated.
        knot_times = np.arange(0, days * MINUTES_PER_DAY + 61, 60, dtype=np.int64)
        drift = np.interp(offsets, knot_times, rng.normal(0.0, sensor.noise_sd * 0.6, size=len(knot_times)))
        values = sensor.nominal_value + drift + rng.normal(0.0, sensor.noise_sd * 0.75, size=count)
        events = rng.poisson(parameters.EXCURSION_EVENTS_PER_DAY * days)
        if events:
            starts = rng.integers(0, count, size=events)
            lengths = np.maximum(
                np.rint(rng.lognormal(math.log(parameters.EXCURSION_MEDIAN_MIN), 0.7, size=events) / interval_min),
                1,
            ).astype(np.int64)
            upward = rng.random(size=events) < 0.5
            beyond = rng.uniform(0.3, 1.5, size=events) * sensor.noise_sd
            shift = np.where(
                upward, sensor.spec_max - sensor.nominal_value + beyond, sensor.spec_min - sensor.nominal_value - beyond
            )
            step = np.zeros(count + 1)
            np.add.at(step, starts, shift)
            np.add.at(step, np.minimum(starts + lengths, count), -shift)
            values += np.cumsum(step[:-1])
        equipment_type = equipment[sensor.equipment_id].equipment_type
        heat = _room_heat_offset(sensor, equipment_type, ambient)
        if heat is not None:
            values += heat
        if sensor.equipment_id in repairs_by_equipment:
            values += _repair_offset(sensor, repairs_by_equipment[sensor.equipment_id], offsets, first_minute)
        np.clip(values, sensor.physical_min, sensor.physical_max, out=values)
        hundredths = np.rint(values * 100).astype(np.int64)
        above = hundredths > round(sensor.spec_max * 100)
        below = hundredths < round(sensor.spec_min * 100)
        cumulative[sensor.sensor_id] = np.concatenate(([0], np.cumsum(above | below, dtype=np.int32)))
        high_cumulative[sensor.sensor_id] = np.concatenate(([0], np.cumsum(above, dtype=np.int32)))
        rows += write_series(handle, f"{scenario_id},{sensor.sensor_id},".encode(), timestamps, hundredths)
        if on_sensor_done is not None:
            on_sensor_done(count)
    return rows, OutOfSpecIndex(first_minute, interval_min, cumulative, high_cumulative)
