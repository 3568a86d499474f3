"""One batch of one scenario: simulate the days, write every dataset, the manifest and the state to continue from."""

from __future__ import annotations

import json
from pathlib import Path

from dataset_contract import DATASETS
from generators import parameters
from generators.batch_output import ProgressHook, dataset_file, next_state, write_datasets
from generators.batch_spec import BatchSpec
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.maintenance import initial_state
from generators.orders import daily_demand_kg
from generators.reference import Reference
from generators.simulation import BatchSimulation, purchased_materials
from generators.state import STATE_FILE, PlantState
from generators.stock import Lot, round_purchase, supplier_names

MANIFEST_FILE = "manifest.json"
# Every file a batch folder gets.
BATCH_FILES = (*(dataset_file(dataset.name) for dataset in DATASETS), STATE_FILE, MANIFEST_FILE)


def simulate_batch(
    reference: Reference,
    spec: BatchSpec,
    previous: PlantState | None,
    progress: ProgressHook | None = None,
    folder: Path | None = None,
) -> dict[str, object]:
    """Simulate the batch and write it to `folder` (by default the spec's batch folder under its out_root)."""

    def report(label: str, done: int, total: int) -> None:
        if progress is not None:
            progress(label, done, total)

    usage = material_daily_usage(reference)
    suppliers = supplier_names(spec.seed, reference)
    state = previous if previous is not None else _opening_state(reference, spec, usage, suppliers)
    plant = BatchSimulation(reference, spec, state, usage, suppliers, fresh=previous is None)
    for day in range(spec.first_day, spec.last_day + 1):
        plant.run_day(day)
        report("plant simulation (days)", 1, spec.days)
    plant.finish()

    folder = spec.folder if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    outputs, pending = write_datasets(folder, plant, report)
    next_state(plant, pending).save(folder)
    manifest = {
        "scenario_id": spec.scenario_id,
        "seed": spec.seed,
        "first_date": date_of_day(spec.first_day).isoformat(),
        "last_date": date_of_day(spec.last_day).isoformat(),
        "iot_interval_min": spec.iot_interval_min,
        "scale": spec.scale,
        "continues": previous.batch_name if previous is not None else None,
        "datasets": {dataset.name: outputs[dataset.name] for dataset in DATASETS},
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def material_daily_usage(reference: Reference) -> dict[str, float]:
    demand = daily_demand_kg(reference)
    usage: dict[str, float] = {}
    for product_id, kg in demand.items():
        for line in reference.recipes[product_id]:
            usage[line.material_id] = usage.get(line.material_id, 0.0) + kg * line.quantity_per_kg * (
                1 + line.scrap_factor
            )
    return usage


def _opening_state(
    reference: Reference, spec: BatchSpec, usage: dict[str, float], suppliers: dict[str, str]
) -> PlantState:
    """A plant on its first day: opening stock of every purchased material, idle lines, no order yet."""
    first_minute = spec.first_day * MINUTES_PER_DAY
    lots = []
    for material_id in purchased_materials(reference):
        material = reference.materials[material_id]
        days = min(parameters.OPENING_STOCK_DAYS, 0.6 * material.shelf_life_days)
        quantity = round_purchase(usage.get(material_id, 0.0) * days, material.unit)
        lot = Lot(
            lot_id=f"LOT-{material_id}-{date_of_day(spec.first_day).strftime('%Y%m%d')}-OPEN",
            material_id=material_id,
            supplier_name=suppliers[material_id],
            source_order_id=None,
            received_at=first_minute,
            expires_at=(spec.first_day + material.shelf_life_days + 1) * MINUTES_PER_DAY,
            quantity=quantity,
            unit=material.unit,
            qc_status="released",
            unit_cost_brl=material.unit_cost_brl,
            remaining=quantity,
        )
        lots.append(lot)
    return PlantState(
        scenario_id=spec.scenario_id,
        seed=spec.seed,
        scale=spec.scale,
        iot_interval_min=spec.iot_interval_min,
        origin_day=spec.first_day,
        last_day=spec.first_day - 1,
        batch_name="",
        line_pointers=dict.fromkeys(reference.lines, first_minute),
        demand_backlog_kg={},
        line_free_at=dict.fromkeys(reference.lines, first_minute),
        line_last_product=dict.fromkeys(reference.lines),
        equipment={item.equipment_id: initial_state(spec.seed, item, spec.first_day) for item in reference.equipment},
        lots=lots,
        purchases_on_order=[],
        purchase_sequence={},
        orders=[],
        last_written_views={},
        pending_rows={},
        carried_runs=[],
        carried_events=[],
    )
