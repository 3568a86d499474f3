"""Scenario signatures (tag scenario_signature) with strict expected-failure semantics.

Each scenario must move its KPIs the way DOMAIN.md §2 says: the uses of the generic test scenario_signature on
fct_scenario_kpis (models/marts/scenarios/_scenarios__models.yml, one per KPI, named assert_<scenario>_...) and the
singular tests of tests/scenario_signatures, all found by their tag in dbt's manifest. A signature the generator
cannot show yet is marked `meta: expected_to_fail` with its reason and runs at severity warn. Like pytest's strict
xfail: every unmarked signature passes, and every marked one still fails, so one that starts passing must lose its
mark.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import BuiltPipeline, make_dbt_runner

from queijaria.db.connection import connect

SIGNATURE_TAG = "scenario_signature"
SCENARIOS_WITH_EFFECTS = ("milk_shortage", "heatwave", "breakdown", "demand_peak")


@pytest.fixture(scope="module")
def signature_results(built_pipeline: BuiltPipeline, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """One entry per signature test of the manifest: name, kind, status, failures, severity and expected_to_fail
    reason (None when unmarked)."""
    target = tmp_path_factory.mktemp("signature_target")
    dbt = make_dbt_runner(built_pipeline.settings, target)
    result = dbt("test", "--select", f"tag:{SIGNATURE_TAG}", check=False)
    assert result.returncode == 0, f"a signature test errored or failed at severity error:\n{result.stdout[-4000:]}"

    nodes = json.loads(Path(target, "manifest.json").read_text())["nodes"]
    tagged = {
        unique_id: node
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test" and SIGNATURE_TAG in node["tags"]
    }
    # run_results also holds the on-run-start hook
    runs = {run["unique_id"]: run for run in json.loads(Path(target, "run_results.json").read_text())["results"]}
    not_run = sorted(tagged[unique_id]["name"] for unique_id in tagged.keys() - runs.keys())
    assert not not_run, f"signature tests in the manifest that did not run: {not_run}"
    return [
        {
            "name": node["name"],
            "kind": (node.get("test_metadata") or {}).get("name", "singular"),
            "model": next((name for name in node["depends_on"]["nodes"] if name.startswith("model.")), None),
            "status": runs[unique_id]["status"],
            "failures": runs[unique_id]["failures"],
            "severity": node["config"]["severity"],
            "expected_to_fail": node["config"]["meta"].get("expected_to_fail"),
        }
        for unique_id, node in sorted(tagged.items())
    ]


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
    failing = [
        f"{signature['name']}: {signature['status']} ({signature['failures']} row(s))"
        for signature in signature_results
        if not signature["expected_to_fail"] and signature["status"] != "pass"
    ]
    assert not failing, f"scenario signatures not met: {failing}"


def test_marked_signatures_still_fail(signature_results: list[dict]) -> None:
    marked = [signature for signature in signature_results if signature["expected_to_fail"]]
    assert all(signature["severity"].lower() == "warn" for signature in marked), marked
    now_passing = [signature["name"] for signature in marked if signature["status"] != "warn"]
    assert not now_passing, (
        f"these signatures marked expected_to_fail now pass: remove their meta expected_to_fail and severity warn: "
        f"{now_passing}"
    )
    assert all(signature["failures"] > 0 for signature in marked)
