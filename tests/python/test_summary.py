"""`queijaria summary`: the headline KPIs per scenario from marts.fct_scenario_kpis, as a table and as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from support import BuiltPipeline, create_database, drop_database

from dataset_contract import SEEDS_DIR
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.reporting.summary import KpiFigure, kpis_by_scenario

SCENARIOS = ("baseline", "milk_shortage", "heatwave", "breakdown", "demand_peak")


def mart_figures(settings: ConnectionSettings, window: str) -> dict[str, dict[str, Decimal | None]]:
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select scenario_id, kpi_id, kpi_value from marts.fct_scenario_kpis where kpi_window = %s", (window,)
        )
        figures: dict[str, dict[str, Decimal | None]] = {}
        for scenario_id, kpi_id, value in cursor.fetchall():
            figures.setdefault(scenario_id, {})[kpi_id] = value
    return figures


def as_json_numbers(figures: dict[str, dict[str, Decimal | None]]) -> dict[str, dict[str, float | None]]:
    return {
        scenario: {kpi: None if value is None else float(value) for kpi, value in kpis.items()}
        for scenario, kpis in figures.items()
    }


@pytest.mark.parametrize("window", ["whole_horizon", "effect_window", "effect_and_recovery"])
def test_summary_json_is_the_marts_figures(built_pipeline: BuiltPipeline, window: str) -> None:
    result = built_pipeline.cli("summary", "--json", "--window", window)
    assert result.returncode == 0, result.stderr

    printed = json.loads(result.stdout)
    expected = as_json_numbers(mart_figures(built_pipeline.settings, window))
    assert printed == expected
    scenarios = set(SCENARIOS) if window == "whole_horizon" else set(SCENARIOS) - {"baseline"}
    assert set(printed) == scenarios
    kpi_count = len((SEEDS_DIR / "kpi_definitions.csv").read_text().splitlines()) - 1
    assert all(len(kpis) == kpi_count for kpis in printed.values())
    assert printed["breakdown"]["oee"] is not None and 0 < printed["breakdown"]["oee"] < 1


def test_summary_json_writes_an_undefined_ratio_as_null_and_counts_as_integers() -> None:
    figures = [
        KpiFigure("heatwave", "mtbf_h", "MTBF", "h", True, None, Decimal("300.5"), None),
        KpiFigure(
            "heatwave", "late_orders", "Late orders", "orders", False, Decimal("7.000"), Decimal(2), Decimal("2.5")
        ),
        KpiFigure("heatwave", "oee", "OEE", "fraction", True, Decimal("0.6125"), Decimal("0.7"), Decimal("-0.125")),
    ]

    assert json.loads(json.dumps(kpis_by_scenario(figures))) == {
        "heatwave": {"mtbf_h": None, "late_orders": 7, "oee": 0.6125}
    }


def test_summary_table_shows_every_scenario_and_kpi_within_120_columns(built_pipeline: BuiltPipeline) -> None:
    result = built_pipeline.cli("summary")
    assert result.returncode == 0, result.stderr

    header = next(line for line in result.stdout.splitlines() if line.startswith("┃ KPI"))
    baseline_first = sorted(SCENARIOS, key=lambda scenario: (scenario != "baseline", scenario))
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == ["KPI", *baseline_first]
    for label in ("OEE (%)", "OTIF (%)", "MTBF (h)", "MTTR (h)", "Energy intensity (kWh/kg)", "Out of spec (min)"):
        assert label in result.stdout
    baseline_oee = mart_figures(built_pipeline.settings, "whole_horizon")["baseline"]["oee"]
    oee_row = next(line for line in result.stdout.splitlines() if line.startswith("│ OEE (%)"))
    assert f"{float(baseline_oee) * 100:.1f} %" == oee_row.split("│")[2].strip()
    assert max(len(line) for line in result.stdout.splitlines()) <= 120


def run_summary(settings: ConnectionSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.as_env()}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(Path(sys.executable).with_name("queijaria")), "summary", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def empty_database() -> Iterator[ConnectionSettings]:
    settings = create_database(resolve(), "queijaria_summary_test")
    yield settings
    drop_database(settings)


@pytest.mark.parametrize("args", [(), ("--json",)])
def test_summary_without_the_marts_says_to_build_them(
    empty_database: ConnectionSettings, args: tuple[str, ...]
) -> None:
    result = run_summary(empty_database, *args)

    assert result.returncode == 1
    assert "marts.fct_scenario_kpis is not built yet: run `dbt build`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if args:
        assert result.stdout == "", "--json writes nothing to stdout when there is nothing to write"
