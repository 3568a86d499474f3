"""Reference data: the seed CSVs, read once into typed records the simulation works with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

from dataset_contract import SEEDS_DIR

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Product:
    product_id: str
    line_id: str
    input_material_id: str
    input_l_per_kg: float
    whey_l_per_kg: float
    moisture_target_pct: float
    ripening_days: int
    ideal_rate_kg_per_h: float
    # Days the cheese keeps from the day it is made: whether the planner can build stock ahead of a peak.
    shelf_life_days: int = 0


@dataclass(frozen=True)
class RecipeLine:
    material_id: str
    quantity_per_kg: float
    scrap_factor: float


@dataclass(frozen=True)
class Material:
    material_id: str
    category: str
    unit: str
    unit_cost_brl: float
    shelf_life_days: int
    lead_time_days: int
    is_internal: bool


@dataclass(frozen=True)
class Equipment:
    equipment_id: str
    line_id: str
    equipment_type: str
    is_shared: bool
    weibull_shape: float
    weibull_scale_h: float
    repair_median_h: float
    repair_log_sd: float
    preventive_interval_days: int
    preventive_duration_h: float


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    equipment_id: str
    measure: str
    spec_min: float
    spec_max: float
    nominal_value: float
    noise_sd: float
    physical_min: float
    physical_max: float


@dataclass(frozen=True)
class Meter:
    meter_id: str
    line_id: str | None
    load_type: str
    base_load_kw: float
    kwh_per_kg: float
    kw_per_degc_above_25c: float


@dataclass(frozen=True)
class ScenarioDefinition:
    scenario_id: str
    # The effect window is a calendar date (month, day of month) and a length, every year (seeds/scenarios.csv).
    effect_start_month: int | None
    effect_start_day_of_month: int | None
    effect_days: int | None
    milk_supply_factor: float
    demand_factor: float
    ambient_delta_degc: float
    breakdown_equipment_id: str | None


@dataclass(frozen=True)
class QualityTest:
    test_id: str
    spec_min: float
    spec_max: float


@dataclass(frozen=True)
class ShiftPattern:
    shift_id: str
    start_minute_of_day: int
    planned_min: int
    planned_cip_min: int


@dataclass(frozen=True)
class Reference:
    products: dict[str, Product]
    lines: tuple[str, ...]
    recipes: dict[str, tuple[RecipeLine, ...]]
    materials: dict[str, Material]
    equipment: tuple[Equipment, ...]
    failure_modes: dict[str, tuple[str, ...]]
    sensors: tuple[Sensor, ...]
    meters: tuple[Meter, ...]
    scenarios: dict[str, ScenarioDefinition]
    quality_tests: dict[str, tuple[QualityTest, ...]]
    rejection_detection_days: dict[str, int]
    # (line, ISO weekday) -> the shifts of that day, in shift order.
    shift_patterns: dict[tuple[str, int], tuple[ShiftPattern, ...]]
    holidays: frozenset[dt.date]

    def equipment_by_id(self) -> dict[str, Equipment]:
        return {item.equipment_id: item for item in self.equipment}


def _optional_int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)  # type: ignore[arg-type]


def _optional_str(value: object) -> str | None:
    return None if pd.isna(value) or value == "" else str(value)  # type: ignore[arg-type]


def _minute_of_day(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def load_reference(seeds_dir: Path = SEEDS_DIR) -> Reference:
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(seeds_dir / f"{name}.csv", keep_default_na=True)

    return Reference(
        products=_products(read("products")),
        lines=tuple(read("lines")["line_id"]),
        recipes=_grouped(
            (row.product_id, RecipeLine(row.material_id, float(row.quantity_per_kg), float(row.scrap_factor)))
            for row in read("recipe_lines").itertuples()
        ),
        materials=_materials(read("raw_materials")),
        equipment=_equipment(read("equipment")),
        failure_modes=_grouped((row.equipment_type, row.failure_mode_id) for row in read("failure_modes").itertuples()),
        sensors=_sensors(read("sensors")),
        meters=_meters(read("energy_meters")),
        scenarios=_scenarios(read("scenarios")),
        quality_tests=_grouped(
            (row.product_id, QualityTest(row.test_id, float(row.spec_min), float(row.spec_max)))
            for row in read("quality_tests").itertuples()
        ),
        rejection_detection_days={
            row.rejection_cause_id: int(row.typical_detection_days) for row in read("rejection_causes").itertuples()
        },
        shift_patterns=_shift_patterns(read("shifts"), read("line_shift_patterns")),
        holidays=frozenset(dt.date.fromisoformat(value) for value in read("holidays")["holiday_date"]),
    )


def _grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    """Values grouped by key, in the seed's row order."""
    groups: dict[K, list[V]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in groups.items()}


