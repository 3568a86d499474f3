"""IoT readings: every sensor on a fixed grid, following what its equipment does, plus what moves it out of spec.

Process sensors (pasteurizer, vats, stretcher, ricotta tank, kettle) follow their equipment: at the setpoint while
it runs an order, drifting to ambient (first-order lag) while it is idle or down (nights without orders, Sundays,
repairs, breakdowns); those idle readings are flagged `is_equipment_idle` and are never excursions. The pasteurizer
is shared: it runs whenever a line makes a cheese from milk (every product but ricota, which is made from whey) and
that line is not stopped, unless the pasteurizer itself is down.

Rooms (cold and ripening rooms, brine tanks) are always on and drift slowly (Ornstein-Uhlenbeck), so their
excursions are episodes of minutes to hours. Three things push them out: upsets (a door left open, a defrost), the
outdoor heat (the heatwave), and repairs of the room's own equipment (a compressor trip warms it, a humidifier
fault dries it). The out-of-spec minutes while running are kept per sensor so the quality model can see what each
order went through.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from generators import parameters
from generators.clock import MINUTES_PER_DAY, timestamp_bytes
from generators.execution import Run
from generators.fastcsv import write_series
from generators.maintenance import MaintenanceEvent
from generators.randomness import stream
from generators.reference import Reference, Sensor
from generators.weather import ambient_by_minute

# Equipment that is always on: its sensors drift slowly and are never idle.
ALWAYS_ON_TYPES = ("cold_room", "ripening_room", "brine_tank")
PASTEURIZER_TYPE = "pasteurizer"
PASTEURIZED_INPUT = "MILK"


@dataclass
class OutOfSpecIndex:
    """Cumulative count of out-of-spec readings (equipment running) per sensor on the batch's sampling grid."""

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


