"""dbt exposures generated from the dashboards' YAML: one per dashboard, depending on the marts its cards read,
so `dbt docs` shows each dashboard at the end of its lineage and `dbt ls -s +exposure:...` selects what feeds it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from queijaria import PROJECT_ROOT
from queijaria.dashboards.spec import Dashboard

EXPOSURES_FILE = PROJECT_ROOT / "models" / "exposures" / "_dashboards__exposures.yml"
HEADER = (
    "# Generated from dashboards/*.yml by `queijaria dashboards exposures` (make exposures); do not edit by hand.\n"
    "# tests/python/test_dashboards_exposures.py fails when this file and the dashboards disagree.\n"
)
METABASE_URL_HINT = "http://localhost:3000/collection/root"


class ExposuresOutOfStepError(RuntimeError):
    """The exposures file does not match the dashboards; the message says which and how to fix it."""


def exposure_name(dashboard: Dashboard) -> str:
    return "dashboard_" + re.sub(r"[^a-z0-9]+", "_", dashboard.name.lower()).strip("_")


def exposures_document(dashboards: list[Dashboard]) -> dict[str, object]:
    return {
        "version": 2,
        "exposures": [
            {
                "name": exposure_name(dashboard),
                "label": dashboard.name,
                "type": "dashboard",
                "maturity": "medium",
                "url": METABASE_URL_HINT,
                "description": f"{dashboard.description} Defined in dashboards/{dashboard.path.name}.",
                "depends_on": [f"ref('{mart}')" for mart in dashboard.marts],
                "owner": {"name": "PCP planning"},
            }
            for dashboard in dashboards
        ],
    }


def render_exposures(dashboards: list[Dashboard]) -> str:
    return HEADER + yaml.safe_dump(exposures_document(dashboards), sort_keys=False, width=120)


def write_exposures(dashboards: list[Dashboard], path: Path = EXPOSURES_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_exposures(dashboards))
    return path


def check_exposures(dashboards: list[Dashboard], path: Path = EXPOSURES_FILE) -> None:
    """Raise with the first difference: a dashboard without exposure, or marts read but not listed."""
    try:
        written = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as error:
        raise ExposuresOutOfStepError(f"{path} is missing; run `make exposures`") from error
    listed = {item.get("name"): item for item in written.get("exposures") or []}
    for dashboard in dashboards:
        exposure = listed.pop(exposure_name(dashboard), None)
        if exposure is None:
            raise ExposuresOutOfStepError(
                f"dashboard {dashboard.name!r} has no exposure in {path}; run `make exposures`"
            )
        depends = set(exposure.get("depends_on") or [])
        expected = {f"ref('{mart}')" for mart in dashboard.marts}
        if depends != expected:
            missing = sorted(expected - depends)
            extra = sorted(depends - expected)
            raise ExposuresOutOfStepError(
                f"exposure {exposure_name(dashboard)} in {path} does not list {', '.join(missing) or 'nothing'}"
                f" and lists {', '.join(extra) or 'nothing'} it no longer reads; run `make exposures`"
            )
    if listed:
        raise ExposuresOutOfStepError(f"{path} has exposures for no dashboard: {', '.join(sorted(listed))}")
    if path.read_text() != render_exposures(dashboards):
        raise ExposuresOutOfStepError(f"{path} differs from what the dashboards generate; run `make exposures`")
