"""`queijaria generate` on bad or unusual arguments: one clear message and exit code 1, never a traceback, nothing
written where it should not be; the output folder is the one `queijaria load` reads, from whatever folder it runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from support import create_database, drop_database
from typer.testing import CliRunner, Result

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.generate import generate

cli = typer.Typer()
cli.command()(generate)
runner = CliRunner()
SMALL = ("--scenario", "baseline", "--iot-interval", "60", "--days", "1")


def invoke(*args: str) -> Result:
    return runner.invoke(cli, ["--quiet", *args])


def assert_refused(result: Result, *expected: str) -> None:
    """Exit code 1 with one `error:` line naming what is wrong, and no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize("start_date", ["1900-01-01", "0001-01-01", "9999-12-31", "2200-12-31"])
def test_start_dates_outside_the_calendar_are_refused(tmp_path: Path, start_date: str) -> None:
    result = invoke("--out", str(tmp_path / "out"), *SMALL, "--days", "2", "--start-date", start_date)
    assert_refused(result, f"--start-date {start_date}", "1990-01-01", "2200-12-31", "2200-12-30")
    assert not (tmp_path / "out").exists()


def test_the_first_and_last_days_of_the_calendar_are_simulated(tmp_path: Path) -> None:
    for start_date in ("1990-01-01", "2200-12-31"):
        result = invoke("--out", str(tmp_path), *SMALL, "--start-date", start_date)
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert (tmp_path / "baseline" / f"{start_date}_{start_date}" / "manifest.json").is_file()
    # A continuation past the calendar's end is refused like a start date.
    assert_refused(invoke("--out", str(tmp_path), *SMALL, "--continue"), "--continue", "2200-12-31")


def test_an_empty_out_is_refused_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project_before = sorted(path.name for path in PROJECT_ROOT.iterdir())
    for empty in ("", "  "):
        assert_refused(invoke("--out", empty, *SMALL), "--out is empty")
    assert not any(tmp_path.iterdir())
    assert sorted(path.name for path in PROJECT_ROOT.iterdir()) == project_before


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    return path


@pytest.mark.parametrize(
    ("out", "named"),
    [
        (_a_file, "notes.txt: it is not a folder"),
        (lambda tmp_path: _a_file(tmp_path) / "generated", "notes.txt: it is not a folder"),
        (lambda tmp_path: Path("/dev/null"), "/dev/null: it is not a folder"),
        # /proc and /sys refuse new folders even to root, as a read-only folder would to anyone else.
        (lambda tmp_path: Path("/proc"), "/proc/baseline"),
        (lambda tmp_path: Path("/sys"), "/sys/baseline"),
    ],
    ids=["a file", "under a file", "/dev/null", "/proc", "/sys"],
)
def test_an_out_that_cannot_hold_folders_is_refused(tmp_path: Path, out: Callable[[Path], Path], named: str) -> None:
    result = invoke("--out", str(out(tmp_path)), *SMALL)
    assert_refused(result, named)
    if (tmp_path / "notes.txt").exists():
        assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_an_unreadable_state_stops_a_continuation_clearly(tmp_path: Path) -> None:
    assert invoke("--out", str(tmp_path), *SMALL).exit_code == 0
    (state,) = tmp_path.glob("baseline/*/state.json")
    state.write_text(json.dumps({"version": 1, "seed": 42}))
    assert_refused(invoke("--out", str(tmp_path), *SMALL, "--continue"), str(state.parent), "state.json")


def test_paths_are_printed_literally(tmp_path: Path) -> None:
    out = tmp_path / "[/oops] [bold]:x:"
    result = runner.invoke(cli, ["--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"written under {out}" in result.stderr
    (out / "baseline" / "[red]:thumbs_up:").write_text("mine\n")
    result = runner.invoke(cli, ["--quiet", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"kept in {out / 'baseline'}" in result.stderr and "[red]:thumbs_up:" in result.stderr
    not_a_folder = tmp_path / "[/oops] :x:"  # the file `oops] :x:` in the folder `[`
    not_a_folder.parent.mkdir(exist_ok=True)
    not_a_folder.write_text("mine\n")
    result = invoke("--out", str(not_a_folder), *SMALL)
    assert_refused(result, f"{not_a_folder}: it is not a folder")
    assert "❌" not in result.stderr


# --- the same folder for generate and load, run from anywhere -------------------------------------------------


@pytest.fixture(scope="module")
def settings() -> Iterator[ConnectionSettings]:
    fresh = create_database(resolve(), "queijaria_generate_test")
    yield fresh
    drop_database(fresh)


def test_generate_and_load_use_the_same_folder_from_anywhere(tmp_path: Path, settings: ConnectionSettings) -> None:
    # A copy of the project, so that its default data folder is a scratch one and not the developer's.
    project = tmp_path / "project"
    for part in ("queijaria", "generators", "seeds"):
        shutil.copytree(PROJECT_ROOT / part, project / part, ignore=shutil.ignore_patterns("__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": str(project)}
    env.pop("DATABASE_URL", None)

    def queijaria(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-c", "from queijaria.cli import app; app(prog_name='queijaria')", *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"queijaria {' '.join(args)}:\n{result.stdout}\n{result.stderr}"

    queijaria("generate", "--quiet", *SMALL)
    queijaria("load", "--scenario", "baseline")
    (manifest,) = project.glob("data/generated/baseline/*/manifest.json")
    # On the heatwave's own dates: a horizon that misses a scenario's window is refused.
    queijaria(
        "generate", "--quiet", "--out", "mine", *SMALL[2:], "--scenario", "heatwave", "--start-date", "2026-01-06"
    )
    queijaria("load", "--out", "mine", "--scenario", "heatwave")
    (relative_manifest,) = elsewhere.glob("mine/heatwave/*/manifest.json")

    conn = connect(settings)
    with conn.cursor() as cursor:
        for scenario, path in (("baseline", manifest), ("heatwave", relative_manifest)):
            cursor.execute("select count(*) from raw.production_orders where scenario_id = %s", (scenario,))
            expected = json.loads(path.read_text())["datasets"]["production_orders"]["rows"]
            assert cursor.fetchone()[0] == expected > 0, scenario
    conn.close()