def first_order(drive: np.ndarray, phi: float) -> np.ndarray:
    """x[n] = phi·x[n-1] + drive[n] with x[-1] = 0, without a Python loop over n.

    Inside blocks short enough that phi**-block stays below e**20, the recursion is a cumulative sum of
    drive·phi**-k scaled back by phi**k; one scalar pass over the blocks (a few hundred a year) carries each block's
    last value into the next.
    """
    n = len(drive)
    if n == 0 or phi <= 0.0:
        return np.array(drive, dtype=float)
    block = max(1, min(n, int(20.0 / -math.log(phi)) if phi < 1.0 else n))
    blocks = -(-n // block)
    padded = np.zeros(blocks * block)
    padded[:n] = drive
    k = np.arange(block, dtype=float)
    decay = phi**k
    inner = np.cumsum(padded.reshape(blocks, block) / decay, axis=1) * decay
    carry = np.empty(blocks)
    last, phi_block = 0.0, phi**block
    for j, end in enumerate(inner[:, -1].tolist()):
        carry[j] = last
        last = end + phi_block * last
    inner += carry[:, None] * (phi * decay)
    return inner.reshape(-1)[:n]


def _mask(offsets: np.ndarray, first_minute: int, spans: Iterable[tuple[int, int]]) -> np.ndarray:
    """True at the readings inside any [start, end) span (minutes since the epoch)."""
    pairs = np.array(list(spans), dtype=np.int64).reshape(-1, 2)
    step = np.zeros(len(offsets) + 1, dtype=np.int32)
    if len(pairs):
        np.add.at(step, np.searchsorted(offsets, pairs[:, 0] - first_minute), 1)
        np.add.at(step, np.searchsorted(offsets, pairs[:, 1] - first_minute), -1)
    return np.cumsum(step[:-1]) > 0


@dataclass
class Activity:
    """Per reading of one process equipment: whether it is making product, and whether it is hot (running or
    pre-heating for the next order)."""

    running: np.ndarray
    heated: np.ndarray


def equipment_activity(
    reference: Reference,
    offsets: np.ndarray,
    first_minute: int,
    runs: Iterable[Run],
    downtimes: Iterable[MaintenanceEvent],
    unpasteurized_orders: Collection[str],
) -> dict[str, Activity]:
    """Activity of every process equipment: its line's runs minus the stops of any equipment of that line (a
    stopped line stops its vat and stretcher); the shared pasteurizer serves every run made from milk."""
    equipment = reference.equipment_by_id()
    preheat = parameters.PROCESS_PREHEAT_MIN
    runs_by_line: dict[str, list[tuple[int, int]]] = {line: [] for line in reference.lines}
    milk_runs_by_line: dict[str, list[tuple[int, int]]] = {line: [] for line in reference.lines}
    for run in runs:
        if run.end > run.start:
            runs_by_line[run.line_id].append((run.start, run.end))
            if run.order_id not in unpasteurized_orders:
                milk_runs_by_line[run.line_id].append((run.start, run.end))
    stops_by_line: dict[str, list[tuple[int, int]]] = {line: [] for line in reference.lines}
    stops_by_equipment: dict[str, list[tuple[int, int]]] = {}
    for event in downtimes:
        stops_by_line[equipment[event.equipment_id].line_id].append((event.started_at, event.ended_at))
        stops_by_equipment.setdefault(event.equipment_id, []).append((event.started_at, event.ended_at))

    def lines_activity(by_line: dict[str, list[tuple[int, int]]], line_ids: Iterable[str]) -> Activity:
        running = np.zeros(len(offsets), dtype=bool)
        heated = np.zeros(len(offsets), dtype=bool)
        for line_id in line_ids:
            stopped = _mask(offsets, first_minute, stops_by_line[line_id])
            running |= _mask(offsets, first_minute, by_line[line_id]) & ~stopped
            heated |= _mask(offsets, first_minute, ((a - preheat, b) for a, b in by_line[line_id])) & ~stopped
        return Activity(running, heated)

    activities: dict[str, Activity] = {}
    for item in reference.equipment:
        if item.equipment_type in ALWAYS_ON_TYPES:
            continue
        if item.equipment_type == PASTEURIZER_TYPE:
            served = lines_activity(milk_runs_by_line, reference.lines)
            own_stop = _mask(offsets, first_minute, stops_by_equipment.get(item.equipment_id, []))
            activities[item.equipment_id] = Activity(served.running & ~own_stop, served.heated & ~own_stop)
        else:
            activities[item.equipment_id] = lines_activity(runs_by_line, [item.line_id])
    return activities


def _process_level(sensor: Sensor, heated: np.ndarray, offsets: np.ndarray, idle_target: np.ndarray) -> np.ndarray:
    """Exact first-order response, segment by segment: towards the setpoint while heated (fast), towards the idle
    target while not (slow). Segments are a few a day; inside each one the response is one vectorised expression."""
    count = len(heated)
    change = np.flatnonzero(heated[1:] != heated[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [count]))
    seg_on = heated[starts]
    tau = np.where(seg_on, parameters.PROCESS_HEAT_TAU_MIN, parameters.PROCESS_COOL_TAU_MIN[sensor.measure])
    anchor = np.where(seg_on, sensor.nominal_value, idle_target[starts])
    start_times = offsets[starts].astype(float)
    level0 = np.empty(len(starts))
    level = sensor.nominal_value if heated[0] else float(idle_target[0])
    next_target = np.where(seg_on, sensor.nominal_value, idle_target[np.minimum(ends, count - 1)])
    next_times = np.concatenate((offsets[change], [offsets[-1]])).astype(float)
    for i, (target_then, a_level, t0, t1, tau_i) in enumerate(
        zip(
            next_target.tolist(),
            anchor.tolist(),
            start_times.tolist(),
            next_times.tolist(),
            tau.tolist(),
            strict=True,
        )
    ):
        level0[i] = level
        level = target_then + (level - a_level) * math.exp(-(t1 - t0) / tau_i)
    segment = np.repeat(np.arange(len(starts)), ends - starts)
    target = np.where(heated, sensor.nominal_value, idle_target)
    elapsed = offsets - offsets[starts][segment]
    return target + (level0 - anchor)[segment] * np.exp(-elapsed / tau[segment])


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


def _upsets(
    rng: np.random.Generator, sensor: Sensor, count: int, interval_min: int, per_day: float, median_min: float
) -> np.ndarray:
    """Step offsets that take the sensor beyond one of its limits for a log-normal time."""
    days = count * interval_min / MINUTES_PER_DAY
    events = rng.poisson(per_day * days)
    step = np.zeros(count + 1)
    if events:
        starts = rng.integers(0, count, size=events)
        lengths = np.maximum(np.rint(rng.lognormal(math.log(median_min), 0.7, size=events) / interval_min), 1).astype(
            np.int64
        )
        upward = rng.random(size=events) < 0.5
        beyond = rng.uniform(0.3, 1.5, size=events) * sensor.noise_sd
        shift = np.where(
            upward, sensor.spec_max - sensor.nominal_value + beyond, sensor.spec_min - sensor.nominal_value - beyond
        )
        np.add.at(step, starts, shift)
        np.add.at(step, np.minimum(starts + lengths, count), -shift)
    return np.cumsum(step[:-1])


def _lag_factor(tau_min: float, interval_min: int) -> float:
    return math.exp(-interval_min / tau_min)


@dataclass
class SensorBackgrounds:
    """What every sensor reads apart from its equipment's level, on the batch's reading grid: for a process sensor
    the drift, noise and upsets around its level; for an always-on room the whole reading. None of it depends on
    the runs, so it is drawn before the plant runs and the lab and the executor read it while the days are
    simulated; the IoT file later adds each process sensor's level to it."""

    first_minute: int
    interval_min: int
    offsets: np.ndarray
    series: dict[str, np.ndarray]

    def position(self, minute: int) -> int:
        """Index of the first reading at or after `minute`, clipped to the grid (as OutOfSpecIndex counts)."""
        return min(max((minute - self.first_minute + self.interval_min - 1) // self.interval_min, 0), len(self.offsets))


def sensor_backgrounds(
    seed: int,
    reference: Reference,
    first_day: int,
    days: int,
    interval_min: int,
    weather: tuple[np.ndarray, np.ndarray],
    room_repairs: list[MaintenanceEvent],
) -> SensorBackgrounds:
    first_minute = first_day * MINUTES_PER_DAY
    offsets = np.arange(0, days * MINUTES_PER_DAY, interval_min, dtype=np.int64)
    ambient = ambient_by_minute(weather[0], weather[1], offsets)
    equipment = reference.equipment_by_id()
    repairs_by_equipment: dict[str, list[MaintenanceEvent]] = {}
    for event in room_repairs:
        repairs_by_equipment.setdefault(event.equipment_id, []).append(event)
    count = len(offsets)
    series: dict[str, np.ndarray] = {}
    for sensor in reference.sensors:
        rng = stream(seed, "iot", sensor.sensor_id, first_day)
        equipment_type = equipment[sensor.equipment_id].equipment_type
        if equipment_type not in ALWAYS_ON_TYPES:
            # Slow drift (hourly knots, interpolated) plus white noise around the equipment's level.
            knot_times = np.arange(0, days * MINUTES_PER_DAY + 61, 60, dtype=np.int64)
            values = np.interp(offsets, knot_times, rng.normal(0.0, sensor.noise_sd * 0.6, size=len(knot_times)))
            values += rng.normal(0.0, sensor.noise_sd * 0.75, size=count)
            values += _upsets(
                rng, sensor, count, interval_min, parameters.EXCURSION_EVENTS_PER_DAY, parameters.EXCURSION_MEDIAN_MIN
            )
        else:
            phi = _lag_factor(parameters.ROOM_DRIFT_TAU_MIN, interval_min)
            sd = sensor.noise_sd * parameters.ROOM_DRIFT_SD_SHARE
            shocks = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), size=count)
            shocks[0] = rng.normal(0.0, sd)  # start from the stationary distribution
            values = sensor.nominal_value + first_order(shocks, phi)
            values += rng.normal(0.0, sensor.noise_sd * parameters.ROOM_PROBE_NOISE_SHARE, size=count)
            upsets = _upsets(
                rng, sensor, count, interval_min, parameters.ROOM_EVENTS_PER_DAY, parameters.ROOM_EVENT_MEDIAN_MIN
            )
            follow = _lag_factor(parameters.ROOM_EVENT_TAU_MIN, interval_min)
            values += first_order(upsets * (1.0 - follow), follow)
            heat = _room_heat_offset(sensor, equipment_type, ambient)
            if heat is not None:
                values += heat
            if sensor.equipment_id in repairs_by_equipment:
                values += _repair_offset(sensor, repairs_by_equipment[sensor.equipment_id], offsets, first_minute)
        series[sensor.sensor_id] = values
    return SensorBackgrounds(first_minute, interval_min, offsets, series)


def _hundredths(sensor: Sensor, values: np.ndarray) -> np.ndarray:
    np.clip(values, sensor.physical_min, sensor.physical_max, out=values)
    return np.rint(values * 100).astype(np.int64)


def _out_of_spec(sensor: Sensor, hundredths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out of spec, above spec) per reading, before the idle mask."""
    above = hundredths > round(sensor.spec_max * 100)
    return (hundredths < round(sensor.spec_min * 100)) | above, above


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
    *,
    runs: Iterable[Run] = (),
    downtimes: Iterable[MaintenanceEvent] = (),
    unpasteurized_orders: Collection[str] = frozenset(),
    backgrounds: SensorBackgrounds | None = None,
) -> tuple[int, OutOfSpecIndex]:
    """Write the readings of every sensor; `runs` and `downtimes` (maintenance events) say when each process
    equipment runs (without them it idles throughout); `unpasteurized_orders` are runs the pasteurizer does not
    serve (whey products). While its equipment runs a process sensor reads its setpoint plus its background: the
    equipment was brought to temperature before the run (pre-heat), and the lab judged the run on those readings."""
    if backgrounds is None:
        backgrounds = sensor_backgrounds(seed, reference, first_day, days, interval_min, weather, room_repairs)
    first_minute = first_day * MINUTES_PER_DAY
    offsets = backgrounds.offsets
    timestamps = timestamp_bytes(offsets + first_minute)
    ambient = ambient_by_minute(weather[0], weather[1], offsets)
    activities = equipment_activity(reference, offsets, first_minute, runs, downtimes, unpasteurized_orders)
    count = len(offsets)
    never_idle = np.zeros(count, dtype=bool)
    cumulative: dict[str, np.ndarray] = {}
    high_cumulative: dict[str, np.ndarray] = {}
    rows = 0
    for sensor in reference.sensors:
        background = backgrounds.series[sensor.sensor_id]
        if sensor.equipment_id in activities:
            activity = activities[sensor.equipment_id]
            idle_target = (
                ambient
                if sensor.measure == "temperature"
                else np.full(count, parameters.PROCESS_IDLE_VALUE.get(sensor.measure, sensor.nominal_value))
            )
            level = _process_level(sensor, activity.heated, offsets, idle_target)
            level[activity.running] = sensor.nominal_value
            values = level + background
            idle = ~activity.running
        else:
            values = background.copy()
            idle = never_idle
        hundredths = _hundredths(sensor, values)
        out, above = _out_of_spec(sensor, hundredths)
        out &= ~idle
        above &= ~idle
        cumulative[sensor.sensor_id] = np.concatenate(([0], np.cumsum(out, dtype=np.int32)))
        high_cumulative[sensor.sensor_id] = np.concatenate(([0], np.cumsum(above, dtype=np.int32)))
        rows += write_series(handle, f"{scenario_id},{sensor.sensor_id},".encode(), timestamps, hundredths, idle)
        if on_sensor_done is not None:
            on_sensor_done(count)
    return rows, OutOfSpecIndex(first_minute, interval_min, cumulative, high_cumulative)


class LiveExcursions:
    """The lab's view of the sensors while the days are simulated: the same counts as OutOfSpecIndex will give
    from the IoT file, for readings whose running state is already known.

    A room reads its background (always on). A process sensor reads its setpoint plus its background while its
    equipment runs; whether it runs at a reading comes from the runs and stops known so far, which for a window
    that ended before the executor's clock is all of them (a stop is drawn by the run it interrupts).
    """

    def __init__(self, reference: Reference, backgrounds: SensorBackgrounds) -> None:
        self.reference = reference
        self.backgrounds = backgrounds
        self.unpasteurized: set[str] = set()
        self.equipment = reference.equipment_by_id()
        self.sensors = {sensor.sensor_id: sensor for sensor in reference.sensors}
        self.cumulative: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.flags: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for sensor in reference.sensors:
            background = backgrounds.series[sensor.sensor_id]
            if self.equipment[sensor.equipment_id].equipment_type in ALWAYS_ON_TYPES:
                out, above = _out_of_spec(sensor, _hundredths(sensor, background.copy()))
                self.cumulative[sensor.sensor_id] = (
                    np.concatenate(([0], np.cumsum(out, dtype=np.int32))),
                    np.concatenate(([0], np.cumsum(above, dtype=np.int32))),
                )
            else:
                self.flags[sensor.sensor_id] = _out_of_spec(
                    sensor, _hundredths(sensor, sensor.nominal_value + background)
                )
        self.runs: dict[str, list[tuple[int, int, str]]] = {line_id: [] for line_id in reference.lines}
        self.stops: dict[str, list[tuple[int, int, str]]] = {line_id: [] for line_id in reference.lines}
        self.longest = 0
        # The lab asks about the same equipment and window for each of its sensors; runs and stops added later
        # never reach back into a window it asks about.
        self._running_cache: dict[tuple[str, int, int], np.ndarray] = {}

    def add_run(self, run: Run, pasteurized: bool) -> None:
        if not pasteurized:
            self.unpasteurized.add(run.order_id)
        bisect.insort(self.runs[run.line_id], (run.start, run.end, run.order_id))
        self.longest = max(self.longest, run.end - run.start)

    def add_stop(self, event: MaintenanceEvent) -> None:
        line_id = self.equipment[event.equipment_id].line_id
        bisect.insort(self.stops[line_id], (event.started_at, event.ended_at, event.equipment_id))
        self.longest = max(self.longest, event.ended_at - event.started_at)

    def _spans_mask(self, spans: Iterable[tuple[int, int]], lo: int, hi: int) -> np.ndarray:
        """True at the readings lo..hi-1 inside any [start, end) span: the grid is regular, so a span is a slice."""
        mask = np.zeros(hi - lo, dtype=bool)
        for start, end in spans:
            a, b = self.backgrounds.position(start) - lo, self.backgrounds.position(end) - lo
            if b > 0 and a < hi - lo:
                mask[max(a, 0) : b] = True
        return mask

    def _running(self, equipment_id: str, lo: int, hi: int) -> np.ndarray:
        """Whether the equipment runs at the readings lo..hi-1, from the runs and stops added so far."""
        key = (equipment_id, lo, hi)
        if key in self._running_cache:
            return self._running_cache[key]
        first, interval = self.backgrounds.first_minute, self.backgrounds.interval_min
        start, end = first + lo * interval, first + hi * interval

        def overlapping(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
            # Sorted by start: only spans starting in [start - longest, end) can reach into the window.
            first_index = bisect.bisect_left(spans, (start - self.longest,))
            last_index = bisect.bisect_left(spans, (end,))
            return [span for span in spans[first_index:last_index] if span[1] > start]

        item = self.equipment[equipment_id]
        pasteurizer = item.equipment_type == PASTEURIZER_TYPE
        running = np.zeros(hi - lo, dtype=bool)
        for line_id in self.reference.lines if pasteurizer else [item.line_id]:
            runs = [
                (a, b)
                for a, b, order_id in overlapping(self.runs[line_id])
                if not (pasteurizer and order_id in self.unpasteurized)
            ]
            if runs:
                stops = overlapping(self.stops[line_id])
                running |= self._spans_mask(runs, lo, hi) & ~self._spans_mask(((a, b) for a, b, _ in stops), lo, hi)
        if pasteurizer:
            own = [(a, b) for a, b, owner in overlapping(self.stops[item.line_id]) if owner == equipment_id]
            running &= ~self._spans_mask(own, lo, hi)
        if len(self._running_cache) > 64:
            self._running_cache.clear()
        self._running_cache[key] = running
        return running

    def minutes_below_while_serving(self, sensor_id: str, start: int, end: int) -> float:
        """Minutes below spec in [start, end) of a process sensor whose equipment serves a run throughout."""
        lo, hi = self.backgrounds.position(start), self.backgrounds.position(end)
        out, high_flags = self.flags[sensor_id]
        return float(int((out[lo:hi] & ~high_flags[lo:hi]).sum()) * self.backgrounds.interval_min)

    def minutes_out(self, sensor_id: str, start: int, end: int, high_only: bool | None = None) -> float:
        lo, hi = self.backgrounds.position(start), self.backgrounds.position(end)
        if hi <= lo:
            return 0.0
        if sensor_id in self.cumulative:
            series, high = self.cumulative[sensor_id]
            total, above = int(series[hi] - series[lo]), int(high[hi] - high[lo])
        else:
            out, high_flags = self.flags[sensor_id]
            running = self._running(self.sensors[sensor_id].equipment_id, lo, hi)
            total, above = int((out[lo:hi] & running).sum()), int((high_flags[lo:hi] & running).sum())
        count = total if high_only is None else (above if high_only else total - above)
        return float(count * self.backgrounds.interval_min)
