"""The plant-year pipeline that many tests read, built once per test run whatever the number of pytest workers.

The first worker whose tests need it starts `python shared_pipeline.py <run folder>` in the background and goes
on with other tests (the tests that read it are sorted last); every worker then waits for the result file. The
tests that only read share the database it was built in; a copy made right after the build, which no test connects
to, is the template from which a test that writes gets a copy of its own in seconds (`create database ...
template`).

Every database made for the run is named in the run folder, so that the end of the session drops them all,
also after a failure or Ctrl-C.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, drop_database, maintenance_cursor, resolve

# The demo's horizon (queijaria generate's defaults): a plant-year from 2025-03-01 puts every scenario's calendar
# window on its season (seeds/scenarios.csv) and the baseline's realistic ranges are judged over a plant-year.
PIPELINE_GENERATE_ARGS = ("--scenario", "all", "--start-date", "2025-03-01", "--days", "365", "--iot-interval", "15")
RESULT_FILE = "pipeline.json"
STARTED_FILE = "pipeline.started"
DATABASES_FILE = "databases.txt"
LOG_FILE = "pipeline.log"
WAITS_FILE = "pipeline_waits.txt"
BUILD_TIMEOUT_S = 30 * 60


@contextmanager
def run_lock(run_folder: Path) -> Iterator[None]:
    """One worker at a time decides whether to start the build or records a database."""
    with (run_folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def register_database(run_folder: Path, name: str) -> None:
    with run_lock(run_folder), (run_folder / DATABASES_FILE).open("a") as handle:
        handle.write(name + "\n")


def new_database(run_folder: Path, prefix: str, template: str | None = None) -> ConnectionSettings:
    """An empty database (or a copy of `template`) on the test server, dropped at the end of the run."""
    settings = resolve()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    register_database(run_folder, name)
    with maintenance_cursor(settings) as cursor:
        copy = f' template "{template}"' if template else ""
        cursor.execute(f'create database "{name}"{copy}')
    return ConnectionSettings(**{**asdict(settings), "dbname": name})


def drop_run_databases(run_folder: Path) -> None:
    listed = run_folder / DATABASES_FILE
    if not listed.exists():
        return
    for name in listed.read_text().split():
        drop_database(ConnectionSettings(**{**asdict(resolve()), "dbname": name}))


def start_build(run_folder: Path) -> None:
    """Start the build in the background unless a worker already has; returns at once."""
    with run_lock(run_folder):
        started = run_folder / STARTED_FILE
        if started.exists():
            return
        log = (run_folder / LOG_FILE).open("w")
        process = subprocess.Popen(
            [sys.executable, __file__, str(run_folder)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.write_text(str(process.pid))


def stop_build(run_folder: Path) -> None:
    """End a build still running when the session ends (an interrupted or failed run)."""
    started = run_folder / STARTED_FILE
    if started.exists() and not (run_folder / RESULT_FILE).exists():
        with suppress(ProcessLookupError, ValueError):
            os.killpg(int(started.read_text()), 15)


def is_built(run_folder: Path) -> bool:
    """Whether the build has ended (built or failed): its result is there to read."""
    return (run_folder / RESULT_FILE).exists()


def wait_for_build(run_folder: Path) -> dict:
    start_build(run_folder)
    result_file = run_folder / RESULT_FILE
    started = time.monotonic()
    deadline = started + BUILD_TIMEOUT_S
    while not result_file.exists():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the shared pipeline was not built in {BUILD_TIMEOUT_S} s; see {run_folder / LOG_FILE}"
            )
        time.sleep(0.5)
    # The time a worker sat idle waiting, for the run's summary: whether the build holds the run up.
    with run_lock(run_folder), (run_folder / WAITS_FILE).open("a") as handle:
        handle.write(f"{time.monotonic() - started:.0f}\n")
    result = json.loads(result_file.read_text())
    if "error" in result:
        raise AssertionError(f"building the shared pipeline failed:\n{result['error']}")
    return result


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def build(run_folder: Path) -> dict:
    """Generate, load and `dbt build` the plant-year into the readers' database, then copy it as the template."""
    readers = new_database(run_folder, "pipeline")
    data_dir = run_folder / "generated"
    target_dir = run_folder / "pipeline_target"
    env = {**os.environ, **readers.as_env(), "DBT_TARGET_PATH": str(target_dir)}
    env.pop("DATABASE_URL", None)
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "queijaria"), "generate", *PIPELINE_GENERATE_ARGS, "--out", str(data_dir)], env)
    _run([str(bin_dir / "queijaria"), "load", "--out", str(data_dir)], env)
    build_output = _run(
        [str(bin_dir / "dbt"), "build", "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(PROJECT_ROOT)], env
    )
    return {
        "readers": asdict(readers),
        "data_dir": str(data_dir),
        "target_dir": str(target_dir),
        "build_output": build_output,
    }


def copy_data(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    began = time.monotonic()
    try:
        outcome = build(folder)
        outcome["seconds"] = round(time.monotonic() - began)
    except Exception as error:  # any failure is reported to every waiting worker, once
        outcome = {"error": f"{type(error).__name__}: {error}"}
    partial = folder / f".{RESULT_FILE}.partial"
    partial.write_text(json.dumps(outcome))
    partial.replace(folder / RESULT_FILE)
