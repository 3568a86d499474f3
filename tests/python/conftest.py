"""Shared fixtures: every test run gets fresh databases on the real server (embedded by default).

The run, with or without pytest-xdist workers, has one folder (QUEIJARIA_TEST_RUN, made by the process that
starts the run) for what the workers share: the plant-year pipeline built once (shared_pipeline.py) and the list
of databases to drop at the end.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shared_pipeline
from support import BuiltPipeline, DbtRunner, create_database, drop_database, make_dbt_runner, scratch_embedded_server
from xdist.scheduler import LoadScopeScheduling

from queijaria.db.connection import ConnectionSettings, resolve
from queijaria.db.embedded import EmbeddedServer

# The small plant's fixtures (small_plant.py), for every module that asks for them.
pytest_plugins = ("small_plant",)

RUN_VARIABLE = "QUEIJARIA_TEST_RUN"
# Seconds each test took in a recent run (`make test-durations` writes it): the order the tests are handed out in.
DURATIONS_FILE = Path(__file__).with_name("durations.json")
PIPELINE_FIXTURES = {"built_pipeline"}
# Each worker's scope of every test, for ModuleScheduling.
SCOPES_FILE = "scopes.json"
PLANT_YEAR = "plant-year"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    # Made before xdist starts its workers, which inherit the variable.
    if not _is_worker(config):
        os.environ[RUN_VARIABLE] = tempfile.mkdtemp(prefix="queijaria-tests-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_worker(config) or RUN_VARIABLE not in os.environ:
        return
    folder = Path(os.environ.pop(RUN_VARIABLE))
    recorded: dict[str, float] = {}
    for listing in folder.glob("durations-*.txt"):
        for line in listing.read_text().splitlines():
            took, nodeid = line.split(" ", 1)
            recorded[nodeid] = round(recorded.get(nodeid, 0.0) + float(took), 1)
    if recorded:
        DURATIONS_FILE.write_text(json.dumps(dict(sorted(recorded.items())), indent=0) + "\n")
    shared_pipeline.stop_build(folder)
    try:
        shared_pipeline.drop_run_databases(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_folder() -> Path:
    return Path(os.environ[RUN_VARIABLE])


def _needs_pipeline(item: pytest.Item) -> bool:
    return bool(PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())))


def _known_seconds() -> dict[str, float]:
    try:
        return json.loads(DURATIONS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _scope(item: pytest.Item) -> str:
    """What one worker runs at a time: a module's tests that read the plant-year, or those that do not."""
    return f"{_module(item.nodeid)} ({PLANT_YEAR if _needs_pipeline(item) else 'own data'})"


def _reads_plant_year(scope: str) -> bool:
    return scope.endswith(f"({PLANT_YEAR})")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest scopes first (durations.json, from an earlier run; a new test counts as short), so that no worker
    starts a long module when the others are about to finish; the tests that read the plant-year after the others,
    for a run without workers (with workers, ModuleScheduling hands them out as soon as the plant-year is built). A
    module's tests stay together and in their order, on one worker: a module split across workers would set its
    module fixtures up on each."""
    seconds = _known_seconds()
    scope_seconds: Counter[str] = Counter()
    for item in items:
        scope_seconds[_scope(item)] += seconds.get(item.nodeid, 0.0)
    items.sort(key=lambda item: (_needs_pipeline(item), -scope_seconds[_scope(item)], _scope(item)))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and RUN_VARIABLE in os.environ:
        partial = run_folder() / f".{SCOPES_FILE}.{worker}"
        scopes = {item.nodeid: _scope(item) for item in items}
        partial.write_text(json.dumps({"scopes": scopes, "seconds": dict(scope_seconds)}))
        partial.replace(run_folder() / f"{worker}-{SCOPES_FILE}")


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling:
    return ModuleScheduling(config, log)


class ModuleScheduling(LoadScopeScheduling):
    """pytest-xdist's scheduling by scope, a scope being a module's tests that read the plant-year or those that
    do not. A free worker gets the longest scope left (durations.json), skipping those that read the plant-year
    until it is built: the workers never sit waiting for the build while other tests are left, and the run ends on
    short modules, not on a long one that had to wait its turn.

    The workers write each test's scope and each scope's seconds while collecting; the controller, which collects
    nothing, reads them when every worker has collected, before it hands out the first test."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)
        self._scopes: dict[str, str] | None = None
        self._seconds: dict[str, float] = {}

    def _split_scope(self, nodeid: str) -> str:
        if self._scopes is None:
            listed = sorted(run_folder().glob(f"*-{SCOPES_FILE}"))
            written = json.loads(listed[0].read_text()) if listed else {}
            self._scopes, self._seconds = written.get("scopes", {}), written.get("seconds", {})
        return self._scopes.get(nodeid) or _module(nodeid)

    def _assign_work_unit(self, node: object) -> None:
        built = shared_pipeline.is_built(run_folder())
        ready = [scope for scope in self.workqueue if built or not _reads_plant_year(scope)]
        # The queue keeps the collection order: max takes the first of the longest.
        chosen = max(ready or self.workqueue, key=lambda scope: self._seconds.get(scope, 0.0))
        self.workqueue.move_to_end(chosen, last=False)
        super()._assign_work_unit(node)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With QUEIJARIA_RECORD_DURATIONS set, each test's setup + call + teardown seconds go to the run folder."""
    # xdist hands every worker's reports to the process that started the run: that one records them, once.
    recording = os.environ.get("QUEIJARIA_RECORD_DURATIONS") and "PYTEST_XDIST_WORKER" not in os.environ
    if recording and RUN_VARIABLE in os.environ:
        with Path(run_folder(), f"durations-{os.getpid()}.txt").open("a") as handle:
            handle.write(f"{report.duration:.3f} {report.nodeid}\n")


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(_needs_pipeline(item) for item in session.items):
        shared_pipeline.start_build(run_folder())


