"""The README is the newcomer's entry point: its first commands and its data model stay true."""

from __future__ import annotations

from queijaria import PROJECT_ROOT
from queijaria.datasets import DATASETS

README = (PROJECT_ROOT / "README.md").read_text()


def test_the_two_commands_come_first() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_readme_documents_every_dataset_and_column() -> None:
    section = README.split("## Data model", 1)[1]
    for dataset in DATASETS:
        assert f"`raw.{dataset.name}`" in section, dataset.name
        table = section.split(f"`raw.{dataset.name}`", 1)[1].split("####", 1)[0]
        for column in dataset.column_names:
            assert f"`{column}`" in table, f"{dataset.name}.{column} is not in the README's data model"
