"""A small plant of its own for the tests that append to it, replace a scenario or run the daily flow on it: three
weeks of two scenarios (the demand peak starts in December) build in seconds, where the plant-year takes minutes.
Registered as a plugin by conftest.py, so every test module can ask for `small_plant`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import shared_pipeline
from support import BuiltPipeline, make_dbt_runner

from queijaria.db.connection import ConnectionSettings

SMALL_PLANT = ("--scenario", "baseline,demand_peak", "--start-date", "2025-11-20", "--days", "21")
IOT_INTERVAL = ("--iot-interval", "60")
# The unit tests read no loaded data: the plant-year's build runs them. The small plant's data tests run after
# each change to its data, not before.
DATA_NOT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
OBJECTS_ONLY = ("--exclude-resource-type", "unit_test", "test")


def run_cli(pipeline: BuiltPipeline, *command: str) -> None:
    result = pipeline.cli(*command, "--out", str(pipeline.data_dir))
    assert result.returncode == 0, f"queijaria {command[0]}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def small_plant_template(
    new_run_database: Callable[..., ConnectionSettings], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """The small plant generated, loaded and built once: the template database and its generated files."""
    data_dir = tmp_path_factory.mktemp("small_plant")
    settings = new_run_database("small_plant")
    pipeline = BuiltPipeline(settings, make_dbt_runner(settings, data_dir / "target"), data_dir / "generated", "")
    run_cli(pipeline, "generate", *SMALL_PLANT, *IOT_INTERVAL, "--quiet")
    run_cli(pipeline, "load")
    pipeline.dbt("build", *OBJECTS_ONLY)
    template = new_run_database("small_plant_template", template=settings.dbname)
    return template.dbname, pipeline.data_dir


@pytest.fixture
def small_plant(
    small_plant_template: tuple[str, Path], new_run_database: Callable[..., ConnectionSettings], tmp_path: Path
) -> BuiltPipeline:
    """A copy of the built small plant (database and generated files) for one test to write to."""
    template, data_dir = small_plant_template
    settings = new_run_database("small_plant_copy", template=template)
    copied = shared_pipeline.copy_data(data_dir, tmp_path / "generated")
    return BuiltPipeline(settings, make_dbt_runner(settings, tmp_path / "target"), copied, "")
