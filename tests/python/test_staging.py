"""Staging models of the raw tables: sources follow the dataset contract, the build passes on loaded data, tests
bite."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from dataset_contract import DATASETS
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.loading import load
from queijaria.loading.sample_batch import write_batch

STAGING = PROJECT_ROOT / "models" / "staging"
SELECTION = ["-s", "staging.erp", "staging.cmms", "staging.scada", "staging.lims", "path:tests/staging"]

RESERVATION_CONTRACT = {
    "stg_erp__stock_lots": "lot_key, scenario_id, lot_id, material_id, supplier_name, source_order_id, "
    "purchase_order_id, route_id, received_at, expires_at, quantity, unit, qc_status, is_qc_released, unit_cost_brl, "
    "fat_pct, protein_pct, cbt_thousand_cfu_per_ml, ccs_thousand_cells_per_ml, loaded_at",
    "stg_erp__production_orders": "order_key, scenario_id, order_id, product_id, line_id, created_at, released_at, "
    "planned_start_at, planned_end_at, due_date, priority, planned_kg, status, actual_start_at, actual_end_at, "
    "produced_kg, good_kg, cancelled_at, replaces_order_id, loaded_at",
}


def test_sources_document_every_raw_column_with_freshness() -> None:
    for dataset in DATASETS:
        path = STAGING / dataset.source_system / f"_{dataset.source_system}__sources.yml"
        (source,) = yaml.safe_load(path.read_text())["sources"]
        assert source["name"] == dataset.source_system and source["schema"] == "raw"
        assert source["config"]["loaded_at_field"] == "loaded_at" and source["config"]["freshness"]
        (table,) = [t for t in source["tables"] if t["name"] == dataset.name]
        assert [c["name"] for c in table["columns"]] == [*dataset.column_names, "loaded_at"]
        assert all(c.get("description") for c in table["columns"])


def test_every_staging_model_documents_a_tested_primary_key() -> None:
    for path in STAGING.glob("[!r]*/_*__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            key = model["columns"][0]
            assert key["name"].endswith("_key") and "Primary key" in key["description"], model["name"]
            # a test is its name, or a one-key mapping of its name to its arguments and config
            assert {"unique", "not_null"} <= {t if isinstance(t, str) else next(iter(t)) for t in key["data_tests"]}
            sql_path = path.parent / f"{model['name']}.sql"
            assert {c["name"] for c in model["columns"]} == set(_selected_columns(sql_path)), model["name"]


def _selected_columns(path: Path) -> list[str]:
    renamed = path.read_text().split("renamed as (", 1)[1]
    body = renamed.split("from source", 1)[0]
    return [name for name in re.findall(r"(?:\bas|^\s+)\s*(\w+),?\s*$", body, flags=re.M) if name != "select"]


@pytest.mark.slow
def test_staging_builds_on_loaded_batches_and_tests_catch_bad_rows(
    database: ConnectionSettings, dbt, tmp_path: Path
) -> None:
    write_batch(tmp_path, "baseline", date(2025, 1, 1), date(2025, 1, 3))
    write_batch(tmp_path, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues="2025-01-01_2025-01-03")
    write_batch(tmp_path, "heatwave", date(2025, 1, 1), date(2025, 1, 2))
    load(tmp_path, settings=database)
    dbt("seed")
    dbt("build", "-s", "staging.reference", "--indirect-selection", "cautious")
    dbt("build", *SELECTION, "--indirect-selection", "cautious")

    conn = connect(database)
    with conn.cursor() as cursor:
        for model, columns in RESERVATION_CONTRACT.items():
            cursor.execute(f"select * from staging.{model} limit 0")
            assert ", ".join(d.name for d in cursor.description) == columns
        # A reading beyond its sensor's physical limits (the loader does not judge values) must fail the build;
        # placed among the newest readings, which a build judges (var iot_readings_tested_days), whatever else the
        # session's database holds.
        cursor.execute(
            "insert into raw.iot_readings (scenario_id, sensor_id, read_at, value, is_equipment_idle) "
            "select 'baseline', 'PH-VAT-MUS-01', max(read_at) + interval '30 seconds', 9.5, false"
            " from raw.iot_readings"
        )
    conn.commit()
    failed = dbt("test", *SELECTION, "--indirect-selection", "cautious", check=False)
    assert failed.returncode != 0
    assert "assert_iot_readings_within_sensor_physical_limits" in failed.stdout
    assert "accepted_range_stg_scada__iot_readings_reading_value" in failed.stdout
    with conn.cursor() as cursor:
        cursor.execute("delete from raw.iot_readings where read_at = '2025-01-01 00:00:30'")
    conn.commit()
    conn.close()
