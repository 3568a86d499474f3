"""Attacks through the manifest and the batch folder: a manifest may only name files of its batch folder, a file
that is not a dataset's CSV is never echoed, any wrong shape is one clear error, and a loaded batch whose files
were edited afterwards is not skipped as "already loaded"."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from test_loader import FIRST, out, refused, run_load_command, set_field, settings

from queijaria.db.connection import ConnectionSettings
from queijaria.loading import load
from queijaria.loading.sample_batch import write_batch, write_manifest

__all__ = ["out", "settings"]  # fixtures shared with test_loader.py

SECRET = "root:x:0:0:secret-content:/root:/bin/bash\nsecond line\n"


def edit_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    edited = edit(manifest)
    path.write_text(json.dumps(manifest if edited is None else edited))


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file outside every batch folder, whose content must never reach a message."""
    path = tmp_path_factory.mktemp("elsewhere") / "passwd"
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize("kind", ["absolute", "parent"])
def test_manifest_cannot_name_a_file_outside_its_batch_folder(
    out: Path, settings: ConnectionSettings, outside: Path, kind: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    name = str(outside) if kind == "absolute" else str(Path("..") / ".." / ".." / outside.parent.name / "passwd")

    def point_away(manifest: dict) -> None:
        manifest["datasets"]["energy_readings"]["file"] = name

    edit_manifest(folder, point_away)
    error = refused(out, settings)
    assert error.file == folder / "manifest.json" and "batch folder" in error.message
    assert "secret-content" not in error.message


def test_symlink_out_of_the_batch_folder_is_refused(out: Path, settings: ConnectionSettings, outside: Path) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    (folder / "energy_readings.csv").unlink()
    (folder / "energy_readings.csv").symlink_to(outside)
    error = refused(out, settings)
    assert "leads outside the batch folder" in error.message and "secret-content" not in error.message


def test_file_that_is_not_a_dataset_csv_is_not_echoed(out: Path, settings: ConnectionSettings) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    (folder / "energy_readings.csv").write_text(SECRET)
    write_manifest(folder)
    error = refused(out, settings)
    assert (error.file, error.line) == (folder / "energy_readings.csv", 1)
    assert "header" in error.message and "secret-content" not in error.message and "bin/bash" not in error.message


WRONG_SHAPES = [
    # how the manifest is edited, words of the message
    pytest.param(lambda m: m.__setitem__("datasets", []), "'datasets' must be an object", id="datasets-list"),
    pytest.param(lambda m: m.__setitem__("datasets", "all"), "'datasets' must be an object", id="datasets-text"),
    pytest.param(lambda m: [m], "must be a JSON object", id="manifest-list"),
    pytest.param(
        lambda m: m["datasets"].__setitem__("iot_readings", "iot_readings.csv"),
        "dataset 'iot_readings': must be an",
        id="entry-text",
    ),
    pytest.param(
        lambda m: m["datasets"]["iot_readings"].__setitem__("rows", "many"), "'rows' must be a whole", id="rows-text"
    ),
    pytest.param(
        lambda m: m["datasets"]["iot_readings"].__setitem__("bytes", -1), "'bytes' must be a whole", id="bytes-negative"
    ),
    pytest.param(
        lambda m: m["datasets"]["iot_readings"].__setitem__("sha256", 42), "'sha256' must be 64", id="sha256-number"
    ),
    pytest.param(
        lambda m: m["datasets"]["iot_readings"].__setitem__("file", ["a"]), "'file' must be a file", id="file-list"
    ),
    pytest.param(lambda m: m.__setitem__("continues", 7), "'continues' must be", id="continues-number"),
    pytest.param(lambda m: m.__setitem__("scenario_id", None), "'scenario_id' must be a string", id="scenario-null"),
]


@pytest.mark.parametrize(("edit", "words"), WRONG_SHAPES)
def test_manifest_of_the_wrong_shape_is_one_clear_error(
    out: Path, settings: ConnectionSettings, edit, words: str
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    edit_manifest(folder, edit)
    error = refused(out, settings)
    assert error.file == folder / "manifest.json" and words in error.message, error.message


def test_load_command_reports_a_wrong_manifest_without_traceback(
    out: Path, settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_batch(out, "heatwave", date(2025, 1, 1), date(2025, 1, 3))
    edit_manifest(folder, lambda m: m.__setitem__("datasets", []))
    result = run_load_command(settings, monkeypatch, "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "load failed, nothing was loaded" in result.output and "'datasets' must be an object" in result.output
    assert "Traceback" not in result.output


def test_loaded_batch_edited_afterwards_is_not_skipped(out: Path, settings: ConnectionSettings) -> None:
    """The manifest still lists the loaded checksum: the edit is an error, not a silent "already loaded"."""
    folder = out / "baseline" / FIRST
    manifest = (folder / "manifest.json").read_bytes()
    set_field(folder, "stock_lots", 2, "quantity", "4633.0")
    (folder / "manifest.json").write_bytes(manifest)
    error = refused(out, settings, ["baseline"])
    assert error.file == folder / "stock_lots.csv" and "changed after it was loaded" in error.message


def test_edit_of_an_earlier_batch_is_seen_when_appending(out: Path, settings: ConnectionSettings) -> None:
    write_batch(out, "baseline", date(2025, 1, 4), date(2025, 1, 4), continues=FIRST)
    first = out / "baseline" / FIRST
    path = first / "weather_daily.csv"
    path.write_text(path.read_text().replace("29.0", "39.0", 1))  # same size, other bytes
    error = refused(out, settings, ["baseline"])
    assert error.file == path and "changed after it was loaded" in error.message


def test_unchanged_loaded_batch_is_still_skipped(out: Path, settings: ConnectionSettings) -> None:
    assert load(out, ["baseline"], settings=settings).skipped == [f"baseline/{FIRST}"]
