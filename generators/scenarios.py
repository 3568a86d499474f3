"""Scenario effects as functions of the simulated day, on calendar-anchored windows.

A scenario's effect window in seeds/scenarios.csv is a calendar date (effect_start_month, effect_start_day_of_month)
and a length (effect_days), repeated every year: the effect sits on its season (a milk shortage in the dry season, a
heatwave in the January summer, the December demand peak) whatever the simulation's start date. The dbt model
int_scenario_windows_dated dates the same windows for the marts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day, day_number
from generators.reference import ScenarioDefinition

# How many days before a window a suggested horizon starts: orders need two days to be released and the plant's
# opening stock a few more to settle, so the window is compared on a running plant.
SUGGESTED_LEAD_IN_DAYS = 14


@dataclass(frozen=True)
class Breakdown:
    equipment_id: str
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class EffectWindow:
    """One occurrence of a scenario's window: simulated day numbers, both inclusive."""

    first_day: int
    last_day: int

    @property
    def days(self) -> int:
        return self.last_day - self.first_day + 1

    def describe(self) -> str:
        return f"{date_of_day(self.first_day)} to {date_of_day(self.last_day)}"


def _window_of_year(definition: ScenarioDefinition, year: int) -> EffectWindow | None:
    month, day, length = definition.effect_start_month, definition.effect_start_day_of_month, definition.effect_days
    if month is None or day is None or length is None:
        return None
    try:
        start = day_number(dt.date(year, month, day))
    except ValueError as error:
        raise ValueError(
            f"scenario {definition.scenario_id}: effect start {month:02d}-{day:02d} is not a date every year has "
            f"({error}); seeds/scenarios.csv needs a month and day of month that exist in {year}"
        ) from None
    return EffectWindow(start, start + length - 1)


def effect_windows(definition: ScenarioDefinition, first_day: int, last_day: int) -> list[EffectWindow]:
    """Every occurrence of the scenario's window with a day in [first_day, last_day], in date order."""
    windows = []
    # A window may start in the year before the span (one that crosses New Year's Eve).
    for year in range(date_of_day(first_day).year - 1, date_of_day(last_day).year + 1):
        window = _window_of_year(definition, year)
        if window is not None and window.last_day >= first_day and window.first_day <= last_day:
            windows.append(window)
    return windows


def describe_window(definition: ScenarioDefinition) -> str:
    start = dt.date(2001, definition.effect_start_month or 1, definition.effect_start_day_of_month or 1)
    return f"{definition.effect_days} days from {start.day} {start.strftime('%B')} every year"


def horizon_check(
    definition: ScenarioDefinition, first_day: int, last_day: int, continued_from_day: int | None = None
) -> tuple[str | None, str | None]:
    """(error, warning) for a scenario simulated over [first_day, last_day] (its whole horizon, continuations too;
    continued_from_day is the first day of a continuing batch, for the advice).

    An error when no day of its effect window lies in the horizon: the scenario would be a silent copy of the
    baseline. A warning when the horizon holds only part of every window it touches. The baseline, without a
    window, never errs.
    """
    if _window_of_year(definition, date_of_day(first_day).year) is None:
        return None, None
    horizon = EffectWindow(first_day, last_day)
    touched = effect_windows(definition, first_day, last_day)
    if not touched:
        upcoming = next(
            window for window in effect_windows(definition, first_day, last_day + 370) if window.first_day > last_day
        )
        lead_start = upcoming.first_day - SUGGESTED_LEAD_IN_DAYS
        if continued_from_day is not None:
            fixes = f"--continue --days {upcoming.last_day - continued_from_day + 1}"
        else:
            fixes = (
                f"--days {upcoming.last_day - first_day + 1} from {date_of_day(first_day)}, or --start-date "
                f"{date_of_day(lead_start)} --days {upcoming.last_day - lead_start + 1}"
            )
        return (
            f"scenario {definition.scenario_id}: its effect window ({describe_window(definition)}) is not in the "
            f"simulated horizon {horizon.describe()}, so the scenario would be a silent copy of the baseline. "
            f"Cover a window, e.g. {upcoming.describe()}: {fixes}; or leave {definition.scenario_id} out of --scenario",
            None,
        )
    if all(window.first_day < first_day or window.last_day > last_day for window in touched):
        partial = touched[0]
        inside = min(partial.last_day, last_day) - max(partial.first_day, first_day) + 1
        return None, (
            f"scenario {definition.scenario_id}: the horizon {horizon.describe()} holds {inside} of the "
            f"{partial.days} days of its effect window {partial.describe()}; its effect-window KPIs cover those "
            "days only"
        )
    return None, None


@dataclass(frozen=True)
class ScenarioEffects:
    definition: ScenarioDefinition

    @property
    def scenario_id(self) -> str:
        return self.definition.scenario_id

    def _applies(self, day: int) -> bool:
        return bool(effect_windows(self.definition, day, day))

    def milk_supply_factor(self, day: int) -> float:
        return self.definition.milk_supply_factor if self._applies(day) else 1.0

    def demand_factor(self, day: int) -> float:
        return self.definition.demand_factor if self._applies(day) else 1.0

    def ambient_delta(self, day: int) -> float:
        return self.definition.ambient_delta_degc if self._applies(day) else 0.0

    def breakdowns(self, first_day: int, last_day: int) -> list[Breakdown]:
        """The scenario's breakdowns that start in, or last into, the days [first_day, last_day]."""
        equipment_id = self.definition.breakdown_equipment_id
        if equipment_id is None:
            return []
        found = []
        for window in effect_windows(self.definition, first_day - 1, last_day):
            start = window.first_day * MINUTES_PER_DAY + parameters.BREAKDOWN_START_HOUR * 60
            found.append(Breakdown(equipment_id, start, start + window.days * MINUTES_PER_DAY))
        return found
