"""Attacks on the loader with bad data that PostgreSQL's types accept: each is refused at load, by file, line and
column, and nothing is kept. Non-finite numbers (NaN is greater than every number in PostgreSQL, so `>= 0` passes
it), absurd magnitudes, blank identifiers, time-zone offsets (the `timestamp` type drops them), implausible years,
keys between datasets, header-only files, and files whose defects hid behind the diagnosis' own limits."""

from __future__ import annotations

from datetime import date
from itertools import accumulate
from pathlib import Path

import pytest
from test_loader import FIRST, out, refused, rows_of, set_field, settings

from benchmarks.loading import iot_rows
from dataset_contract import BY_NAME, DATASETS
from queijaria.db.connection import ConnectionSettings
from queijaria.loading import load
from queijaria.loading.sample_batch import write_batch, write_csv, write_manifest
from queijaria.loading.streaming import CHUNK

__all__ = ["out", "settings"]  # fixtures shared with test_loader.py


PLAUSIBLE_TYPE_BAD_VALUES = [
    # (dataset, line, column, value written, words the message must contain)
    ("stock_lots", 3, "quantity", "NaN", "not a finite number"),
    ("stock_lots", 2, "fat_pct", "nan", "not a finite number"),
    ("iot_readings", 4, "value", "Infinity", "not a finite number"),
    ("iot_readings", 5, "value", "-inf", "not a finite number"),
    ("iot_readings", 6, "value", "NaN", "not a finite number"),
    ("energy_readings", 2, "kwh", "Infinity", "not a finite number"),
    ("production_orders", 2, "planned_kg", "1e300", "out of range"),
    ("iot_readings", 3, "value", "1e300", "out of range"),
    ("weather_daily", 2, "ambient_max_degc", "1e300", "out of range"),
    ("quality_samples", 3, "value", "-1e300", "out of range"),
    ("material_consumptions", 3, "consumption_id", "   ", "blank identifier"),
    ("stock_lots", 2, "lot_id", "\t", "blank identifier"),
    ("quality_samples", 2, "sample_id", "S" * 150, "longer than 100 characters"),
    ("iot_readings", 3, "read_at", "2025-01-01 06:00:00+09", "time-zone offset"),
    ("production_orders", 3, "created_at", "2025-01-02T00:00:00Z", "time-zone offset"),
    ("maintenance_events", 2, "started_at", "2025-01-01 15:00:00-03:00", "time-zone offset"),
    ("iot_readings", 3, "read_at", "20250-01-01 06:00:00", "year 20250"),
    ("stock_lots", 2, "expires_at", "20250-01-03 05:00:00", "year 20250"),
    ("weather_daily", 2, "weather_date", "1900-01-01", "1990..2200"),
]


@pytest.mark.parametrize(("dataset", "line", "column", "value", "words"), PLAUSIBLE_TYPE_BAD_VALUES)
def test_value_postgres_accepts_is_refused_by_line_and_column(
    out: Path, settings: ConnectionSettings, dataset: str, line: int, column: str, value: str, words: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, dataset, line, column, value)
    error = refused(out, settings)
    assert (error.file, error.line, error.column) == (folder / f"{dataset}.csv", line, column)
    assert words in error.message, error.message
    assert len(error.message) < 400  # a long value is quoted shortened


def test_time_zone_message_says_the_csvs_are_plant_local(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, "quality_rejections", 4, "detected_at", "2025-01-03 14:00:00+09")
    assert "plant-local" in refused(out, settings).message


def test_quoted_empty_optional_identifier_is_refused(out: Path, settings: ConnectionSettings) -> None:
    """`""` is an empty string to COPY, not a null: a blank key of an optional column."""
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    path = folder / "stock_lots.csv"
    lines = path.read_text().splitlines()
    fields = lines[2].split(",")
    fields[4] = '""'  # source_order_id
    lines[2] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    write_manifest(folder)
    error = refused(out, settings)
    assert (error.file, error.line, error.column) == (path, 3, "source_order_id")
    assert "blank identifier" in error.message


def test_time_of_day_in_free_text_is_not_mistaken_for_an_offset(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, "stock_lots", 2, "supplier_name", "Fazenda 10:30h")
    load(out, settings=settings)
    assert rows_of(settings, "select count(*) from raw.stock_lots where supplier_name = 'Fazenda 10:30h'") == [(1,)]


