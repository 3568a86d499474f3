"""Small, valid batches that follow the CSV contract, for the loader's tests and the benchmark.

The generators write the real ones; these only need to be right, not realistic. `write_batch` writes one batch
folder (CSV per dataset + manifest.json); `write_manifest` recomputes the manifest after a test edited a CSV.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from dataset_contract import BY_NAME, DATASETS

SENSORS = ("TT-PAST-01", "PH-VAT-MUS-01", "TT-COLD-01")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def sample_rows(
    scenario: str, first: date, last: date, *, readings_per_sensor_day: int = 4, restate_orders: Sequence[str] = ()
) -> dict[str, list[list[object]]]:
    rows: dict[str, list[list[object]]] = {dataset.name: [] for dataset in DATASETS}
    for day in _days(first, last):
        tag = day.strftime("%Y%m%d")
        start = datetime.combine(day, datetime.min.time())
        for line in ("MUS", "PRA"):
            for shift in ("T1", "T2"):
                rows["capacity_calendar"].append([scenario, line, day.isoformat(), shift, 480, 20])
        lot = f"L-{tag}-1"
        rows["stock_lots"].append(
            [scenario, lot, "MILK", "Fazenda Boa Vista", "", _ts(start + timedelta(hours=5)),
             _ts(start + timedelta(hours=53)), "10000.0", "L", "released", "2.45", "3.6", "3.2", "250", "300", "", "R1"]
        )  # fmt: skip
        rows["milk_collection_plan"].append(
            [
                scenario,
                day.isoformat(),
                "R1",
                _ts(start - timedelta(hours=8)),
                _ts(start + timedelta(hours=5)),
                "10500",
                4,
            ]
        )
        rows["purchase_orders"].append(
            [scenario, f"PUR-SALT-{tag}", "SALT", "Salinas Cisne", _ts(start + timedelta(hours=8)),
             _ts(start + timedelta(days=3, hours=10)), "500.000", "kg"]
        )  # fmt: skip
        order = f"O-{tag}-1"
        planned = start + timedelta(hours=6)
        rows["production_orders"].append(
            [scenario, order, "MUS", "MUS", _ts(start), _ts(start + timedelta(hours=1)), _ts(planned),
             _ts(planned + timedelta(hours=6)), day.isoformat(), 2, "900.0", "completed", _ts(planned),
             _ts(planned + timedelta(hours=6, minutes=10)), "905.5", "890.25", "", ""]
        )  # fmt: skip
        rows["material_consumptions"].append([scenario, f"C-{tag}-1", order, lot, "MILK", _ts(planned), "9050.0", ""])
        if day + timedelta(days=2) <= last:  # the leftover is sold spot before its 48 h, inside the batch
            rows["stock_movements"].append(
                [scenario, f"MOV-{tag}-1", lot, "MILK", "spot_sale", _ts(start + timedelta(days=2, hours=3)),
                 "950.0", "2.254"]
            )  # fmt: skip
        rows["maintenance_events"].append(
            [scenario, f"M-{tag}-1", "PAST-01", "corrective", _ts(start + timedelta(hours=15)),
             _ts(start + timedelta(hours=16, minutes=30)), "plate_gasket_leak"]
        )  # fmt: skip
        step = timedelta(minutes=max(1, 1440 // readings_per_sensor_day))
        for sensor in SENSORS:
            for index in range(readings_per_sensor_day):
                value = 6.55 if sensor.startswith("PH") else 73.5 if sensor == "TT-PAST-01" else 3.0
                rows["iot_readings"].append(
                    [scenario, sensor, _ts(start + index * step), f"{value + index % 7 / 100:.2f}", "false"]
                )
        for quarter in range(4):
            rows["energy_readings"].append(
                [scenario, "EM-MUS", _ts(start + timedelta(minutes=15 * quarter)), f"{8.5 + quarter:.3f}"]
            )
        rows["weather_daily"].append([scenario, day.isoformat(), "22.5", "29.0"])
        rows["quality_samples"].append(
            [scenario, f"S-{tag}-1", order, "ph", _ts(planned + timedelta(hours=7)), "5.2", "true"]
        )
        rows["quality_rejections"].append(
            [scenario, f"R-{tag}-1", order, _ts(planned + timedelta(hours=8)), "3.5", "early_blowing"]
        )
    for order in restate_orders:  # an order of an earlier batch, completed with other figures
        rows["production_orders"].append(
            [scenario, order, "MUS", "MUS", _ts(datetime.combine(first, datetime.min.time()) - timedelta(days=1)),
             "", _ts(datetime.combine(first, datetime.min.time())), _ts(datetime.combine(first, datetime.min.time())),
             first.isoformat(), 1, "500.0", "completed", "", "", "480.0", "470.0", "", ""]
        )  # fmt: skip
    return rows


def write_csv(path: Path, dataset: str, rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(BY_NAME[dataset].column_names)
        writer.writerows(rows)


def write_manifest(folder: Path, *, continues: str | None = None, keep_continues: bool = True) -> None:
    """(Re)write manifest.json of a batch folder from the CSVs in it."""
    path = folder / "manifest.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    first, last = folder.name.split("_")
    datasets = {}
    for dataset in DATASETS:
        csv_path = folder / f"{dataset.name}.csv"
        content = csv_path.read_bytes()
        datasets[dataset.name] = {
            "file": csv_path.name,
            "rows": max(0, content.count(b"\n") - 1),
            "bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    manifest = {
        "scenario_id": folder.parent.name,
        "seed": previous.get("seed", 42),
        "first_date": first,
        "last_date": last,
        "iot_interval_min": previous.get("iot_interval_min", 1),
        "scale": previous.get("scale", 1.0),
        "continues": previous.get("continues") if keep_continues and path.exists() else continues,
        "datasets": datasets,
    }
    path.write_text(json.dumps(manifest, indent=2))


def write_batch(
    out: Path,
    scenario: str,
    first: date,
    last: date,
    *,
    continues: str | None = None,
    readings_per_sensor_day: int = 4,
    restate_orders: Sequence[str] = (),
) -> Path:
    folder = out / scenario / f"{first.isoformat()}_{last.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    rows = sample_rows(
        scenario, first, last, readings_per_sensor_day=readings_per_sensor_day, restate_orders=restate_orders
    )
    for name, dataset_rows in rows.items():
        write_csv(folder / f"{name}.csv", name, dataset_rows)
    write_manifest(folder, continues=continues, keep_continues=False)
    return folder
