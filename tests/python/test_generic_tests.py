"""The generic tests and macros written in macros/ (the dbt hub is out of reach) behave as dbt_utils' do.

A throw-away dbt project uses the real macros on small seeds: each test must pass on the good seed and
fail with the expected number of failing rows on the bad one, with dbt_utils' semantics for nulls (a null
expression is not a failure; a null column in a surrogate key becomes '_dbt_utils_surrogate_key_null_').
"""

from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path

from support import DbtRunner, make_dbt_runner

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect

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
      - expression_is_true:
          name: expression_guarded_against_null
          arguments:
            expression: "value_c is not null and value_c between low_c and high_c"
      - expression_is_true:
          name: expression_where_limits_rows
          arguments:
            expression: "value_c <= high_c"
          config:
            where: "batch_id = 'b'"
      - unique_combination_of_columns:
          name: combination_unique_with_id
          arguments:
            combination_of_columns: [reading_id, batch_id]
      - aggregate_within_range:
          name: aggregate_per_batch_fails_once
          arguments:
            expression: "sum(value_c) * 1.0 / nullif(sum(high_c), 0)"
            group_by: [batch_id]
            min_value: 0.4
            max_value: 0.8
      - aggregate_within_range:
          name: aggregate_null_fails
          arguments:
            expression: "max(value_c)"
            group_by: [batch_id]
            min_value: 0
      - aggregate_within_range:
          name: aggregate_judged_only_when_condition_holds
          arguments:
            expression: "sum(value_c)"
            group_by: [batch_id]
            max_value: 0
            judged_when: "count(*) >= 2 and count(value_c) >= 2"
      - aggregate_within_range:
          name: aggregate_over_the_whole_model_with_where
          arguments:
            expression: "sum(value_c) * 1.0 / sum(high_c)"
            min_value: 0.74
            max_value: 0.76
          config:
            where: "batch_id in ('a', 'b')"
    columns:
      - name: value_c
        data_tests:
          - expression_is_true:
              name: expression_on_a_column
              arguments:
                expression: ">= low_c"
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
    # -5 and 25 are out of bounds; the null reading makes the expression null, which is not a failure (dbt_utils)
    "expression_fails_outside_bounds": 2,
    # the way to make a null fail: say so in the expression (or add a not_null test)
    "expression_guarded_against_null": 3,
    # only batch b is judged: 25 > 20
    "expression_where_limits_rows": 1,
    # `value_c >= low_c`: -5 fails, the null passes
    "expression_on_a_column": 1,
    "combination_unique_with_id": 0,
    "range_inclusive_fails_twice": 2,
    # 20 sits on the bound: an exclusive range rejects it too
    "range_exclusive_fails_three_times": 3,
    "range_wide_passes": 0,
    "range_where_limits_rows": 0,
    "combination_duplicate_fails_once": 1,
    # a: 30/40 = 0.75 passes; b: 20/40 = 0.5 passes; c: null/20 is null, which fails
    "aggregate_per_batch_fails_once": 1,
    # c has only a null reading: its max is null
    "aggregate_null_fails": 1,
    # a (30) and b (20) are judged and above 0; c has one non-null reading of none, so it is not judged
    "aggregate_judged_only_when_condition_holds": 2,
    # batches a and b only: 50 / 80 = 0.625 is outside [0.74, 0.76]
    "aggregate_over_the_whole_model_with_where": 1,
}


# surrogate_key over a column holding a null, as a model of the throw-away project
KEYS_MODEL = """
select reading_id, batch_id, value_c, {{ surrogate_key(['batch_id', 'value_c']) }} as reading_key
from {{ ref('readings') }}
"""


def make_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "models" / "reading_keys.sql").write_text(KEYS_MODEL)
    (root / "seeds").mkdir(parents=True)
    for name, content in SEEDS.items():
        (root / "seeds" / f"{name}.csv").write_text(content)
    (root / "seeds" / "_seeds.yml").write_text(textwrap.dedent(SCHEMA))
    shutil.copytree(PROJECT_ROOT / "macros", root / "macros")
    (root / "dbt_project.yml").write_text(
        "name: generic_tests_check\nversion: '1.0'\nconfig-version: 2\nprofile: queijaria_pcp\n"
        "seed-paths: [seeds]\nmacro-paths: [macros]\nmodel-paths: [models]\n"
        "models:\n  generic_tests_check:\n    +schema: generic_tests_check\n"
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


def dbt_utils_surrogate_key(*values: object) -> str:
    """dbt_utils.generate_surrogate_key's recipe, written out in Python."""
    text = "-".join("_dbt_utils_surrogate_key_null_" if value is None else str(value) for value in values)
    return hashlib.md5(text.encode()).hexdigest()


def test_surrogate_key_is_dbt_utils_generate_surrogate_key(database: ConnectionSettings, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    dbt: DbtRunner = make_dbt_runner(database, tmp_path / "target", project_dir=project)
    dbt("seed")
    dbt("run")
    with connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select batch_id, value_c, reading_key from generic_tests_check.reading_keys order by reading_id"
        )
        rows = cursor.fetchall()
    assert len(rows) == 5 and rows[-1][1] is None
    assert [key for _, _, key in rows] == [dbt_utils_surrogate_key(batch, value) for batch, value, _ in rows]
