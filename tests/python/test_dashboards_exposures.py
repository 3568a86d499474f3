"""The dbt exposures file stays in step with the dashboards' YAML, and dbt sees one exposure per dashboard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import DbtRunner

from queijaria.dashboards.exposures import (
    ExposuresOutOfStepError,
    check_exposures,
    exposure_name,
    write_exposures,
)
from queijaria.dashboards.spec import DASHBOARDS_DIR, load_dashboards


def test_the_committed_exposures_match_the_dashboards() -> None:
    check_exposures(load_dashboards())


def test_a_card_reading_a_mart_the_exposure_does_not_list_fails_the_check(tmp_path: Path) -> None:
    specs = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, specs)
    exposures = write_exposures(load_dashboards(specs), tmp_path / "exposures.yml")
    overview = specs / "overview.yml"
    overview.write_text(
        overview.read_text().replace("from marts.fct_material_shortages\n", "from marts.fct_production_orders\n", 1)
    )
    with pytest.raises(
        ExposuresOutOfStepError, match=r"dashboard_overview .* does not list ref\('fct_production_orders'\)"
    ):
        check_exposures(load_dashboards(specs), exposures)


@pytest.mark.slow
def test_dbt_lists_one_exposure_per_dashboard_on_its_marts(dbt: DbtRunner) -> None:
    listed = dbt("ls", "--resource-type", "exposure", "--output", "json", "--output-keys", "name depends_on").stdout
    exposures = {
        item["name"]: sorted(node.split(".")[-1] for node in item["depends_on"]["nodes"])
        for item in map(json.loads, (line for line in listed.splitlines() if line.startswith("{")))
    }
    assert exposures == {exposure_name(dashboard): list(dashboard.marts) for dashboard in load_dashboards()}
