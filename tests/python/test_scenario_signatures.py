"""Scenario signatures (tag scenario_signature) with strict expected-failure semantics.

Each scenario must move its KPIs the way DOMAIN.md §2 says: the uses of the generic test scenario_signature on
fct_scenario_kpis (models/marts/scenarios/_scenarios__models.yml, one per KPI, named assert_<scenario>_...) and the
singular tests of tests/scenario_signatures, all found by their tag in dbt's manifest. A signature the generator
cannot show yet is marked `meta: expected_to_fail` with its reason and runs at severity warn. Like pytest's strict
xfail: every unmarked signature passes, and every marked one still fails, so one that starts passing must lose its
mark.
"""

from __future__ import annotations

import pytest
from support import BuiltPipeline, marked_but_passing, tagged_test_results, unmet

from queijaria.db.connection import connect

SIGNATURE_TAG = "scenario_signature"
SCENARIOS_WITH_EFFECTS = ("milk_shortage", "heatwave", "breakdown", "demand_peak")


@pytest.fixture(scope="module")
def signature_results(built_pipeline: BuiltPipeline) -> list[dict]:
    return tagged_test_results(built_pipeline.target_dir, SIGNATURE_TAG)


def test_every_scenario_has_its_effect_window_in_the_pipeline_data(built_pipeline: BuiltPipeline) -> None:
    # Without its window a scenario's signatures are not judged: they would pass with nothing to compare.
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select scenario_id, min(window_day_count) from marts.fct_scenario_kpis"
            " where kpi_window = 'effect_window' group by scenario_id"
        )
        windows = dict(cursor.fetchall())
    assert set(windows) == set(SCENARIOS_WITH_EFFECTS)
    assert all(days >= 3 for days in windows.values()), windows


def test_signatures_cover_every_scenario(signature_results: list[dict]) -> None:
    # The KPI signatures are the generic test's uses on fct_scenario_kpis; each scenario with effects has some.
    kpi_signatures = [signature for signature in signature_results if signature["kind"] == "scenario_signature"]
    assert {signature["model"] for signature in kpi_signatures} == {"model.queijaria_pcp.fct_scenario_kpis"}
    names = [signature["name"] for signature in kpi_signatures]
    assert len(names) == len(set(names))
    for scenario in SCENARIOS_WITH_EFFECTS:
        assert any(name.startswith(f"assert_{scenario}_") for name in names), f"no signature of {scenario}: {names}"


def test_unmarked_signatures_pass(signature_results: list[dict]) -> None:
    failing = unmet(signature_results)
    assert not failing, f"scenario signatures not met: {failing}"


def test_marked_signatures_still_fail(signature_results: list[dict]) -> None:
    now_passing = marked_but_passing(signature_results)
    assert not now_passing, (
        f"these signatures marked expected_to_fail now pass: remove their meta expected_to_fail and severity warn: "
        f"{now_passing}"
    )