MISSING_KEYS = [
    # (dataset, line, column, value written, dataset that lacks it)
    ("material_consumptions", 2, "lot_id", "L-NOPE", "stock_lots"),
    ("material_consumptions", 3, "order_id", "O-NOPE", "production_orders"),
    ("quality_samples", 4, "order_id", "O-NOPE", "production_orders"),
    ("quality_rejections", 2, "order_id", "O-NOPE", "production_orders"),
    ("stock_lots", 3, "source_order_id", "O-NOPE", "production_orders"),
    ("stock_lots", 2, "purchase_order_id", "PUR-NOPE", "purchase_orders"),
    ("stock_lots", 3, "route_id", "R-NOPE", "milk_collection_plan"),
]


@pytest.mark.parametrize(("dataset", "line", "column", "value", "target"), MISSING_KEYS)
def test_key_missing_from_another_dataset_is_named(
    out: Path, settings: ConnectionSettings, dataset: str, line: int, column: str, value: str, target: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, dataset, line, column, value)
    error = refused(out, settings)
    assert (error.file, error.line, error.column) == (folder / f"{dataset}.csv", line, column)
    assert f"'{value}' is not a {column.removeprefix('source_')} of {target}" in error.message, error.message


@pytest.mark.parametrize(("dataset", "day"), [("milk_collection_plan", "2025-01-05"), ("weather_daily", "2024-12-31")])
def test_a_day_planned_outside_the_batch_is_refused(
    out: Path, settings: ConnectionSettings, dataset: str, day: str
) -> None:
    """A collection plan (or any per-day row) for a day outside the batch would be loaded with the wrong batch."""
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    column = BY_NAME[dataset].event_time_column
    set_field(folder, dataset, 3, column, day)
    error = refused(out, settings)
    assert (error.file, error.line, error.column) == (folder / f"{dataset}.csv", 3, column)
    assert f"{column} {day} is outside the batch's days (2025-01-01 to 2025-01-03)" in error.message, error.message


def test_appended_batch_may_reference_an_earlier_batch(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    set_field(folder, "material_consumptions", 2, "lot_id", "L-20250103-1")
    set_field(folder, "material_consumptions", 2, "quantity", "900.0")  # what the lot has left after 9,050 L
    set_field(folder, "quality_samples", 2, "order_id", "O-20250101-1")
    load(out, ["baseline"], settings=settings)
    assert rows_of(settings, "select lot_id from raw.material_consumptions where consumption_id = 'C-20250104-1'") == [
        ("L-20250103-1",)
    ]


def test_an_issue_larger_than_the_lots_balance_is_refused(out: Path, settings: ConnectionSettings) -> None:
    """Lot L-20250101-1 received 10,000 L and sold 950 spot; 9,100 issued to its order leaves it 50 L short."""
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, "material_consumptions", 2, "quantity", "9100.0")
    error = refused(out, settings)
    assert (error.file, error.line, error.column) == (folder / "material_consumptions.csv", 2, "lot_id")
    assert "lot 'L-20250101-1' gives more than it received: 10000.0 received, 9100.0 issued" in error.message


def test_an_appended_issue_that_overdraws_an_earlier_lot_is_refused(out: Path, settings: ConnectionSettings) -> None:
    """The lot came in the first batch, with 9,050 L issued there: 1,000 L more from the next batch is too much."""
    folder = write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    set_field(folder, "material_consumptions", 2, "lot_id", "L-20250103-1")
    set_field(folder, "material_consumptions", 2, "quantity", "1000.0")
    error = refused(out, settings, ["baseline"])
    assert (error.file, error.line, error.column) == (folder / "material_consumptions.csv", 2, "lot_id")
    assert "10050.0 issued to orders" in error.message and "earlier ones" in error.message, error.message


