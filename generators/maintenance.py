"""Maintenance: preventive work on Sundays at each equipment's interval, corrective failures from Weibull lives.

Equipment ages only while its line runs an order (time between failures is in operating hours). A failure stops
the line until the log-normal repair ends; preventive work renews the equipment (as-good-as-new).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.reference import Equipment


@dataclass
class MaintenanceEvent:
    event_id: str
    equipment_id: str
    maintenance_type: str
    started_at: int
    ended_at: int
    failure_mode_id: str | None


@dataclass
class EquipmentState:
    equipment_id: str
    hours_to_failure: float
    failures_drawn: int
    next_preventive_day: int
    # Operating hours to the next minor stop (None: this kind of equipment does not jam).
    hours_to_stop: float | None = None
    stops_drawn: int = 0


def draw_life_hours(seed: int, equipment: Equipment, draw_number: int) -> float:
    rng = stream(seed, "equipment-life", equipment.equipment_id, draw_number)
    return float(equipment.weibull_scale_h * rng.weibull(equipment.weibull_shape))


def draw_stop_interval_h(seed: int, equipment: Equipment, draw_number: int) -> float | None:
    """Operating hours to the first minor stop; the later intervals are drawn with each stop."""
    mean_h = parameters.MINOR_STOP_MEAN_INTERVAL_H.get(equipment.equipment_type)
    if mean_h is None:
        return None
    return float(stream(seed, "minor-stop", equipment.equipment_id, draw_number).exponential(mean_h))


def initial_state(seed: int, equipment: Equipment, first_day: int) -> EquipmentState:
    rng = stream(seed, "equipment-start", equipment.equipment_id)
    # Staggered so that a fresh plant does not do all its preventive work on the first Sunday.
    first_due = first_day + int(rng.integers(0, max(equipment.preventive_interval_days, 1)))
    return EquipmentState(
        equipment.equipment_id,
        draw_life_hours(seed, equipment, 0),
        1,
        first_due,
        draw_stop_interval_h(seed, equipment, 0),
        1,
    )


def minor_stop_event(
    seed: int, equipment: Equipment, state: EquipmentState, at_minute: int, failure_modes: tuple[str, ...]
) -> MaintenanceEvent:
    """A short corrective stop; the equipment's clock to its next stop starts again, its Weibull life does not."""
    # One stream per stop (its length, mode and the interval to the next): stops are frequent, streams are not free.
    rng = stream(seed, "minor-stop", equipment.equipment_id, state.stops_drawn)
    stop_h = float(rng.lognormal(math.log(parameters.MINOR_STOP_MEDIAN_H), parameters.MINOR_STOP_LOG_SD))
    mode = failure_modes[int(rng.integers(0, len(failure_modes)))] if failure_modes else None
    state.hours_to_stop = float(rng.exponential(parameters.MINOR_STOP_MEAN_INTERVAL_H[equipment.equipment_type]))
    state.stops_drawn += 1
    return _corrective(equipment, at_minute, max(round(stop_h * 60), 5), mode)


def _corrective(equipment: Equipment, at_minute: int, minutes: int, mode: str | None) -> MaintenanceEvent:
    stamp = date_of_day(at_minute // MINUTES_PER_DAY).strftime("%Y%m%d")
    clock = f"{(at_minute % MINUTES_PER_DAY) // 60:02d}{at_minute % 60:02d}"
    return MaintenanceEvent(
        f"CM-{equipment.equipment_id}-{stamp}{clock}",
        equipment.equipment_id,
        "corrective",
        at_minute,
        at_minute + minutes,
        mode,
    )


def renew(seed: int, equipment: Equipment, state: EquipmentState) -> None:
    state.hours_to_failure = draw_life_hours(seed, equipment, state.failures_drawn)
    state.failures_drawn += 1


def corrective_event(
    seed: int, equipment: Equipment, state: EquipmentState, at_minute: int, failure_modes: tuple[str, ...]
) -> MaintenanceEvent:
    rng = stream(seed, "repair", equipment.equipment_id, state.failures_drawn)
    repair_h = max(float(rng.lognormal(math.log(equipment.repair_median_h), equipment.repair_log_sd)), 0.25)
    mode = failure_modes[int(rng.integers(0, len(failure_modes)))] if failure_modes else None
    # Drawn after the repair so that the repair times of the seed's distribution keep their stream.
    response_h = float(rng.lognormal(math.log(parameters.REPAIR_RESPONSE_MEDIAN_H), parameters.REPAIR_RESPONSE_LOG_SD))
    return _corrective(equipment, at_minute, max(round((response_h + repair_h) * 60), 1), mode)


def preventive_events(
    seed: int, equipment: list[Equipment], states: dict[str, EquipmentState], first_day: int, last_day: int
) -> list[MaintenanceEvent]:
    """Preventive work due in [first_day, last_day], done on the first Sunday on or after its due day."""
    events = []
    for day in range(first_day, last_day + 1):
        if date_of_day(day).isoweekday() != 7:
            continue
        for item in equipment:
            state = states[item.equipment_id]
            if state.next_preventive_day > day:
                continue
            rng = stream(seed, "preventive", item.equipment_id, day)
            start = day * MINUTES_PER_DAY + parameters.PREVENTIVE_HOUR * 60 + int(rng.integers(0, 5)) * 30
            duration = round(item.preventive_duration_h * 60 * float(rng.uniform(0.85, 1.2)))
            events.append(
                MaintenanceEvent(
                    f"PM-{item.equipment_id}-{date_of_day(day).strftime('%Y%m%d')}",
                    item.equipment_id,
                    "preventive",
                    start,
                    start + duration,
                    None,
                )
            )
            state.next_preventive_day = day + item.preventive_interval_days
    return events
