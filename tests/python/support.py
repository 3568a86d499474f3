"""Helpers shared by the test modules: fresh databases on the real server and a dbt runner bound to one."""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import in_process_dbt

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, drop_database, resolve
from queijaria.db.connection import create_scratch_database as create_database
from queijaria.db.embedded import EmbeddedServer

__all__ = [
    "BuiltPipeline",
    "DbtRunner",
    "create_database",
    "drop_database",
    "free_port",
    "make_dbt_runner",
    "scratch_embedded_server",
    "tagged_test_results",
]

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

DbtRunner = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scratch_embedded_server(folder: Path, **environ: str) -> EmbeddedServer:
    """An embedded server of its own (not started): data in `folder`, a free port, PG* variables from environ."""
    return EmbeddedServer(pgdata=folder / "pgdata", settings=resolve({"PGPORT": str(free_port()), **environ}))


def make_dbt_runner(settings: ConnectionSettings, target_path: Path, project_dir: Path = PROJECT_ROOT) -> DbtRunner:
    """`dbt <args>` against the settings' database, run in this process (in_process_dbt); check: a failure raises
    with what dbt printed."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = in_process_dbt.invoke(settings, target_path, project_dir, args)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    return run


@dataclass(frozen=True)
class BuiltPipeline:
    """Every scenario generated, loaded and built with dbt into the session database."""

    settings: ConnectionSettings
    dbt: DbtRunner
    data_dir: Path
    build_output: str
    # The build's own dbt artefacts (manifest.json, run_results.json): what its data tests found.
    target_dir: Path | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.settings.as_env()}
        env.pop("DATABASE_URL", None)
        return subprocess.run(
            [str(Path(sys.executable).with_name("queijaria")), *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


def tagged_test_results(target: Path, tag: str) -> list[dict]:
    """The results of every test with the tag in the `dbt build` whose artefacts are in target; one entry per test
    of the manifest: name, kind (the generic test's name, or 'singular'), model, status, failures, severity and
    expected_to_fail reason (None when unmarked).

    A tagged test that did not run fails here: an entry per test, not per result, so none can go missing.
    """
    nodes = json.loads(Path(target, "manifest.json").read_text())["nodes"]
    tagged = {
        unique_id: node for unique_id, node in nodes.items() if node["resource_type"] == "test" and tag in node["tags"]
    }
    assert tagged, f"no test in the manifest has the tag {tag}"
    runs = {run["unique_id"]: run for run in json.loads(Path(target, "run_results.json").read_text())["results"]}
    not_run = sorted(tagged[unique_id]["name"] for unique_id in tagged.keys() - runs.keys())
    assert not not_run, f"{tag} tests in the manifest that did not run: {not_run}"
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


def unmet(results: list[dict]) -> list[str]:
    """Unmarked tests that did not pass."""
    return [
        f"{entry['name']}: {entry['status']} ({entry['failures']} row(s))"
        for entry in results
        if not entry["expected_to_fail"] and entry["status"] != "pass"
    ]


def marked_but_passing(results: list[dict]) -> list[str]:
    """Tests marked expected_to_fail that no longer fail at severity warn (strict xfail)."""
    marked = [entry for entry in results if entry["expected_to_fail"]]
    assert all(entry["severity"].lower() == "warn" for entry in marked), marked
    return [entry["name"] for entry in marked if entry["status"] != "warn" or not entry["failures"]]


def preview_figures(page: Path) -> dict:
    """The figures a preview page embeds (base64 of gzip of JSON, as the page's own script unpacks them)."""
    text = page.read_text()
    start = text.index('<script id="figures" type="application/octet-stream">')
    packed = text[text.index(">", start) + 1 : text.index("</script>", start)]
    return json.loads(gzip.decompress(base64.b64decode(packed)))


# Columns that say which run wrote a row (its data horizon, its time), not what the row is: a full refresh writes
# them otherwise.
RUN_METADATA = frozenset({"horizon_at", "processed_at"})


def aligned_arrays_sorted(row: tuple) -> tuple:
    """The row with its array columns' elements sorted together: a model may leave the order of its aligned arrays
    to the plan (int_sensor_days_aggregated: element i of each belongs together, consumers sort after unnesting)."""
    arrays = [position for position, value in enumerate(row) if isinstance(value, list)]
    if not arrays:
        return row
    others = tuple(value for position, value in enumerate(row) if position not in arrays)
    return (*others, tuple(sorted(zip(*(row[position] for position in arrays), strict=True))))
