"""Valid keys of the seed tables, read from seeds/<table>.csv (the loader runs before `dbt seed`)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from dataset_contract import SEEDS_DIR, Dataset
from queijaria.loading.errors import LoadError


@cache
def seed_keys(seeds_dir: Path, table: str, column: str) -> frozenset[str]:
    path = seeds_dir / f"{table}.csv"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if column not in (reader.fieldnames or []):
                raise LoadError(path, f"seed has no column {column!r}")
            return frozenset(row[column] for row in reader if row[column] != "")
    except FileNotFoundError as error:
        raise LoadError(path, "seed file not found (it lists the valid keys)") from error


def dataset_reference_keys(dataset: Dataset, seeds_dir: Path = SEEDS_DIR) -> dict[str, frozenset[str]]:
    """Column name -> valid keys, for every column of the dataset that references a seed."""
    return {column.name: seed_keys(seeds_dir, *column.references) for column in dataset.columns if column.references}