@pytest.fixture(scope="session")
def database() -> Iterator[ConnectionSettings]:
    """A fresh, empty database for the worker's session, dropped at the end."""
    settings = create_database(resolve(), "queijaria_test")
    yield settings
    drop_database(settings)


@pytest.fixture(scope="module")
def fresh_embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """An embedded server of the module's own, set up from an empty folder on a free port, stopped afterwards."""
    server = scratch_embedded_server(tmp_path_factory.mktemp("embedded"))
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="session")
def dbt(database: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> DbtRunner:
    """Runs dbt against the session database, with a target folder of its own."""
    return make_dbt_runner(database, tmp_path_factory.mktemp("dbt_target"))


@pytest.fixture(scope="session")
def _pipeline_build() -> dict:
    return shared_pipeline.wait_for_build(run_folder())


@pytest.fixture(scope="session")
def built_pipeline(_pipeline_build: dict, tmp_path_factory: pytest.TempPathFactory) -> BuiltPipeline:
    """Every scenario of a plant-year generated, loaded and built with dbt, shared by the run: read, never write."""
    target = tmp_path_factory.mktemp("pipeline_target")
    # The build's parse of the same project and database: this worker's dbt calls parse only what changed.
    shutil.copy(Path(_pipeline_build["target_dir"], "partial_parse.msgpack"), target)
    settings = ConnectionSettings(**_pipeline_build["readers"])
    return BuiltPipeline(
        settings=settings,
        dbt=make_dbt_runner(settings, target),
        data_dir=Path(_pipeline_build["data_dir"]),
        build_output=_pipeline_build["build_output"],
        target_dir=Path(_pipeline_build["target_dir"]),
    )


@pytest.fixture(scope="session")
def new_run_database() -> Callable[..., ConnectionSettings]:
    """Makes an empty database, or a copy of a template database, that the end of the run drops."""
    return functools.partial(shared_pipeline.new_database, run_folder())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each process that ran tests leaves its hypothesis example counts for the summary (xdist workers too)."""
    examples = getattr(sys.modules.get("test_reservation"), "EXAMPLES", None)
    if examples and RUN_VARIABLE in os.environ:
        Path(run_folder(), f"examples-{os.getpid()}.json").write_text(json.dumps(examples))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many hypothesis examples the reservation property tests ran (quoted in the issue notes)."""
    examples: Counter[str] = Counter()
    for counts in run_folder().glob("examples-*.json"):
        examples.update(json.loads(counts.read_text()))
    if examples:
        listed = ", ".join(f"{name}: {count}" for name, count in sorted(examples.items()))
        terminalreporter.write_line(f"reservation hypothesis examples run: {sum(examples.values())} ({listed})")
    built = run_folder() / shared_pipeline.RESULT_FILE
    if built.exists() and "seconds" in (result := json.loads(built.read_text())):
        waits = (run_folder() / shared_pipeline.WAITS_FILE).read_text().split()
        terminalreporter.write_line(
            f"shared plant-year pipeline built in {result['seconds']} s; workers waited for it: {', '.join(waits)} s"
        )
