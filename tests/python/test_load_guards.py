"""What `queijaria load` refuses or repairs beyond the data's rules: a forced reload of raw data changed by other
means, absurd field sizes, manifests built to break a JSON reader, unopenable file names, and the wait for a dbt
model reading the raw data. Each ends in one clear message and nothing loaded, never a traceback."""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path

import pytest
from test_loader import FIRST, out, set_field, settings
from typer.testing import CliRunner, Result

from dataset_contract import DATASETS
from queijaria.cli import app
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.loading import LoadError, load
from queijaria.loading.loader import LOCK_KEY, Reporter
from queijaria.loading.raw_schema import MAX_FREE_TEXT_LENGTH
from queijaria.loading.sample_batch import write_batch, write_manifest

__all__ = ["out", "settings"]  # fixtures shared with test_loader.py

SCENARIO = "baseline"
BATCH = FIRST


def query(settings: ConnectionSettings, sql: str) -> list[tuple]:
    conn = connect(settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


def raw_state(settings: ConnectionSettings) -> list[tuple]:
    """Every raw row (loaded_at included) and the audit, as digests."""
    return [
        *(
            query(
                settings,
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {d.table} t",
            )[0]
            for d in DATASETS
        ),
        query(settings, "select count(*), max(load_audit_id) from raw.load_audit")[0],
    ]


def run_load_command(settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return CliRunner().invoke(app, ["load", *args])


def refused_by_command(out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch) -> str:
    """The one-line message of a load that fails with exit code 1, no traceback and nothing changed."""
    before = raw_state(settings)
    result = run_load_command(settings, monkeypatch, "--out", str(out))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an escaped traceback
    assert "Traceback" not in result.output
    assert raw_state(settings) == before
    return " ".join(result.output.split())


def test_forced_load_repairs_raw_data_changed_outside_the_loader(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    lot = "select lot_id, quantity, supplier_name from raw.stock_lots order by lot_id limit 1"
    loaded = query(settings, lot)
    query(
        settings,
        "update raw.stock_lots set quantity = 1, supplier_name = 'tampered' "
        "where lot_id = (select min(lot_id) from raw.stock_lots)",
    )

    # The audit cannot see the change: a plain load skips the batch, and says how to repair.
    plain = run_load_command(settings, monkeypatch, "--out", str(out))
    assert plain.exit_code == 0, plain.output
    assert "queijaria load --force" in " ".join(plain.output.split())
    assert query(settings, lot) != loaded

    forced = run_load_command(settings, monkeypatch, "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert f"{SCENARIO}/{BATCH} (replace)" in forced.output
    assert query(settings, lot) == loaded
    # One replace per forced load, recorded like any other: a later plain load is a no-op again.
    assert query(settings, "select count(distinct load_id) from raw.load_audit where mode = 'replace'") == [(2,)]
    assert load(out, settings=settings).skipped == [f"{SCENARIO}/{BATCH}"]


def test_free_text_longer_than_the_contract_is_refused_at_its_line_and_column(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_batch(out, SCENARIO, date(2025, 1, 1), date(2025, 1, 3))
    set_field(out / SCENARIO / BATCH, "stock_lots", 3, "supplier_name", "Fazenda " + "x" * MAX_FREE_TEXT_LENGTH)
    message = refused_by_command(out, settings, monkeypatch)
    assert "stock_lots.csv, line 3, column supplier_name: 'Fazenda xxx" in message
    assert f"supplier_name is free text of at most {MAX_FREE_TEXT_LENGTH:,} characters" in message


def test_field_of_megabytes_is_refused_at_its_line_and_column(out: Path, settings: ConnectionSettings) -> None:
    # 5 MB: beyond the line the diagnosis reads at once (4 MB), which it must not read whole.
    set_field(out / SCENARIO / BATCH, "stock_lots", 2, "supplier_name", "y" * (5 << 20))
    before = raw_state(settings)
    with pytest.raises(LoadError) as caught:
        load(out, [SCENARIO], settings=settings, force=True)
    assert raw_state(settings) == before
    error = caught.value
    assert (error.file, error.line, error.column) == (out / SCENARIO / BATCH / "stock_lots.csv", 2, "supplier_name")
    assert "no value of the data contract comes near" in error.problem


def test_megabyte_field_in_a_quote_never_closed_names_its_column(out: Path, settings: ConnectionSettings) -> None:
    # A quote opened in the last column and never closed swallows the rest of the file, over many lines.
    path = out / SCENARIO / BATCH / "quality_rejections.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ',"' + "never closed\n" * 200_000
    path.write_text("\n".join(lines) + "\n")
    write_manifest(out / SCENARIO / BATCH)
    with pytest.raises(LoadError) as caught:
        load(out, [SCENARIO], settings=settings, force=True)
    assert (caught.value.line, caught.value.column) == (2, DATASETS[-1].column_names[-1])


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("[" * 200_000 + "]" * 200_000, "manifest.json: not a manifest: its JSON is nested too deep to read"),
        ("ROWS", "manifest.json: not a manifest: a number in it has more than 4,300 digits"),
    ],
    ids=["nested-200000-deep", "rows-of-5000-digits"],
)
def test_manifest_built_to_break_a_json_reader_is_one_message(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, manifest: str, expected: str
) -> None:
    path = out / SCENARIO / BATCH / "manifest.json"
    if manifest == "ROWS":
        data = json.loads(path.read_text())
        data["datasets"]["stock_lots"]["rows"] = 0
        manifest = json.dumps(data).replace('"rows": 0', '"rows": ' + "9" * 5000)
    path.write_text(manifest)
    assert expected in refused_by_command(out, settings, monkeypatch)


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("a\u0000b.csv", "holds a NUL character"),
        ("x" * 5000, "cannot be opened (File name too long)"),
        ("loop.csv", "cannot be opened (a symlink loop)"),
    ],
    ids=["nul", "name-too-long", "symlink-loop"],
)
def test_manifest_file_name_that_cannot_be_opened_is_one_message(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, file: str, expected: str
) -> None:
    folder = out / SCENARIO / BATCH
    (folder / "loop.csv").symlink_to("loop.csv")
    data = json.loads((folder / "manifest.json").read_text())
    data["datasets"]["stock_lots"]["file"] = file
    (folder / "manifest.json").write_text(json.dumps(data))
    message = refused_by_command(out, settings, monkeypatch)
    assert "manifest.json: dataset 'stock_lots': 'file'" in message and expected in message


class WaitRecorder(Reporter):
    def __init__(self) -> None:
        self.holders: list[str] = []
        self.told = threading.Event()

    def waiting(self, holders: list[str]) -> None:
        self.holders = holders
        self.told.set()


def test_load_waits_for_the_dbt_model_reading_the_raw_data_and_says_so(out: Path, settings: ConnectionSettings) -> None:
    """A model of `dbt build` holds the raw data's lock shared (macros/build_lock) until its commit."""
    model = connect(settings)
    with model.cursor() as cursor:
        cursor.execute("set application_name = 'dbt'; select pg_advisory_xact_lock_shared(%s)", (LOCK_KEY,))
        cursor.execute("select pg_backend_pid()")
        pid = cursor.fetchone()[0]
    write_batch(out, SCENARIO, date(2025, 1, 4), date(2025, 1, 4), continues=BATCH)
    reporter = WaitRecorder()
    outcome: list[object] = []
    loader = threading.Thread(
        target=lambda: outcome.append(load(out, [SCENARIO], settings=settings, reporter=reporter)), daemon=True
    )
    loader.start()
    try:
        assert reporter.told.wait(30), "the load never said it waits"
        assert reporter.holders and reporter.holders[0].startswith(f"pid {pid} (a dbt model being built, since ")
        assert query(settings, "select count(distinct batch) from raw.load_audit") == [(1,)]
    finally:
        model.rollback()  # the model's commit
        model.close()
    loader.join(30)
    assert outcome and query(settings, "select count(distinct batch) from raw.load_audit") == [(2,)]


def test_batches_that_continue_each_other_in_a_circle_are_one_message(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edited manifests: walking back from --batch to the fresh batch never ended (the load hung, eating memory)."""
    later = "2025-01-04_2025-01-04"
    write_batch(out, SCENARIO, date(2025, 1, 4), date(2025, 1, 4), continues=BATCH)
    path = out / SCENARIO / BATCH / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "continues": later}))
    before = raw_state(settings)
    result = run_load_command(settings, monkeypatch, "--out", str(out), "--scenario", SCENARIO, "--batch", later)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"the batches continue each other in a circle ({later} -> {BATCH} -> {later})" in " ".join(
        result.output.split()
    )
    assert raw_state(settings) == before
