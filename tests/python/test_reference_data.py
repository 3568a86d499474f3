"""The reference data is guarded by dbt tests: a bad seed row makes the build, and so `make test`, fail."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import DbtRunner, create_database, drop_database, make_dbt_runner

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, resolve

REFERENCE_SELECTION = (
    "--select",
    "resource_type:seed",
    "path:models/staging/reference",
    "path:tests/reference",
    # tests that also touch models outside the reference layer are left to the full build
    "--indirect-selection",
    "cautious",
)


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project for the module, so that its parse serves every test; each test puts back the seed
    it corrupts."""
    ignore = shutil.ignore_patterns(".venv", ".pgdata", "data", "target*", "logs", "reports", ".git", "__pycache__")
    return Path(shutil.copytree(PROJECT_ROOT, tmp_path_factory.mktemp("reference") / "project", ignore=ignore))


@pytest.fixture
def scratch_dbt(tmp_path: Path) -> Iterator[Callable[[Path], DbtRunner]]:
    """A dbt runner bound to a project copy and a database of its own."""
    databases: list[ConnectionSettings] = []

    def runner(project_dir: Path) -> DbtRunner:
        settings = create_database(resolve(), "queijaria_scratch")
        databases.append(settings)
        return make_dbt_runner(settings, tmp_path / f"target_{len(databases)}", project_dir=project_dir)

    yield runner
    for settings in databases:
        drop_database(settings)


def failed_nodes(target_path: Path) -> set[str]:
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {result["unique_id"] for result in results if result["status"] in {"fail", "error"}}


def test_reference_layer_builds_clean(tmp_path: Path, scratch_dbt: Callable[[Path], DbtRunner]) -> None:
    dbt = scratch_dbt(PROJECT_ROOT)
    result = dbt("build", *REFERENCE_SELECTION)
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout


@pytest.mark.parametrize(
    ("seed", "corrupt", "expected_test"),
    [
        # the same product code twice
        (
            "products.csv",
            lambda text: text + "MUS,Mussarela de novo,MUS,MILK,10.0,8.6,45.0,75,0,4.0,160,34.90\n",
            "unique_stg_reference__products_product_id",
        ),
        # a recipe line for a material nobody stocks
        (
            "recipe_lines.csv",
            lambda text: text + "MUS,UNOBTAINIUM,1.0,0.01\n",
            "relationships_stg_reference__recipe_lines_material_id",
        ),
        # a sensor whose specification is upside down
        (
            "sensors.csv",
            lambda text: text.replace(",72.0,75.0,73.5,", ",75.0,72.0,73.5,"),
            "expression_is_true_stg_reference__sensors",
        ),
    ],
    ids=["duplicate-product", "unknown-material", "inverted-spec"],
)
def test_a_corrupted_seed_row_fails_the_build(
    tmp_path: Path,
    scratch_dbt: Callable[[Path], DbtRunner],
    project_copy: Path,
    seed: str,
    corrupt: Callable[[str], str],
    expected_test: str,
) -> None:
    seed_path = project_copy / "seeds" / seed
    original = seed_path.read_text()
    corrupted = corrupt(original)
    assert corrupted != original, "the corruption must change the seed"
    seed_path.write_text(corrupted)
    try:
        result = scratch_dbt(project_copy)("build", *REFERENCE_SELECTION, check=False)
    finally:
        seed_path.write_text(original)

    assert result.returncode != 0
    target = next(tmp_path.glob("target_*"))
    assert any(expected_test in node for node in failed_nodes(target)), result.stdout[-4000:]
