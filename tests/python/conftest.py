"""Shared fixtures: every test session gets a fresh database on the real server (embedded by default)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from support import (
    BuiltPipeline,
    DbtRunner,
    create_database,
    drop_database,
    make_dbt_runner,
    scratch_embedded_server,
)

from queijaria.db.connection import ConnectionSettings, resolve
from queijaria.db.embedded import EmbeddedServer


@pytest.fixture(scope="session")
def database() -> Iterator[ConnectionSettings]:
    """A fresh, empty database for the whole session, dropped at the end."""
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


# The demo's horizon (queijaria generate's defaults): a plant-year from 2025-03-01 puts every scenario's calendar
# window on its season (seeds/scenarios.csv) and the baseline's realistic ranges are judged over a plant-year.
PIPELINE_GENERATE_ARGS = ("--scenario", "all", "--start-date", "2025-03-01", "--days", "365", "--iot-interval", "15")


@pytest.fixture(scope="session")
def built_pipeline(
    database: ConnectionSettings, dbt: DbtRunner, tmp_path_factory: pytest.TempPathFactory
) -> BuiltPipeline:
    data_dir = tmp_path_factory.mktemp("generated")
    pipeline = BuiltPipeline(settings=database, dbt=dbt, data_dir=data_dir, build_output="")
    for command in (("generate", *PIPELINE_GENERATE_ARGS), ("load",)):
        result = pipeline.cli(*command, "--out", str(data_dir))
        assert result.returncode == 0, (
            f"queijaria {command[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return replace(pipeline, build_output=dbt("build").stdout)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many hypothesis examples the reservation property tests ran (quoted in the issue notes)."""
    examples = getattr(sys.modules.get("test_reservation"), "EXAMPLES", None)
    if examples:
        counts = ", ".join(f"{name}: {count}" for name, count in sorted(examples.items()))
        terminalreporter.write_line(f"reservation hypothesis examples run: {sum(examples.values())} ({counts})")
