"""Cold and ripening rooms are always on: their equipment (compressors, fans, humidifiers) wears on the calendar, not
only while their line runs an order, so their failures are drawn here over the whole batch before execution.

A room failure stops its line for the repair (there is nowhere to put the product), like any other failure, and
warms or dries the room (generators/iot.py). Preventive work on the room renews it, as for other equipment.
"""

from __future__ import annotations

import math

from generators import parameters
from generators.maintenance import EquipmentState, MaintenanceEvent, corrective_event, renew
from generators.reference import Reference


def calendar_failures(
    seed: int,
    reference: Reference,
    states: dict[str, EquipmentState],
    preventive: list[MaintenanceEvent],
    start: int,
    horizon: int,
) -> list[MaintenanceEvent]:
    """Corrective events of the always-on equipment in [start, horizon); `states` carry each one's remaining life
    from batch to batch."""
    failures = []
    for item in reference.equipment:
        if item.equipment_type not in parameters.CALENDAR_AGING_TYPES:
            continue
        state = states[item.equipment_id]
        renewals = sorted(event.started_at for event in preventive if event.equipment_id == item.equipment_id)
        modes = reference.failure_modes.get(item.equipment_type, ())
        now, index = start, 0
        while True:
            while index < len(renewals) and renewals[index] < now:
                index += 1  # preventive work planned while the room was being repaired: nothing left to renew
            failure_at = now + state.hours_to_failure * 60
            if index < len(renewals) and renewals[index] < min(failure_at, horizon):
                state.hours_to_failure -= (renewals[index] - now) / 60
                renew(seed, item, state)
                now = renewals[index]
                index += 1
                continue
            if failure_at >= horizon:
                state.hours_to_failure -= max(horizon - now, 0) / 60
                break
            event = corrective_event(seed, item, state, math.ceil(failure_at), modes)
            failures.append(event)
            renew(seed, item, state)
            now = event.ended_at
    return failures
