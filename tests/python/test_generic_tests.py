"""The generic tests written in macros/ (the dbt hub is out of reach) are themselves tested.

A throw-away dbt project uses the real macros on small seeds: each test must pass on the good seed and
fail with the expected number of failing rows on the bad one.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from support import DbtRunner, make_dbt_runner

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings

SEEDS = {
    "readings": (
        "reading_id,batch_id,value_c,low_c,high_c\n1,a,10,0,20\n2,a,20,0,20\n3,b,-5,0,20\n4,b,25,0,20\n5,c,,0,20\n"
    ),
    "pairs": "left_id,right_id\n1,1\n1,2\n2,1\n1,2\n",
}

SCHEMA = """
version: 2
seeds:
  - name: readings
    data_tests:
      - expression_is_true:
          name: expression_holds_everywhere
          arguments:
            expression: "low_c <= high_c"
      - expression_is_true:
          name: expression_fails_outside_bounds
          arguments:
            expression: "value_c between low_c and high_c"
      - unique_combination_of_columns:
          name: combination_unique_with_id
          arguments:
            combination_of_columns: [reading_id, batch_id]
    columns:
      - name: value_c
        data_tests:
          - accepted_range:
              name: range_inclusive_fails_twice
              arguments: {min_value: 0, max_value: 20}
          - accepted_range:
              name: range_exclusive_fails_three_times
              arguments: {min_value: 0, max_value: 20, inclusive: false}
          - accepted_range:
              name: range_wide_passes
              arguments: {min_value: -10, max_value: 30}
          - accepted_range:
              name: range_where_limits_rows
              arguments: {min_value: 0, where: "batch_id = 'a'"}
  - name: pairs
    data_tests:
      - unique_combination_of_columns:
          name: combination_duplicate_fails_once
          arguments:
            combination_of_columns: [left_id, right_id]
"""

EXPECTED_FAILURES = {
    "expression_holds_everywhere": 0,
    # -5 and 25 are out of bounds; the null reading makes the expression null, which counts as a failure
    "expression_fails_outside_bounds": 3,
    "combination_unique_with_id": 0,
    "range_inclusive_fails_twice": 2,
    # 20 sits on the bound: an exclusive range rejects it too
    "range_exclusive_fails_three_times": 3,
    "range_wide_passes": 0,
    "range_where_limits_rows": 0,
    "combination_duplicate_fails_once": 1,
}


def make_project(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True)
    for name, content in SEEDS.items():
        (root / "seeds" / f"{name}.csv").write_text(content)
    (root / "seeds" / "_seeds.yml").write_text(textwrap.dedent(SCHEMA))
    shutil.copytree(PROJECT_ROOT / "macros", root / "macros")
    (root / "dbt_project.yml").write_text(
        "name: generic_tests_check\nversion: '1.0'\nconfig-version: 2\nprofile: queijaria_pcp\n"
        "seed-paths: [seeds]\nmacro-paths: [macros]\n"
    )
    return root


def test_generic_tests_flag_exactly_the_bad_rows(database: ConnectionSettings, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    dbt: DbtRunner = make_dbt_runner(database, tmp_path / "target", project_dir=project)
    dbt("seed")
    dbt("test", "--store-failures", check=False)

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failures = {result["unique_id"].split(".")[2]: result["failures"] for result in results}
    statuses = {result["unique_id"].split(".")[2]: result["status"] for result in results}
    assert set(failures) == set(EXPECTED_FAILURES), statuses
    for name, expected in EXPECTED_FAILURES.items():
        assert failures[name] == expected, f"{name}: {failures[name]} failing rows, expected {expected} ({statuses})"
