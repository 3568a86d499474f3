"""The stops a batch knows before it runs: preventive maintenance, the rooms' calendar failures, the scenario's
breakdowns, and the room repairs carried over from the batch before."""

from __future__ import annotations

from dataclasses import dataclass

from generators import parameters, rooms
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.execution import LineState
from generators.maintenance import MaintenanceEvent, preventive_events
from generators.reference import Equipment, Reference
from generators.scenarios import Breakdown, ScenarioEffects
from generators.state import PlantState


@dataclass
class KnownStops:
    # This batch's preventive work and the corrective events of the scenario's breakdowns that start in it.
    events: list[MaintenanceEvent]
    room_failures: list[MaintenanceEvent]
    # Breakdowns the planner learns of when they start: (minute, line, end), in time order.
    line_stops: list[tuple[int, str, int]]


def schedule_known_stops(
    reference: Reference,
    seed: int,
    state: PlantState,
    effects: ScenarioEffects,
    lines: dict[str, LineState],
    first_day: int,
    last_day: int,
) -> KnownStops:
    """Every stop known in advance, written into the lines' downtimes (and preventive work) it keeps closed."""
    first_minute, horizon = first_day * MINUTES_PER_DAY, (last_day + 1) * MINUTES_PER_DAY
    equipment_by_id = reference.equipment_by_id()
    events = preventive_events(seed, list(reference.equipment), state.equipment, first_day, last_day)
    for event in events:
        line = lines[equipment_by_id[event.equipment_id].line_id]
        if equipment_by_id[event.equipment_id].equipment_type not in parameters.CALENDAR_AGING_TYPES:
            line.preventive.append(event)  # rooms are renewed by their calendar wear (rooms.calendar_failures)
        line.downtimes.append((event.started_at, event.ended_at))
    room_failures = rooms.calendar_failures(seed, reference, state.equipment, events, first_minute, horizon)
    carried_room_repairs = [
        event
        for event in state.carried_events
        if event.maintenance_type == "corrective"
        and equipment_by_id[event.equipment_id].equipment_type in parameters.CALENDAR_AGING_TYPES
    ]
    for event in room_failures + carried_room_repairs:
        lines[equipment_by_id[event.equipment_id].line_id].downtimes.append((event.started_at, event.ended_at))
    breakdowns = effects.breakdowns(first_day, last_day)
    for breakdown in breakdowns:
        if breakdown.end_minute <= first_minute or breakdown.start_minute >= horizon:
            continue
        equipment = equipment_by_id[breakdown.equipment_id]
        lines[equipment.line_id].downtimes.append((breakdown.start_minute, breakdown.end_minute))
        if breakdown.start_minute >= first_minute:
            events.append(_breakdown_event(reference, equipment, breakdown))
    for line in lines.values():
        line.downtimes.sort()
        line.preventive.sort(key=lambda event: event.started_at)
    line_stops = sorted(
        (breakdown.start_minute, equipment_by_id[breakdown.equipment_id].line_id, breakdown.end_minute)
        for breakdown in breakdowns
        if first_minute <= breakdown.start_minute < horizon
    )
    return KnownStops(events, room_failures, line_stops)


def _breakdown_event(reference: Reference, equipment: Equipment, breakdown: Breakdown) -> MaintenanceEvent:
    """The corrective work order of a scenario's breakdown, named after its equipment and start."""
    stamp = date_of_day(breakdown.start_minute // MINUTES_PER_DAY).strftime("%Y%m%d")
    clock = f"{(breakdown.start_minute % MINUTES_PER_DAY) // 60:02d}{breakdown.start_minute % 60:02d}"
    modes = reference.failure_modes.get(equipment.equipment_type, ())
    return MaintenanceEvent(
        f"CM-{equipment.equipment_id}-{stamp}{clock}",
        equipment.equipment_id,
        "corrective",
        breakdown.start_minute,
        breakdown.end_minute,
        modes[0] if modes else None,
    )