def _products(rows: pd.DataFrame) -> dict[str, Product]:
    return {
        row.product_id: Product(
            row.product_id,
            row.line_id,
            row.input_material_id,
            float(row.input_l_per_kg),
            float(row.whey_l_per_kg),
            float(row.moisture_target_pct),
            int(row.ripening_days),
            float(row.ideal_rate_kg_per_h),
            int(row.shelf_life_days),
        )
        for row in rows.itertuples()
    }


def _materials(rows: pd.DataFrame) -> dict[str, Material]:
    return {
        row.material_id: Material(
            row.material_id,
            row.category,
            row.unit,
            float(row.unit_cost_brl),
            int(row.shelf_life_days),
            int(row.lead_time_days),
            str(row.is_internal).lower() == "true",
        )
        for row in rows.itertuples()
    }


def _equipment(rows: pd.DataFrame) -> tuple[Equipment, ...]:
    return tuple(
        Equipment(
            row.equipment_id,
            row.line_id,
            row.equipment_type,
            str(row.is_shared).lower() == "true",
            float(row.weibull_shape),
            float(row.weibull_scale_h),
            float(row.repair_median_h),
            float(row.repair_log_sd),
            int(row.preventive_interval_days),
            float(row.preventive_duration_h),
        )
        for row in rows.itertuples()
    )


def _sensors(rows: pd.DataFrame) -> tuple[Sensor, ...]:
    return tuple(
        Sensor(
            row.sensor_id,
            row.equipment_id,
            row.measure,
            float(row.spec_min),
            float(row.spec_max),
            float(row.nominal_value),
            float(row.noise_sd),
            float(row.physical_min),
            float(row.physical_max),
        )
        for row in rows.itertuples()
    )


def _meters(rows: pd.DataFrame) -> tuple[Meter, ...]:
    return tuple(
        Meter(
            row.meter_id,
            _optional_str(row.line_id),
            row.load_type,
            float(row.base_load_kw),
            float(row.kwh_per_kg),
            float(row.kw_per_degc_above_25c),
        )
        for row in rows.itertuples()
    )


def _scenarios(rows: pd.DataFrame) -> dict[str, ScenarioDefinition]:
    return {
        row.scenario_id: ScenarioDefinition(
            row.scenario_id,
            _optional_int(row.effect_start_month),
            _optional_int(row.effect_start_day_of_month),
            _optional_int(row.effect_days),
            float(row.milk_supply_factor),
            float(row.demand_factor),
            float(row.ambient_delta_degc),
            _optional_str(row.breakdown_equipment_id),
        )
        for row in rows.itertuples()
    }


def _shift_patterns(shifts: pd.DataFrame, patterns: pd.DataFrame) -> dict[tuple[str, int], tuple[ShiftPattern, ...]]:
    """Each line's shifts of a weekday, in the order they start."""
    starts = {row.shift_id: _minute_of_day(row.start_time) for row in shifts.itertuples()}
    grouped = _grouped(
        (
            (row.line_id, int(row.iso_weekday)),
            ShiftPattern(row.shift_id, starts[row.shift_id], int(row.planned_min), int(row.planned_cip_min)),
        )
        for row in patterns.itertuples()
    )
    return {key: tuple(sorted(value, key=lambda item: item.start_minute_of_day)) for key, value in grouped.items()}
