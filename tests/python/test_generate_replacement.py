"""`queijaria generate` replaces earlier batches without losing anything: only the generator's files are removed,
and only once the new batch is complete; a failed, interrupted or killed run leaves the earlier batches as they were."""

from __future__ import annotations

import contextlib
import hashlib
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from typer.testing import CliRunner

from queijaria.generate import generate
from queijaria.loading.manifest import batch_chain

cli = typer.Typer()
cli.command()(generate)
runner = CliRunner()
QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
SMALL = ("--scenario", "baseline", "--iot-interval", "60")


def run_generate(out: Path, *args: str) -> str:
    result = runner.invoke(cli, ["--quiet", "--out", str(out), *SMALL, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under root, with the checksum of each file."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        for path in sorted(root.rglob("*"))
    }


def loadable_batches(out: Path) -> list[str]:
    chain, _ = batch_chain(out, "baseline")
    return [batch.name for batch in chain]


def test_fresh_run_removes_only_what_the_generator_wrote(tmp_path: Path) -> None:
    run_generate(tmp_path, "--start-date", "2025-10-01", "--days", "2")
    run_generate(tmp_path, "--continue", "--days", "2")
    scenario = tmp_path / "baseline"
    thesis = scenario / "thesis" / "chapter1.tex"
    thesis.parent.mkdir()
    thesis.write_text("\\chapter{Queijo}\n")
    notes = scenario / "2025-10-01_2025-10-02" / "notes.txt"
    notes.write_text("seed 42 looked odd on day 2\n")

    result = runner.invoke(cli, ["--out", str(tmp_path), *SMALL, "--start-date", "2025-10-01", "--days", "2"])

    assert result.exit_code == 0, result.output
    assert thesis.read_text() == "\\chapter{Queijo}\n"
    assert notes.read_text() == "seed 42 looked odd on day 2\n"
    # The continuation is gone (all its files were the generator's), the new batch sits beside the user's notes.
    assert sorted(path.name for path in scenario.iterdir()) == ["2025-10-01_2025-10-02", "thesis"]
    batch = scenario / "2025-10-01_2025-10-02"
    manifest = json.loads((batch / "manifest.json").read_text())
    for entry in manifest["datasets"].values():
        assert hashlib.sha256((batch / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert loadable_batches(tmp_path) == ["2025-10-01_2025-10-02"]
    assert "warning:" in result.stderr and "thesis" in result.stderr and "notes.txt" in result.stderr


def test_a_user_file_where_the_batch_goes_stops_the_run_before_anything_changes(tmp_path: Path) -> None:
    run_generate(tmp_path, "--start-date", "2025-10-01", "--days", "2")
    mine = tmp_path / "baseline" / "2025-11-01_2025-11-02" / "iot_readings.csv"
    mine.parent.mkdir()
    mine.write_text("my own readings\n")
    before = tree(tmp_path)

    result = runner.invoke(
        cli, ["--quiet", "--out", str(tmp_path), *SMALL, "--start-date", "2025-11-01", "--days", "2"]
    )

    assert result.exit_code == 1
    assert "iot_readings.csv" in result.stderr and "not written by the generator" in result.stderr
    assert tree(tmp_path) == before


def test_a_manifest_naming_files_elsewhere_is_not_trusted(tmp_path: Path) -> None:
    run_generate(tmp_path, "--days", "2")
    (tmp_path / "thesis.tex").write_text("keep me\n")
    manifest_path = next((tmp_path / "baseline").glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    manifest["datasets"]["weather_daily"]["file"] = "../../thesis.tex"
    manifest_path.write_text(json.dumps(manifest))
    before = tree(tmp_path)

    result = runner.invoke(cli, ["--quiet", "--out", str(tmp_path), *SMALL, "--days", "3"])

    assert result.exit_code == 1 and "outside its folder" in result.stderr
    assert tree(tmp_path) == before


def test_a_generation_that_fails_leaves_the_earlier_batches(tmp_path: Path) -> None:
    run_generate(tmp_path, "--days", "2")
    (tmp_path / "baseline" / "thesis.tex").write_text("keep me\n")
    before = tree(tmp_path)

    def small_files_only() -> None:
        # A real write failure half-way through the IoT file (Python ignores SIGXFSZ, so write() fails with EFBIG).
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    result = subprocess.run(
        [QUEIJARIA, "generate", "--quiet", "--out", str(tmp_path), "--scenario", "baseline", "--days", "20"],
        capture_output=True,
        text=True,
        preexec_fn=small_files_only,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "File too large" in result.stderr and "Traceback" not in result.stderr
    assert tree(tmp_path) == before


def test_a_failing_scenario_keeps_the_batches_of_the_others(tmp_path: Path) -> None:
    run_generate(tmp_path, "--days", "2")
    (tmp_path / "heatwave").write_text("not a folder\n")
    before = tree(tmp_path)

    # On the heatwave's dates, so that the folder is what fails (a horizon missing its window is refused earlier).
    arguments = ["--scenario", "baseline,heatwave", "--start-date", "2026-01-06", "--days", "3"]
    result = runner.invoke(cli, ["--quiet", "--out", str(tmp_path), *arguments])

    assert result.exit_code == 1 and "heatwave" in result.stderr
    assert tree(tmp_path) == before


def _iot_bytes(out: Path) -> int:
    """The size of the biggest IoT file under out, wherever the run writes it."""
    sizes = [0]
    for path in out.rglob("iot_readings.csv"):
        with contextlib.suppress(FileNotFoundError):  # removed by the run meanwhile
            sizes.append(path.stat().st_size)
    return max(sizes)


def _interrupt_during_the_iot_file(out: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    earlier = _iot_bytes(out)
    process = subprocess.Popen(
        [
            QUEIJARIA,
            "generate",
            "--quiet",
            "--out",
            str(out),
            "--scenario",
            "baseline",
            "--days",
            "200",
            "--iot-interval",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while _iot_bytes(out) <= earlier:
        assert process.poll() is None and time.monotonic() < deadline, "the generation never reached the IoT file"
        time.sleep(0.02)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_leaves_the_earlier_batches_and_nothing_half_written(tmp_path: Path) -> None:
    run_generate(tmp_path, "--days", "2")
    before = tree(tmp_path)

    result = _interrupt_during_the_iot_file(tmp_path, signal.SIGINT)

    assert result.returncode == 130 and "interrupted" in result.stderr and "Traceback" not in result.stderr
    assert tree(tmp_path) == before


def test_a_killed_run_leaves_nothing_the_loader_would_pick_up(tmp_path: Path) -> None:
    run_generate(tmp_path, "--days", "2")
    (batch,) = [path for path in (tmp_path / "baseline").iterdir() if path.is_dir()]
    before = tree(batch)

    _interrupt_during_the_iot_file(tmp_path, signal.SIGKILL)

    assert tree(batch) == before
    assert loadable_batches(tmp_path) == [batch.name]
    # The next run finishes the job and says what the killed one left behind.
    result = runner.invoke(cli, ["--quiet", "--out", str(tmp_path), *SMALL, "--days", "3"])
    assert result.exit_code == 0 and ".incomplete-" in result.stderr
    assert loadable_batches(tmp_path) == ["2025-03-01_2025-03-03"]
