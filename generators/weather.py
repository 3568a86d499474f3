"""Daily weather at the plant and the minute-by-minute outdoor temperature derived from it."""

from __future__ import annotations

import math

import numpy as np

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.scenarios import ScenarioEffects


def daily_weather(seed: int, effects: ScenarioEffects, first_day: int, last_day: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, max) outdoor temperature per day, °C; the scenario's ambient delta is added on its days."""
    days = np.arange(first_day, last_day + 1)
    means = np.empty(len(days))
    maxima = np.empty(len(days))
    for index, day in enumerate(days):
        day_of_year = date_of_day(int(day)).timetuple().tm_yday
        # Southern hemisphere: hottest mid-January, coolest mid-July.
        seasonal = parameters.AMBIENT_ANNUAL_MEAN_DEGC + parameters.AMBIENT_SEASONAL_AMPLITUDE_DEGC * math.cos(
            2 * math.pi * (day_of_year - 15) / 365.25
        )
        draws = stream(seed, "weather", int(day)).normal(size=2)
        delta = effects.ambient_delta(int(day))
        means[index] = seasonal + parameters.AMBIENT_DAILY_NOISE_SD * draws[0] + delta
        maxima[index] = means[index] + parameters.AMBIENT_DAILY_RANGE_DEGC + 0.8 * draws[1]
    return np.round(means, 1), np.round(maxima, 1)


def ambient_by_minute(means: np.ndarray, maxima: np.ndarray, minutes_from_first_day: np.ndarray) -> np.ndarray:
    """Outdoor temperature at each minute offset: a daily cosine peaking mid-afternoon around the day's mean."""
    day_index = np.minimum(minutes_from_first_day // MINUTES_PER_DAY, len(means) - 1)
    hour = (minutes_from_first_day % MINUTES_PER_DAY) / 60.0
    swing = maxima[day_index] - means[day_index]
    return means[day_index] + swing * np.cos(2 * np.pi * (hour - parameters.AMBIENT_PEAK_HOUR) / 24.0)


def herd_heat_excess(seed: int, effects: ScenarioEffects, first_day: int, last_day: int) -> np.ndarray:
    """Heat stress of the herds per day, °C of daily mean above their comfort threshold.

    A day's milk comes from the evening and morning milkings, so it carries the heat of that day and the one before.
    """
    means, _ = daily_weather(seed, effects, first_day - 1, last_day)
    excess = np.maximum(means - parameters.HERD_HEAT_THRESHOLD_DEGC, 0.0)
    return 0.5 * (excess[1:] + excess[:-1])
