"""The project's dbt conventions, checked on the manifest and the catalog of a real build.

Every model, seed and source is documented down to its columns; every model has a primary key tested
unique and not null; marts enforce their contracts; names follow the structure guide.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support import BuiltPipeline


@cache
def artefacts(target: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return json.loads((target / "manifest.json").read_text()), json.loads((target / "catalog.json").read_text())


@pytest.fixture(scope="module")
def docs(built_pipeline: BuiltPipeline, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    result = built_pipeline.dbt("docs", "generate")
    target = Path(re.search(r"Catalog written to (\S+)catalog\.json", result.stdout).group(1))
    return artefacts(target)


def project_nodes(manifest: dict, resource_type: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == resource_type and node["package_name"] == "queijaria_pcp"
    ]


@pytest.mark.parametrize("resource_type", ["model", "seed"])
def test_every_model_and_seed_column_is_documented(docs: tuple[dict, dict], resource_type: str) -> None:
    manifest, catalog = docs
    undocumented = []
    for node in project_nodes(manifest, resource_type):
        if not node["description"].strip():
            undocumented.append(node["name"])
        built_columns = catalog["nodes"].get(node["unique_id"], {}).get("columns", {})
        documented = {name for name, column in node["columns"].items() if column["description"].strip()}
        undocumented += [f"{node['name']}.{column}" for column in built_columns if column not in documented]
    assert not undocumented, f"undocumented {resource_type}s/columns: {undocumented}"


def test_every_source_table_and_column_is_documented(docs: tuple[dict, dict]) -> None:
    manifest, catalog = docs
    undocumented = []
    for source in manifest["sources"].values():
        if not source["description"].strip():
            undocumented.append(source["name"])
        built_columns = catalog["sources"].get(source["unique_id"], {}).get("columns", {})
        documented = {name for name, column in source["columns"].items() if column["description"].strip()}
        undocumented += [f"{source['name']}.{column}" for column in built_columns if column not in documented]
        assert source["loaded_at_field"] and source["freshness"], f"{source['name']} has no freshness"
    assert not undocumented, f"undocumented sources/columns: {undocumented}"


def test_every_model_has_a_primary_key_tested_unique_and_not_null(docs: tuple[dict, dict]) -> None:
    manifest, _ = docs
    tests_by_model: dict[str, set[tuple[str, str | None]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        for parent in node["depends_on"]["nodes"][-1:]:
            tests_by_model.setdefault(parent, set()).add((node["test_metadata"]["name"], node.get("column_name")))
    missing = []
    for model in project_nodes(manifest, "model"):
        tests = tests_by_model.get(model["unique_id"], set())
        unique_columns = {column for name, column in tests if name == "unique"}
        not_null_columns = {column for name, column in tests if name == "not_null"}
        if not unique_columns & not_null_columns:
            missing.append(model["name"])
    assert not missing, f"models without a primary key tested unique and not null: {missing}"


def test_marts_enforce_their_contracts(docs: tuple[dict, dict]) -> None:
    manifest, _ = docs
    marts = [model for model in project_nodes(manifest, "model") if model["fqn"][1] == "marts"]
    assert marts
    assert all(model["config"]["contract"]["enforced"] for model in marts), [m["name"] for m in marts]


def test_model_names_follow_the_structure_guide(docs: tuple[dict, dict]) -> None:
    manifest, _ = docs
    for model in project_nodes(manifest, "model"):
        layer, name, path = model["fqn"][1], model["name"], model["original_file_path"]
        if layer == "staging":
            source = Path(path).parent.name
            assert re.fullmatch(rf"stg_{source}__[a-z0-9_]+", name), name
        elif layer == "intermediate":
            assert re.fullmatch(r"int_[a-z0-9_]+_[a-z]+ed", name), name
        else:
            assert layer == "marts" and re.fullmatch(r"(fct|dim)_[a-z0-9_]+", name), name
