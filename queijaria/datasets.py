"""The event datasets: one CSV per dataset and scenario, one table in the `raw` schema each.

This registry is the single contract between the generators (column order of the CSVs), the loader
(table DDL, type and rule checks) and the documentation. The dbt sources describe the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    description: str
    nullable: bool = False
    non_negative: bool = False
    # (seed table, seed column) that every non-null value must exist in.
    references: tuple[str, str] | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    source_system: str
    grain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    # The timestamp or date column that places a row in the simulated calendar (used for day-range loads).
    event_time_column: str
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def table(self) -> str:
        return f"raw.{self.name}"


SCENARIO = Column("scenario_id", "text", "Scenario the row belongs to.", references=("scenarios", "scenario_id"))

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="capacity_calendar",
        source_system="erp",
        grain="one row per scenario, line, calendar date and shift",
        columns=(
            SCENARIO,
            Column("line_id", "text", "Production line.", references=("lines", "line_id")),
            Column("calendar_date", "date", "Production date (the shift's start date)."),
            Column("shift_id", "text", "Shift.", references=("shifts", "shift_id")),
            Column("planned_min", "integer", "Planned operation time (POT) of the shift, minutes.", non_negative=True),
            Column(
                "planned_downtime_min",
                "integer",
                "Planned downtime inside the shift (CIP, changeovers), minutes.",
                non_negative=True,
            ),
        ),
        primary_key=("scenario_id", "line_id", "calendar_date", "shift_id"),
        event_time_column="calendar_date",
    ),
    Dataset(
        name="stock_lots",
        source_system="erp",
        grain="one row per scenario and stock lot received (milk receptions, purchases, whey produced)",
        columns=(
            SCENARIO,
            Column("lot_id", "text", "Lot identifier."),
            Column("material_id", "text", "Material of the lot.", references=("raw_materials", "material_id")),
            Column("supplier_name", "text", "Farm or supplier; null for internal whey lots.", nullable=True),
            Column("source_order_id", "text", "Production order that produced an internal lot (whey).", nullable=True),
            Column("received_at", "timestamp", "When the lot entered stock."),
            Column("expiry_date", "date", "Last day the lot may be used."),
            Column("quantity", "numeric", "Quantity received, in the material's unit.", non_negative=True),
            Column("unit", "text", "Unit of measure of quantity (L, kg, mL, g, un)."),
            Column("qc_status", "text", "Quality-control status: released, pending or rejected."),
            Column("unit_cost_brl", "numeric", "Cost per unit, R$.", non_negative=True),
            Column("fat_pct", "numeric", "Milk fat, % (milk lots only).", nullable=True, non_negative=True),
            Column("protein_pct", "numeric", "Milk protein, % (milk lots only).", nullable=True, non_negative=True),
            Column(
                "cbt_thousand_cfu_per_ml",
                "numeric",
                "Total bacterial count (CBT), thousand CFU/mL (milk lots only).",
                nullable=True,
                non_negative=True,
            ),
            Column(
                "ccs_thousand_cells_per_ml",
                "numeric",
                "Somatic cell count (CCS), thousand cells/mL (milk lots only).",
                nullable=True,
                non_negative=True,
            ),
        ),
        primary_key=("scenario_id", "lot_id"),
        event_time_column="received_at",
        accepted_values={"qc_status": ("released", "pending", "rejected"), "unit": ("L", "kg", "mL", "g", "un")},
    ),
    Dataset(
        name="production_orders",
        source_system="erp",
        grain="one row per scenario and production order",
        columns=(
            SCENARIO,
            Column("order_id", "text", "Production order identifier."),
            Column("product_id", "text", "Product to make.", references=("products", "product_id")),
            Column("line_id", "text", "Line the order is scheduled on.", references=("lines", "line_id")),
            Column("created_at", "timestamp", "When the order was created."),
            Column("released_at", "timestamp", "When the order was released (stock is reserved then).", nullable=True),
            Column("planned_start_at", "timestamp", "Planned start."),
            Column("planned_end_at", "timestamp", "Planned end."),
            Column("due_date", "date", "Date the order is due."),
            Column("priority", "integer", "1 (most urgent) to 5.", non_negative=True),
            Column("planned_kg", "numeric", "Planned quantity, kg.", non_negative=True),
            Column("status", "text", "planned, released, in_progress, completed or cancelled."),
            Column("actual_start_at", "timestamp", "Actual start.", nullable=True),
            Column("actual_end_at", "timestamp", "Actual end.", nullable=True),
            Column("produced_kg", "numeric", "Quantity produced, kg.", nullable=True, non_negative=True),
            Column(
                "good_kg", "numeric", "Quantity produced that passed quality, kg.", nullable=True, non_negative=True
            ),
        ),
        primary_key=("scenario_id", "order_id"),
        event_time_column="created_at",
        accepted_values={"status": ("planned", "released", "in_progress", "completed", "cancelled")},
    ),
    Dataset(
        name="material_consumptions",
        source_system="erp",
        grain="one row per scenario and material issue from a lot to an order",
        columns=(
            SCENARIO,
            Column("consumption_id", "text", "Consumption identifier."),
            Column("order_id", "text", "Order that consumed the material."),
            Column("lot_id", "text", "Lot the material was taken from."),
            Column("material_id", "text", "Material consumed.", references=("raw_materials", "material_id")),
            Column("consumed_at", "timestamp", "When the material was issued."),
            Column("quantity", "numeric", "Quantity consumed, in the material's unit.", non_negative=True),
        ),
        primary_key=("scenario_id", "consumption_id"),
        event_time_column="consumed_at",
    ),
    Dataset(
        name="maintenance_events",
        source_system="cmms",
        grain="one row per scenario and maintenance intervention",
        columns=(
            SCENARIO,
            Column("maintenance_event_id", "text", "Maintenance event identifier."),
            Column("equipment_id", "text", "Equipment maintained.", references=("equipment", "equipment_id")),
            Column("maintenance_type", "text", "preventive (planned) or corrective (failure)."),
            Column("started_at", "timestamp", "Start of the downtime."),
            Column("ended_at", "timestamp", "End of the downtime."),
            Column(
                "failure_mode_id",
                "text",
                "Failure mode of a corrective event; null for preventive.",
                nullable=True,
                references=("failure_modes", "failure_mode_id"),
            ),
        ),
        primary_key=("scenario_id", "maintenance_event_id"),
        event_time_column="started_at",
        accepted_values={"maintenance_type": ("preventive", "corrective")},
    ),
    Dataset(
        name="iot_readings",
        source_system="scada",
        grain="one row per scenario, sensor and reading time",
        columns=(
            SCENARIO,
            Column("sensor_id", "text", "Sensor.", references=("sensors", "sensor_id")),
            Column("read_at", "timestamp", "Reading time."),
            Column("value", "double precision", "Reading, in the sensor's unit (see the sensors seed)."),
        ),
        primary_key=("scenario_id", "sensor_id", "read_at"),
        event_time_column="read_at",
    ),
    Dataset(
        name="energy_readings",
        source_system="scada",
        grain="one row per scenario, meter and 15-minute interval",
        columns=(
            SCENARIO,
            Column("meter_id", "text", "Energy meter.", references=("energy_meters", "meter_id")),
            Column("interval_start_at", "timestamp", "Start of the 15-minute interval."),
            Column("kwh", "numeric", "Active energy in the interval, kWh.", non_negative=True),
        ),
        primary_key=("scenario_id", "meter_id", "interval_start_at"),
        event_time_column="interval_start_at",
    ),
    Dataset(
        name="weather_daily",
        source_system="scada",
        grain="one row per scenario and date (plant weather station)",
        columns=(
            SCENARIO,
            Column("weather_date", "date", "Date."),
            Column("ambient_mean_degc", "numeric", "Mean outdoor temperature, °C."),
            Column("ambient_max_degc", "numeric", "Maximum outdoor temperature, °C."),
        ),
        primary_key=("scenario_id", "weather_date"),
        event_time_column="weather_date",
    ),
    Dataset(
        name="quality_samples",
        source_system="lims",
        grain="one row per scenario and laboratory test result of an order",
        columns=(
            SCENARIO,
            Column("sample_id", "text", "Sample result identifier."),
            Column("order_id", "text", "Order sampled."),
            Column("test_id", "text", "Test: moisture, fat, ph, salt or coliforms."),
            Column("sampled_at", "timestamp", "When the sample was taken."),
            Column("value", "numeric", "Result, in the test's unit (see the quality_tests seed)."),
            Column("is_pass", "boolean", "Whether the result is within the product's specification."),
        ),
        primary_key=("scenario_id", "sample_id"),
        event_time_column="sampled_at",
        accepted_values={"test_id": ("moisture", "fat", "ph", "salt", "coliforms")},
    ),
    Dataset(
        name="quality_rejections",
        source_system="lims",
        grain="one row per scenario and rejection of part of an order",
        columns=(
            SCENARIO,
            Column("rejection_id", "text", "Rejection identifier."),
            Column("order_id", "text", "Order rejected from."),
            Column("detected_at", "timestamp", "When the defect was found."),
            Column("rejected_kg", "numeric", "Quantity rejected, kg.", non_negative=True),
            Column(
                "rejection_cause_id",
                "text",
                "Cause of rejection.",
                references=("rejection_causes", "rejection_cause_id"),
            ),
        ),
        primary_key=("scenario_id", "rejection_id"),
        event_time_column="detected_at",
    ),
)

BY_NAME: dict[str, Dataset] = {dataset.name: dataset for dataset in DATASETS}
