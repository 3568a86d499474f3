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
    # fct_scenario_kpis' columns that scenario_signature reads; scenario `up` has an effect window, `nowindow` not
    # `cut` has only part of its window in the data.
    "kpis": (
        "scenario_id,kpi_window,kpi_id,unit,kpi_value,baseline_kpi_value,diff_to_baseline,is_window_complete\n"
        "baseline,whole_horizon,oee,fraction,0.8,0.8,0,true\n"
        "up,effect_window,oee,fraction,0.6,0.8,-0.2,true\n"
        "up,effect_window,late_orders,orders,12,10,2,true\n"
        "up,effect_window,short_input_l,l,900,1000,-100,true\n"
        "up,effect_window,mttr_h,h,,5,,true\n"
        "up,whole_horizon,late_orders,orders,10,10,0,true\n"
        "nowindow,whole_horizon,oee,fraction,0.5,0.8,-0.3,true\n"
        "cut,effect_window,late_orders,orders,10,10,0,false\n"
    ),
    "kpis_without_baseline": "scenario_id,kpi_window,kpi_id,unit,kpi_value,baseline_kpi_value,diff_to_baseline,"
    "is_window_complete\nup,effect_window,oee,fraction,0.6,,,true\n",
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
  - name: kpis
    data_tests:
      - scenario_signature:
          name: signature_fall_met
          arguments:
            scenario_id: up
            kpi_id: oee
            direction: -1
            min_relative_change: 0.1
            min_absolute_change: 0
      - scenario_signature:
          name: signature_fall_short_of_relative_change
          arguments:
            scenario_id: up
            kpi_id: oee
            direction: -1
            min_relative_change: 0.3
            min_absolute_change: 0
      - scenario_signature:
          name: signature_wrong_direction
          arguments:
            scenario_id: up
            kpi_id: oee
            direction: 1
            min_relative_change: 0
            min_absolute_change: 0
      - scenario_signature:
          name: signature_rise_met
          arguments:
            scenario_id: up
            kpi_id: late_orders
            direction: 1
            min_relative_change: 0.1
            min_absolute_change: 2
      - scenario_signature:
          name: signature_rise_short_of_absolute_change
          arguments:
            scenario_id: up
            kpi_id: late_orders
            direction: 1
            min_relative_change: 0.1
            min_absolute_change: 3
      - scenario_signature:
          name: signature_either_way_met_on_the_bounds
          arguments:
            scenario_id: up
            kpi_id: short_input_l
            direction: 0
            min_relative_change: 0.1
            min_absolute_change: 100
      - scenario_signature:
          name: signature_null_value_fails
          arguments:
            scenario_id: up
            kpi_id: mttr_h
            direction: 1
            min_relative_change: 0
            min_absolute_change: 0
      - scenario_signature:
          name: signature_whole_horizon_unmoved
          arguments:
            scenario_id: up
            kpi_id: late_orders
            direction: 1
            min_relative_change: 0
            min_absolute_change: 1
            kpi_window: whole_horizon
      - scenario_signature:
          name: signature_of_a_cut_window_not_judged
          arguments:
            scenario_id: cut
            kpi_id: late_orders
            direction: 1
            min_relative_change: 0
            min_absolute_change: 1
      - scenario_signature:
          name: signature_without_effect_window_not_judged
          arguments:
            scenario_id: nowindow
            kpi_id: oee
            direction: 1
            min_relative_change: 0
            min_absolute_change: 0
            kpi_window: whole_horizon
  - name: kpis_without_baseline
    data_tests:
      - scenario_signature:
          name: signature_without_baseline_not_judged
          arguments:
            scenario_id: up
            kpi_id: oee
            direction: 1
            min_relative_change: 0
            min_absolute_change: 0
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
    # oee fell 0.2 from 0.8: 25 %, enough for 10 %, not for 30 %, and not a rise
    "signature_fall_met": 0,
    "signature_fall_short_of_relative_change": 1,
    "signature_wrong_direction": 1,
    # late orders rose by 2 (20 %): enough for 2, not for 3
    "signature_rise_met": 0,
    "signature_rise_short_of_absolute_change": 1,
    # short_input_l fell 100 L, 10 % of 1,000: either way, both minimums reached exactly
    "signature_either_way_met_on_the_bounds": 0,
    # a KPI without a value did not move
    "signature_null_value_fails": 1,
    "signature_whole_horizon_unmoved": 1,
    # nothing to compare, or only part of the window: these would fail if judged
    "signature_of_a_cut_window_not_judged": 0,
    "signature_without_effect_window_not_judged": 0,
    "signature_without_baseline_not_judged": 0,
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
