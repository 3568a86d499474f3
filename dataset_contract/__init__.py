"""The event datasets: one CSV per dataset and scenario, one table in the `raw` schema each.

This registry is the single contract between the generators (column order of the CSVs), the loader
(table DDL, type and rule checks) and the documentation. The dbt sources describe the same columns. It sits apart
from both the simulation (`generators`) and the tool (`queijaria`), so that neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# The reference data (dbt seeds): what the simulation runs the plant from and what loaded keys must exist in.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class Bounds:
    """The plausible range of a numeric column: a value outside it (NaN and infinities included) is refused at load.

    The bounds are wide on purpose: they stop absurd magnitudes (1e300, a misplaced exponent) and non-finite
    numbers, never a real value, however extreme.
    """

    low: float
    high: float
    what: str  # what the column holds, for messages: "a quantity (kg, L, mL, g or units)"


# One range per kind of column; a billion of any unit is beyond every lot, order and issue of a plant.
QUANTITY = Bounds(0, 1e9, "a quantity (kg, L, mL, g or units)")
PERCENT = Bounds(0, 100, "a percentage")
THOUSANDS_PER_ML = Bounds(0, 1e6, "a count in thousands per mL")
UNIT_COST = Bounds(0, 1e6, "a unit cost in R$")
INTERVAL_KWH = Bounds(0, 1e6, "the energy of a 15-minute interval in kWh")
SHIFT_MINUTES = Bounds(0, 1440, "minutes of a shift")
PRIORITY = Bounds(1, 5, "a priority (1 to 5)")
AMBIENT_DEGC = Bounds(-90, 60, "an outdoor temperature in °C")
SENSOR_READING = Bounds(-1e6, 1e6, "a sensor reading (°C, pH, %, s)")
LAB_RESULT = Bounds(-1e12, 1e12, "a laboratory result (%, pH or CFU/g)")

# Plausible dates and times of plant data: a year outside is a typo (20250) or a placeholder (1900, 9999).
FIRST_PLAUSIBLE_DATE = date(1990, 1, 1)
LAST_PLAUSIBLE_DATE = date(2200, 12, 31)
TIME_TYPES = ("timestamp", "date")
# Identifiers are short codes; a longer text is a shifted column or garbage (and would not fit a btree key).
MAX_IDENTIFIER_LENGTH = 100
# What counts as blank around an identifier (ASCII whitespace, the same set in SQL and in Python).
BLANK = " \t\n\r\f\v"


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    description: str
    nullable: bool = False
    bounds: Bounds | None = None
    # (seed table, seed column) that every non-null value must exist in.
    references: tuple[str, str] | None = None
    # (dataset, column) of another event dataset of the same scenario that every non-null value must exist in.
    foreign_key: tuple[str, str] | None = None

    @property
    def non_negative(self) -> bool:
        return self.bounds is not None and self.bounds.low >= 0

    @property
    def is_identifier(self) -> bool:
        """A text id (`*_id`) checked at load to be non-blank and short; seed keys are checked against the seed."""
        return self.pg_type == "text" and self.name.endswith("_id") and self.references is None


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
    # Why every batch, even of one day, has rows of this dataset; None when a short batch may have none.
    # A header-only file of such a dataset is refused: loaded, it would silently empty the scenario's table.
    always_has_rows: str | None = None
    # Secondary indexes (columns, in order) that dbt's incremental models read through: an incremental run then
    # reads the rows after its watermark, not the scenario's whole history.
    indexes: tuple[tuple[str, ...], ...] = ()
    # Rows are dated by the day they plan (event_time_column, a date): each belongs to the batch of its day, and a
    # row dated outside the batch's first..last date is refused at load.
    is_dated_within_batch: bool = False

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
            Column(
                "planned_min", "integer", "Planned operation time (POT) of the shift, minutes.", bounds=SHIFT_MINUTES
            ),
            Column(
                "planned_downtime_min",
                "integer",
                "Planned downtime inside the shift (CIP, changeovers), minutes.",
                bounds=SHIFT_MINUTES,
            ),
        ),
        primary_key=("scenario_id", "line_id", "calendar_date", "shift_id"),
        event_time_column="calendar_date",
        always_has_rows="every date has its lines' shifts",
        is_dated_within_batch=True,
    ),
    # May be empty in a short batch: a material is reordered only when its stock runs low.
    Dataset(
        name="purchase_orders",
        source_system="erp",
        grain="one row per scenario and purchase order placed with a supplier",
        columns=(
            SCENARIO,
            Column("purchase_order_id", "text", "Purchase order identifier."),
            Column("material_id", "text", "Material ordered.", references=("raw_materials", "material_id")),
            Column("supplier_name", "text", "Supplier the order was placed with."),
            Column("ordered_at", "timestamp", "When the order was placed (the daily reorder review)."),
            Column(
                "due_at",
                "timestamp",
                "Delivery agreed with the supplier: a scheduled receipt until its lot arrives (stock_lots."
                "purchase_order_id).",
            ),
            Column("quantity", "numeric", "Quantity ordered, in the material's unit.", bounds=QUANTITY),
            Column("unit", "text", "Unit of measure of quantity (L, kg, mL, g, un)."),
        ),
        primary_key=("scenario_id", "purchase_order_id"),
        event_time_column="ordered_at",
        indexes=(("scenario_id", "due_at"),),
        accepted_values={"unit": ("L", "kg", "mL", "g", "un")},
    ),
    Dataset(
        name="milk_collection_plan",
        source_system="erp",
        grain="one row per scenario, collection date and milk route",
        columns=(
            SCENARIO,
            Column("collection_date", "date", "Day the route collects milk from its farms."),
            Column("route_id", "text", "Milk collection route (a truck's round of farms)."),
            Column("planned_at", "timestamp", "When the plan was issued (the afternoon before)."),
            Column(
                "expected_at",
                "timestamp",
                "When the route's milk is expected at the plant: the planned arrival of its last farm.",
            ),
            Column(
                "planned_l",
                "numeric",
                "Milk the route is expected to bring, L: its farms' contracted volume for the season and supply "
                "conditions, before the day's variation, heat stress and refusals at reception.",
                bounds=QUANTITY,
            ),
            Column("farm_count", "integer", "Farms on the route.", bounds=Bounds(0, 1e6, "a number of farms")),
        ),
        primary_key=("scenario_id", "collection_date", "route_id"),
        event_time_column="collection_date",
        always_has_rows="milk is collected every day",
        is_dated_within_batch=True,
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
            Column(
                "source_order_id",
                "text",
                "Production order that produced an internal lot (whey).",
                nullable=True,
                foreign_key=("production_orders", "order_id"),
            ),
            Column("received_at", "timestamp", "When the lot entered stock."),
            Column(
                "expires_at",
                "timestamp",
                "When the lot expires (usable up to that instant): raw milk 48 h after reception, other lots at"
                " midnight after the last day of their shelf life.",
            ),
            Column("quantity", "numeric", "Quantity received, in the material's unit.", bounds=QUANTITY),
            Column("unit", "text", "Unit of measure of quantity (L, kg, mL, g, un)."),
            Column("qc_status", "text", "Quality-control status: released, pending or rejected."),
            Column("unit_cost_brl", "numeric", "Cost per unit, R$.", bounds=UNIT_COST),
            Column("fat_pct", "numeric", "Milk fat, % (milk lots only).", nullable=True, bounds=PERCENT),
            Column("protein_pct", "numeric", "Milk protein, % (milk lots only).", nullable=True, bounds=PERCENT),
            Column(
                "cbt_thousand_cfu_per_ml",
                "numeric",
                "Total bacterial count (CBT), thousand CFU/mL (milk lots only).",
                nullable=True,
                bounds=THOUSANDS_PER_ML,
            ),
            Column(
                "ccs_thousand_cells_per_ml",
                "numeric",
                "Somatic cell count (CCS), thousand cells/mL (milk lots only).",
                nullable=True,
                bounds=THOUSANDS_PER_ML,
            ),
            Column(
                "purchase_order_id",
                "text",
                "Purchase order the lot was delivered against; null for milk, whey and the opening stock.",
                nullable=True,
                foreign_key=("purchase_orders", "purchase_order_id"),
            ),
            Column(
                "route_id",
                "text",
                "Collection route that brought a milk lot; null for other materials.",
                nullable=True,
                foreign_key=("milk_collection_plan", "route_id"),
            ),
        ),
        primary_key=("scenario_id", "lot_id"),
        event_time_column="received_at",
        always_has_rows="milk is received every day",
        indexes=(
            ("scenario_id", "received_at"),
            ("scenario_id", "material_id", "expires_at"),
            ("scenario_id", "expires_at"),
            ("scenario_id", "loaded_at"),
        ),
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
            Column("priority", "integer", "1 (most urgent) to 5.", bounds=PRIORITY),
            Column("planned_kg", "numeric", "Planned quantity, kg.", bounds=QUANTITY),
            Column("status", "text", "planned, released, in_progress, completed or cancelled."),
            Column("actual_start_at", "timestamp", "Actual start.", nullable=True),
            Column("actual_end_at", "timestamp", "Actual end.", nullable=True),
            Column("produced_kg", "numeric", "Quantity produced, kg.", nullable=True, bounds=QUANTITY),
            Column("good_kg", "numeric", "Quantity produced that passed quality, kg.", nullable=True, bounds=QUANTITY),
            Column(
                "cancelled_at",
                "timestamp",
                "When the order was cancelled; its reserved stock returns to its lots at that instant.",
                nullable=True,
            ),
            Column(
                "replaces_order_id",
                "text",
                "The cancelled order this one replaces (the planner rescheduled it).",
                nullable=True,
                foreign_key=("production_orders", "order_id"),
            ),
        ),
        primary_key=("scenario_id", "order_id"),
        event_time_column="created_at",
        always_has_rows="orders are created or change status every day",
        # cancelled_at: the reservation reads the cancellations since its watermark (DOMAIN.md §3).
        indexes=(
            ("scenario_id", "released_at"),
            ("scenario_id", "created_at"),
            ("scenario_id", "cancelled_at"),
            ("scenario_id", "actual_start_at"),
            ("scenario_id", "loaded_at"),
        ),
        accepted_values={"status": ("planned", "released", "in_progress", "completed", "cancelled")},
    ),
    # May be empty in a short batch: no production on Sundays nor on the first day of a simulation.
    Dataset(
        name="material_consumptions",
        source_system="erp",
        grain="one row per scenario and material issue from a lot to an order",
        columns=(
            SCENARIO,
            Column("consumption_id", "text", "Consumption identifier."),
            Column(
                "order_id", "text", "Order that consumed the material.", foreign_key=("production_orders", "order_id")
            ),
            Column("lot_id", "text", "Lot the material was taken from.", foreign_key=("stock_lots", "lot_id")),
            Column("material_id", "text", "Material consumed.", references=("raw_materials", "material_id")),
            Column("consumed_at", "timestamp", "When the material was issued."),
            Column("quantity", "numeric", "Quantity consumed, in the material's unit.", bounds=QUANTITY),
            Column(
                "deviation_reason",
                "text",
                "Why the lot issued was not one the ERP reserved for the order (null when it was, DOMAIN.md §3): "
                "over_requirement (the batch took more than the bill of materials: fill allowance, scrap, a top-up "
                "for poor milk), short_at_start (the order started with part of its requirement open), "
                "reserved_lot_expired, reserved_lot_rejected or reserved_lot_short_on_the_floor.",
                nullable=True,
            ),
        ),
        primary_key=("scenario_id", "consumption_id"),
        event_time_column="consumed_at",
        # The reservation reads the issues since its watermark, a lot's issues when it carries its balance, and the
        # rows loaded since its last run when it looks for late events.
        indexes=(("scenario_id", "consumed_at"), ("scenario_id", "lot_id"), ("scenario_id", "loaded_at")),
        accepted_values={
            "deviation_reason": (
                "over_requirement",
                "short_at_start",
                "reserved_lot_expired",
                "reserved_lot_rejected",
                "reserved_lot_short_on_the_floor",
            )
        },
    ),
    # May be empty in a short batch: a lot leaves this way only when refused at reception or left over at expiry.
    Dataset(
        name="stock_movements",
        source_system="erp",
        grain="one row per scenario and stock movement out of a lot other than a consumption (spot sale, discard)",
        columns=(
            SCENARIO,
            Column("movement_id", "text", "Stock movement identifier."),
            Column("lot_id", "text", "Lot the quantity leaves.", foreign_key=("stock_lots", "lot_id")),
            Column("material_id", "text", "Material of the lot.", references=("raw_materials", "material_id")),
            Column(
                "movement_type",
                "text",
                "spot_sale (raw milk sold to another dairy, 'leite spot'; whey sold for animal feed) or discard "
                "(refused at reception, or left over at expiry and not sold).",
            ),
            Column("moved_at", "timestamp", "When the quantity left the lot."),
            Column("quantity", "numeric", "Quantity moved out, in the material's unit.", bounds=QUANTITY),
            Column(
                "unit_price_brl",
                "numeric",
                "Price per unit of a spot sale, R$; null for a discard.",
                nullable=True,
                bounds=UNIT_COST,
            ),
        ),
        primary_key=("scenario_id", "movement_id"),
        event_time_column="moved_at",
        # The reservation reads the movements since its watermark, a lot's movements when it carries its balance, and
        # the rows loaded since its last run when it looks for late events.
        indexes=(("scenario_id", "moved_at"), ("scenario_id", "lot_id"), ("scenario_id", "loaded_at")),
        accepted_values={"movement_type": ("spot_sale", "discard")},
    ),
    # May be empty in a short batch: most days have no maintenance.
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
            Column(
                "value",
                "double precision",
                "Reading, in the sensor's unit (see the sensors seed).",
                bounds=SENSOR_READING,
            ),
            Column(
                "is_equipment_idle",
                "boolean",
                "Whether the sensor's process equipment was idle or down (no order running): such a reading follows "
                "the equipment towards ambient and is never an excursion. Always false for rooms and brine.",
            ),
        ),
        primary_key=("scenario_id", "sensor_id", "read_at"),
        event_time_column="read_at",
        always_has_rows="the sensors read around the clock",
    ),
    Dataset(
        name="energy_readings",
        source_system="scada",
        grain="one row per scenario, meter and 15-minute interval",
        columns=(
            SCENARIO,
            Column("meter_id", "text", "Energy meter.", references=("energy_meters", "meter_id")),
            Column("interval_start_at", "timestamp", "Start of the 15-minute interval."),
            Column("kwh", "numeric", "Active energy in the interval, kWh.", bounds=INTERVAL_KWH),
        ),
        primary_key=("scenario_id", "meter_id", "interval_start_at"),
        event_time_column="interval_start_at",
        always_has_rows="the meters record every 15 minutes",
    ),
    Dataset(
        name="weather_daily",
        source_system="scada",
        grain="one row per scenario and date (plant weather station)",
        columns=(
            SCENARIO,
            Column("weather_date", "date", "Date."),
            Column("ambient_mean_degc", "numeric", "Mean outdoor temperature, °C.", bounds=AMBIENT_DEGC),
            Column("ambient_max_degc", "numeric", "Maximum outdoor temperature, °C.", bounds=AMBIENT_DEGC),
        ),
        primary_key=("scenario_id", "weather_date"),
        event_time_column="weather_date",
        always_has_rows="the weather station records every date",
        is_dated_within_batch=True,
    ),
    # May be empty in a short batch: samples follow finished orders: none on Sundays nor on a simulation's first day.
    Dataset(
        name="quality_samples",
        source_system="lims",
        grain="one row per scenario and laboratory test result of an order",
        columns=(
            SCENARIO,
            Column("sample_id", "text", "Sample result identifier."),
            Column("order_id", "text", "Order sampled.", foreign_key=("production_orders", "order_id")),
            Column("test_id", "text", "Test: moisture, fat, ph, salt or coliforms."),
            Column("sampled_at", "timestamp", "When the sample was taken."),
            Column("value", "numeric", "Result, in the test's unit (see the quality_tests seed).", bounds=LAB_RESULT),
            Column("is_pass", "boolean", "Whether the result is within the product's specification."),
        ),
        primary_key=("scenario_id", "sample_id"),
        event_time_column="sampled_at",
        accepted_values={"test_id": ("moisture", "fat", "ph", "salt", "coliforms")},
    ),
    # May be empty in a short batch: most days reject nothing.
    Dataset(
        name="quality_rejections",
        source_system="lims",
        grain="one row per scenario and rejection of part of an order",
        columns=(
            SCENARIO,
            Column("rejection_id", "text", "Rejection identifier."),
            Column("order_id", "text", "Order rejected from.", foreign_key=("production_orders", "order_id")),
            Column("detected_at", "timestamp", "When the defect was found."),
            Column("rejected_kg", "numeric", "Quantity rejected, kg.", bounds=QUANTITY),
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
