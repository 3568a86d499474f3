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

from dataset_contract import BY_NAME
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


# --- numbers that are not numbers, and a state.json checked as the options are ---------------------------------------


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_a_scale_that_is_not_a_number_is_called_so(tmp_path: Path, value: str) -> None:
    result = invoke("--out", str(tmp_path / "out"), *SMALL, "--scale", value)
    assert result.exit_code == 2, result.output  # click's usage error, as for any bad option
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for '--scale':" in message and "is not a number" in message, message
    assert "Traceback" not in result.output and "less than" not in message
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 1-day baseline batch, copied by each test that edits its state.json."""
    out = tmp_path_factory.mktemp("one_day")
    result = invoke("--out", str(out), *SMALL)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return out


def continue_after_editing(one_day: Path, tmp_path: Path, edit: Callable[[dict], object]) -> tuple[Result, Path]:
    """Copy the batch, apply `edit` to its state.json (a dict; a str return value replaces the text), continue."""
    out = tmp_path / "out"
    shutil.copytree(one_day, out)
    (state,) = out.glob("baseline/*/state.json")
    data = json.loads(state.read_text())
    text = edit(data)
    state.write_text(text if isinstance(text, str) else json.dumps(data))
    return invoke("--out", str(out), *SMALL, "--continue"), state


def assert_nothing_added(state: Path) -> None:
    assert [path.name for path in state.parent.parent.iterdir()] == [state.parent.name]


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("scale", -5, ("--scale", "-5")),
        ("scale", 50.5, ("--scale", "50.5")),
        ("seed", -1, ("--seed", "-1")),
        ("iot_interval_min", 7, ("--iot-interval", "7")),
        ("iot_interval_min", 0, ("--iot-interval", "0")),
    ],
)
def test_a_state_json_out_of_bounds_is_refused_as_the_option_is(
    one_day: Path, tmp_path: Path, field: str, value: float, option: tuple[str, str]
) -> None:
    result, state = continue_after_editing(one_day, tmp_path, lambda data: data.update({field: value}))
    assert_refused(result, f"--continue: {state}: field {field}: {value} ")
    assert_nothing_added(state)
    # The same bounds and words as the command-line option.
    problem = result.stderr.split(f"field {field}: ", 1)[1].strip()
    on_the_command_line = invoke("--out", str(tmp_path / "other"), *SMALL, *option)
    assert on_the_command_line.exit_code == 2
    assert problem in " ".join(on_the_command_line.stderr.replace("│", " ").split())


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_state_json_scale_that_is_not_a_number_is_called_so(one_day: Path, tmp_path: Path, value: str) -> None:
    def edit(data: dict) -> str:
        data["scale"] = "PLACEHOLDER"
        return json.dumps(data).replace('"PLACEHOLDER"', value)

    result, state = continue_after_editing(one_day, tmp_path, edit)
    assert_refused(result, f"{state}: field scale: ", "is not a number: the scale must be a number from 0.25 to 50")
    assert_nothing_added(state)


def _set(path: str, value: object) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (_set("scale", "abc"), 'field scale must be a number, got "abc"'),
        (_set("seed", "42"), 'field seed must be an integer, got "42"'),
        (_set("seed", True), "field seed must be an integer, got true"),
        (_set("iot_interval_min", 15.5), "field iot_interval_min must be an integer, got 15.5"),
        (_set("lots", {}), "field lots must be a list, got {}"),
        (_set("lots.0.quantity", None), "field lots[0].quantity must be a number, got null"),
        (_set("orders.0.priority", "high"), 'field orders[0].priority must be an integer, got "high"'),
        (lambda data: data.pop("line_free_at"), "field line_free_at is missing"),
        (lambda data: data["line_free_at"].popitem(), "field line_free_at: must have one entry per line"),
        (lambda data: data["equipment"].clear(), "field equipment: must have one entry per equipment"),
        (_set("scenario_id", "heatwave"), "field scenario_id: 'heatwave' is not 'baseline'"),
        (_set("orders.0.product_id", "BRIE"), "field orders[].product_id: names 'BRIE', unknown to the plant's"),
        (_set("lots.0.material_id", "SAFFRON"), "field lots[].material_id: names 'SAFFRON'"),
        (
            _set("pending_rows", {"stock_lots": [[1]]}),
            f"field pending_rows.stock_lots: has a row without its {len(BY_NAME['stock_lots'].columns)}",
        ),
        (_set("last_day", 3), "field last_day: 3 is before its origin_day"),
        (_set("surprise", 1), "unknown field surprise"),
        (lambda data: "[1, 2]", "does not hold a plant state"),
        (lambda data: '{"version": 2, ', "is not valid JSON"),
    ],
    ids=[
        "scale string",
        "seed string",
        "seed bool",
        "interval float",
        "lots object",
        "lot quantity null",
        "order priority string",
        "missing field",
        "a line missing",
        "no equipment",
        "other scenario",
        "unknown product",
        "unknown material",
        "short pending row",
        "last day before origin",
        "unknown field",
        "a list",
        "truncated",
    ],
)
def test_a_state_json_of_the_wrong_shape_is_one_clear_message(
    one_day: Path, tmp_path: Path, edit: Callable[[dict], object], named: str
) -> None:
    result, state = continue_after_editing(one_day, tmp_path, edit)
    assert_refused(result, f"--continue: {state}", named)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert_nothing_added(state)


def test_an_untouched_state_json_still_continues(one_day: Path, tmp_path: Path) -> None:
    result, state = continue_after_editing(one_day, tmp_path, lambda data: None)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert len(list(state.parent.parent.iterdir())) == 2