def test_appended_batch_key_missing_everywhere_is_named(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    set_field(folder, "quality_rejections", 2, "order_id", "O-20241231-1")
    error = refused(out, settings, ["baseline"])
    assert (error.file, error.line, error.column) == (folder / "quality_rejections.csv", 2, "order_id")
    assert "'O-20241231-1'" in error.message and "earlier batch" in error.message


def _header_only(folder: Path, dataset: str) -> None:
    write_csv(folder / f"{dataset}.csv", dataset, [])
    write_manifest(folder)


@pytest.mark.parametrize("dataset", [d.name for d in DATASETS if d.always_has_rows])
def test_header_only_file_of_a_never_empty_dataset_is_refused(
    out: Path, settings: ConnectionSettings, dataset: str
) -> None:
    """A fresh batch of the baseline would otherwise empty its loaded table."""
    (out / "baseline" / FIRST / "manifest.json").unlink()
    folder = write_batch(out, "baseline", date(2025, 2, 1), date(2025, 2, 1))
    _header_only(folder, dataset)
    error = refused(out, settings, ["baseline"])
    assert error.file == folder / f"{dataset}.csv" and "header only" in error.message


def test_header_only_file_of_a_dataset_a_short_batch_may_lack_loads(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    for dataset in ("quality_rejections", "maintenance_events"):
        _header_only(folder, dataset)
    load(out, ["baseline"], settings=settings)
    assert rows_of(settings, "select count(*) from raw.quality_rejections") == [(3,)]
    assert rows_of(settings, "select count(*) from raw.weather_daily") == [(4,)]


def _big_iot_batch(out: Path) -> tuple[Path, list[str]]:
    """A batch whose IoT file is about 160 KB (3,600 readings), with its lines."""
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3), readings_per_sensor_day=400)
    return folder, (folder / "iot_readings.csv").read_text().splitlines()


def _rewrite(folder: Path, dataset: str, content: bytes) -> None:
    (folder / f"{dataset}.csv").write_bytes(content)
    write_manifest(folder)


def test_byte_that_is_not_utf8_deep_in_a_file_is_named_at_its_line(out: Path, settings: ConnectionSettings) -> None:
    folder, lines = _big_iot_batch(out)
    encoded = [line.encode() for line in lines]
    encoded[2999] = encoded[2999].replace(b"heatwave", b"heat\xffwave")
    _rewrite(folder, "iot_readings", b"\n".join(encoded) + b"\n")
    error = refused(out, settings)
    assert error.line == 3000 and "not UTF-8" in error.message, error.message


def test_huge_field_reports_its_real_problem(out: Path, settings: ConnectionSettings) -> None:
    folder, _ = _big_iot_batch(out)
    set_field(folder, "iot_readings", 5, "value", "x" * 200_000)
    error = refused(out, settings)
    assert (error.line, error.column) == (5, "value")
    assert "is not a number" in error.message and "200,000 characters" in error.message
    assert len(error.message) < 400


def test_quote_never_closed_is_named_where_it_opens(out: Path, settings: ConnectionSettings) -> None:
    folder, lines = _big_iot_batch(out)
    lines[5] = lines[5].rsplit(",", 1)[0] + ',"6.5'
    _rewrite(folder, "iot_readings", ("\n".join(lines) + "\n").encode())
    error = refused(out, settings)
    assert error.line == 6 and "never closed" in error.message, error.message


def test_byte_order_mark_is_named(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    path = folder / "weather_daily.csv"
    _rewrite(folder, "weather_daily", b"\xef\xbb\xbf" + path.read_bytes())
    error = refused(out, settings)
    assert error.line == 1 and "byte-order mark" in error.message, error.message


def test_time_zone_offset_across_a_chunk_boundary_is_seen(out: Path, settings: ConnectionSettings) -> None:
    """The offset check rides on the chunks COPY reads: a time cut by a chunk boundary must not escape it."""
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 1))
    lines = [",".join(BY_NAME["iot_readings"].column_names)]
    lines += [",".join(row) for row in iot_rows(40_000, scenario="heatwave")]
    ends = list(accumulate(len(line) + 1 for line in lines))
    # The last line whose seconds' colon lies before the first chunk's last 3 bytes...
    index = max(i for i in range(1, len(lines)) if ends[i - 1] + lines[i].rindex(":") < CHUNK - 2)
    # ...moved to 2 bytes before the chunk's end by longer digits in the line before it, then given an offset:
    # the colon is in the first chunk, what follows the seconds in the second.
    shift = CHUNK - 2 - (ends[index - 1] + lines[index].rindex(":"))
    previous = lines[index - 1].split(",")
    previous[3] += "0" * shift  # value: trailing zeros keep the number
    lines[index - 1] = ",".join(previous)
    fields = lines[index].split(",")
    fields[2] += "+09"  # read_at
    lines[index] = ",".join(fields)
    content = ("\n".join(lines) + "\n").encode()
    assert content[CHUNK - 2 : CHUNK + 4] == b":00+09"
    _rewrite(folder, "iot_readings", content)
    error = refused(out, settings)
    assert (error.line, error.column) == (index + 1, "read_at") and "time-zone offset" in error.message
