"""The COPY loader: replace, append, idempotence, and a clear error (file, line, column) with nothing kept."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from support import create_database, drop_database
from typer.testing import CliRunner, Result

from dataset_contract import DATASETS
from queijaria.cli import app
from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.loading import LoadError, load
from queijaria.loading.loader import Reporter
from queijaria.loading.manifest import Batch
from queijaria.loading.sample_batch import write_batch, write_manifest

FIRST = "2025-01-01_2025-01-03"


@pytest.fixture(scope="module")
def settings() -> Iterator[ConnectionSettings]:
    fresh = create_database(resolve(), "queijaria_loader_test")
    yield fresh
    drop_database(fresh)


@pytest.fixture
def out(tmp_path: Path, settings: ConnectionSettings) -> Path:
    """A baseline batch already loaded, so that every test starts from a non-empty raw schema."""
    conn = connect(settings)
    with conn.cursor() as cursor:
        cursor.execute("drop schema if exists raw cascade")
    conn.commit()
    conn.close()
    write_batch(tmp_path, "baseline", date(2025, 1, 1), date(2025, 1, 3))
    load(tmp_path, ["baseline"], settings=settings)
    return tmp_path


def snapshot(settings: ConnectionSettings) -> dict[str, object]:
    """Every raw row (loaded_at included), the audit and the relations of the raw schema."""
    conn = connect(settings)
    state: dict[str, object] = {}
    with conn.cursor() as cursor:
        for dataset in DATASETS:
            cursor.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {dataset.table} t"
            )
            state[dataset.name] = cursor.fetchone()
        cursor.execute("select count(*), max(load_audit_id) from raw.load_audit")
        state["audit"] = cursor.fetchone()
        cursor.execute(
            "select array_agg(relname::text order by relname) from pg_class where relnamespace = 'raw'::regnamespace"
        )
        state["relations"] = cursor.fetchone()[0]
    conn.close()
    return state


def refused(out: Path, settings: ConnectionSettings, scenarios: list[str] | None = None) -> LoadError:
    """The LoadError of a load that must fail, after checking that it kept nothing."""
    before = snapshot(settings)
    with pytest.raises(LoadError) as caught:
        load(out, scenarios, settings=settings)
    assert snapshot(settings) == before
    return caught.value


def run_load_command(settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """`queijaria load ARGS` against the test database."""
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return CliRunner().invoke(app, ["load", *args])


def rows_of(settings: ConnectionSettings, query: str) -> list[tuple]:
    conn = connect(settings)
    with conn.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
    conn.close()
    return rows


def set_field(folder: Path, dataset: str, line: int, column: str, value: str) -> None:
    path = folder / f"{dataset}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    write_manifest(folder)


def test_first_load_fills_every_table_and_the_audit(out: Path, settings: ConnectionSettings) -> None:
    state = snapshot(settings)
    assert state["iot_readings"][0] == 3 * 3 * 4
    assert state["production_orders"][0] == 3
    audit = rows_of(settings, "select dataset, rows, sha256, mode, batch from raw.load_audit order by dataset")
    assert len(audit) == len(DATASETS)
    manifest = json.loads((out / "baseline" / FIRST / "manifest.json").read_text())
    for dataset, rows, sha256, mode, batch in audit:
        assert (rows, sha256) == (manifest["datasets"][dataset]["rows"], manifest["datasets"][dataset]["sha256"])
        assert (mode, batch) == ("replace", FIRST)
    partitions = rows_of(settings, "select count(*) from pg_inherits where inhparent = 'raw.iot_readings'::regclass")
    assert partitions == [(1,)]


def test_second_identical_load_changes_nothing(out: Path, settings: ConnectionSettings) -> None:
    before = snapshot(settings)
    result = load(out, settings=settings)
    assert result.loads == [] and result.skipped == [f"baseline/{FIRST}"]
    assert snapshot(settings) == before


def test_fresh_simulation_replaces_only_its_scenario(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 2))
    load(out, settings=settings)
    (out / "baseline" / FIRST / "manifest.json").unlink()  # the baseline is simulated again, over other days
    write_batch(out, "baseline", date(2025, 2, 1), date(2025, 2, 2))
    load(out, ["baseline"], settings=settings)
    dates = rows_of(
        settings, "select scenario_id, min(weather_date)::text, count(*) from raw.weather_daily group by 1 order by 1"
    )
    assert dates == [("baseline", "2025-02-01", 2), ("heatwave", "2025-01-01", 2)]


def test_continued_batch_appends_and_restates_orders(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 5), continues=FIRST, restate_orders=["O-20250102-1"])
    result = load(out, ["baseline"], settings=settings)
    assert {load.mode for load in result.loads} == {"append"}
    assert rows_of(settings, "select count(*) from raw.weather_daily") == [(5,)]
    assert rows_of(settings, "select count(*) from raw.production_orders") == [(5,)]
    restated = rows_of(settings, "select produced_kg::text from raw.production_orders where order_id = 'O-20250102-1'")
    assert restated == [("480.0",)]
    before = snapshot(settings)
    assert load(out, ["baseline"], settings=settings).loads == []
    assert snapshot(settings) == before


def test_changed_first_batch_reloads_the_whole_chain(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    load(out, settings=settings)
    set_field(out / "baseline" / FIRST, "weather_daily", 2, "ambient_max_degc", "31.5")
    result = load(out, settings=settings)
    assert [(load.mode, load.batch) for load in result.loads if load.dataset == "weather_daily"] == [
        ("replace", FIRST),
        ("append", "2025-01-04_2025-01-04"),
    ]
    assert rows_of(settings, "select max(ambient_max_degc)::text, count(*) from raw.weather_daily") == [("31.5", 4)]


BAD_FILES = [
    # (dataset, line, column, value written, words the message must contain)
    ("iot_readings", 5, "value", "abc", "wrong type"),
    ("iot_readings", 3, "read_at", "2025-13-45 25:00:00", "wrong type"),
    ("stock_lots", 3, "quantity", "-5", "negative value"),
    ("material_consumptions", 2, "quantity", "-0.5", "negative value"),
    ("iot_readings", 4, "sensor_id", "TT-NOPE-99", "unknown key"),
    ("production_orders", 2, "product_id", "GOUDA", "unknown key"),
    ("stock_lots", 2, "material_id", "", "missing value"),
    ("stock_lots", 3, "qc_status", "maybe", "accepted value"),
    ("quality_samples", 2, "is_pass", "perhaps", "wrong type"),
    ("weather_daily", 3, "scenario_id", "baseline", "scenario_id"),
]


@pytest.mark.parametrize(("dataset", "line", "column", "value", "words"), BAD_FILES)
def test_bad_value_names_file_line_column_and_keeps_nothing(
    out: Path, settings: ConnectionSettings, dataset: str, line: int, column: str, value: str, words: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    set_field(folder, dataset, line, column, value)
    before = snapshot(settings)
    with pytest.raises(LoadError) as caught:
        load(out, settings=settings)
    error = caught.value
    assert (error.file, error.line, error.column) == (folder / f"{dataset}.csv", line, column)
    assert words in error.message and f"{dataset}.csv" in error.message and f"line {line}" in error.message
    assert snapshot(settings) == before


def test_malformed_row_is_named(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    path = folder / "energy_readings.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",42"
    path.write_text("\n".join(lines) + "\n")
    write_manifest(folder)
    before = snapshot(settings)
    with pytest.raises(LoadError, match=r"energy_readings\.csv, line 4: malformed row: 5 fields, expected 4"):
        load(out, settings=settings)
    assert snapshot(settings) == before


def test_duplicate_id_in_file_is_named(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    path = folder / "iot_readings.csv"
    lines = path.read_text().splitlines()
    lines.append(lines[2])
    path.write_text("\n".join(lines) + "\n")
    write_manifest(folder)
    before = snapshot(settings)
    with pytest.raises(LoadError) as caught:
        load(out, settings=settings)
    assert caught.value.line == len(lines) and caught.value.column == "read_at"
    assert "duplicate id" in caught.value.message and "already on line 3" in caught.value.message
    assert snapshot(settings) == before


def test_duplicate_id_of_an_earlier_batch_is_named(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    path = folder / "quality_rejections.csv"
    path.write_text(path.read_text().replace("R-20250104-1", "R-20250102-1"))
    write_manifest(folder)
    before = snapshot(settings)
    with pytest.raises(LoadError, match=r"quality_rejections\.csv, line 2, column rejection_id: duplicate id.*earlier"):
        load(out, settings=settings)
    assert snapshot(settings) == before


def test_checksum_and_row_count_are_checked(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["datasets"]["weather_daily"]["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(settings)
    with pytest.raises(LoadError, match=r"weather_daily\.csv: checksum .* differs from the manifest"):
        load(out, settings=settings)
    assert snapshot(settings) == before


def test_unknown_scenario_folder_is_refused(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "volcano", date(2025, 1, 1), date(2025, 1, 1))
    with pytest.raises(LoadError, match="unknown scenario 'volcano'"):
        load(out, ["volcano"], settings=settings)


def test_load_command_prints_a_summary_and_fails_cleanly(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 2))
    ok = run_load_command(settings, monkeypatch, "--out", str(out), "--scenario", "heatwave")
    assert ok.exit_code == 0, ok.output
    assert "iot_readings" in ok.output and "total" in ok.output
    again = run_load_command(settings, monkeypatch, "--out", str(out))
    assert again.exit_code == 0 and "nothing to load" in again.output
    folder = write_batch(out, "heatwave", date(2025, 1, 3), date(2025, 1, 3), continues="2025-01-01_2025-01-02")
    set_field(folder, "energy_readings", 2, "kwh", "-1")
    bad = run_load_command(settings, monkeypatch, "--out", str(out))
    assert bad.exit_code == 1
    assert "energy_readings.csv" in bad.output and "line 2" in bad.output and "column kwh" in bad.output


class LockCounter(Reporter):
    """Counts, at the start of every batch, the locks the load holds (from another session)."""

    def __init__(self, settings: ConnectionSettings):
        self.settings = settings
        self.counts: list[int] = []

    def batch_start(self, batch: Batch, mode: str) -> None:
        held = rows_of(
            self.settings,
            "select count(*) from pg_locks where pid in (select pid from pg_locks where locktype = 'advisory'"
            " and granted and database = (select oid from pg_database where datname = current_database()))",
        )
        self.counts.append(held[0][0])


def test_long_chain_of_appended_batches_loads_in_one_transaction(out: Path, settings: ConnectionSettings) -> None:
    """Two months of daily batches in one load. A table created and dropped in a transaction keeps locks on all its
    objects until the commit: the locks of a load must not grow with its batches, or a long chain runs out of them
    ("out of shared memory")."""
    previous = FIRST
    for offset in range(60):
        day = date(2025, 1, 4) + timedelta(days=offset)
        write_batch(out, "baseline", day, day, continues=previous)
        previous = f"{day.isoformat()}_{day.isoformat()}"
    counter = LockCounter(settings)
    result = load(out, ["baseline"], settings=settings, reporter=counter)
    assert len({done.batch for done in result.loads}) == 60
    assert rows_of(settings, "select count(*) from raw.weather_daily") == [(63,)]
    assert counter.counts[-1] == counter.counts[1], counter.counts
