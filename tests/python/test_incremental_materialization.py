"""The incremental materialization of macros/materializations: its lean path behaves as dbt's own.

A throw-away dbt project with the real macros and one incremental model over a table the test writes:
- a delete+insert / on_schema_change='fail' run takes the lean path (one statement with the server-side
  schema check), inserts the new rows and replaces the rows whose unique key comes again;
- a schema drift fails the run with dbt's advice, and changes nothing; --full-refresh rebuilds it;
- any other configuration goes through dbt's own materialization.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from support import DbtRunner, make_dbt_runner

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect

SCHEMA = "materialization_check"
LEAN_MARKER = "$check_schema$"

MODEL = """
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change=var('on_schema_change', 'fail'),
) }}
select event_id, payload, version
from materialization_check.input_events
{% if is_incremental() %}
where version > (select max(version) from {{ this }})
{% endif %}
"""


@pytest.fixture
def project(database: ConnectionSettings, tmp_path: Path) -> tuple[DbtRunner, Path]:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "models" / "events.sql").write_text(textwrap.dedent(MODEL))
    shutil.copytree(PROJECT_ROOT / "macros", root / "macros")
    (root / "dbt_project.yml").write_text(
        "name: materialization_check\nversion: '1.0'\nconfig-version: 2\nprofile: queijaria_pcp\n"
        "model-paths: [models]\nmacro-paths: [macros]\n"
    )
    _sql(database, f"drop schema if exists {SCHEMA} cascade", f"create schema {SCHEMA}")
    _sql(database, f"create table {SCHEMA}.input_events (event_id int, payload text, version int)")
    target = tmp_path / "target"
    runner = make_dbt_runner(database, target, project_dir=root)
    return (lambda *args, **kw: runner(*args, extra_env={"DBT_SCHEMA": SCHEMA}, **kw)), target


def _sql(settings: ConnectionSettings, *statements: str) -> list[tuple]:
    conn = connect(settings)
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
        conn.commit()
    finally:
        conn.close()
    return rows


def _insert_events(settings: ConnectionSettings, values: str) -> None:
    _sql(settings, f"insert into {SCHEMA}.input_events values {values}")


def _rows(settings: ConnectionSettings) -> list[tuple]:
    return _sql(settings, f"select event_id, payload, version from {SCHEMA}.events order by event_id")


def _ran_lean_path(target: Path) -> bool:
    return LEAN_MARKER in (target / "run" / "materialization_check" / "models" / "events.sql").read_text()


def _response(target: Path) -> str:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return results[0]["adapter_response"]["_message"]


def test_lean_path_inserts_new_rows_and_replaces_repeated_keys(
    database: ConnectionSettings, project: tuple[DbtRunner, Path]
) -> None:
    dbt, target = project
    _insert_events(database, "(1, 'a', 1), (2, 'b', 1)")
    dbt("run")
    assert not _ran_lean_path(target)  # the first build is dbt's own
    assert _rows(database) == [(1, "a", 1), (2, "b", 1)]

    _insert_events(database, "(2, 'b restated', 2), (3, 'c', 2)")
    dbt("run")
    assert _ran_lean_path(target)
    assert _response(target) == "INSERT 0 2"
    assert _rows(database) == [(1, "a", 1), (2, "b restated", 2), (3, "c", 2)]

    dbt("run")  # nothing new
    assert _rows(database) == [(1, "a", 1), (2, "b restated", 2), (3, "c", 2)]


def test_schema_drift_fails_with_the_full_refresh_advice(
    database: ConnectionSettings, project: tuple[DbtRunner, Path]
) -> None:
    dbt, target = project
    _insert_events(database, "(1, 'a', 1)")
    dbt("run")
    _sql(database, f"alter table {SCHEMA}.events add column note text")
    _insert_events(database, "(2, 'b', 2)")

    result = dbt("run", check=False)
    output = result.stdout
    assert result.returncode != 0
    assert "out of sync" in output and "note text" in output, output[-3000:]
    assert "--full-refresh" in output
    assert _sql(database, f"select count(*) from {SCHEMA}.events") == [(1,)]  # nothing kept

    dbt("run", "--full-refresh")
    assert not _ran_lean_path(target)
    assert _rows(database) == [(1, "a", 1), (2, "b", 2)]


def test_other_configurations_use_dbt_materialization(
    database: ConnectionSettings, project: tuple[DbtRunner, Path]
) -> None:
    dbt, target = project
    _insert_events(database, "(1, 'a', 1)")
    ignore = ("--vars", "{on_schema_change: ignore}")
    dbt("run", *ignore)
    _insert_events(database, "(1, 'a restated', 2), (2, 'b', 2)")
    dbt("run", *ignore)
    assert not _ran_lean_path(target)
    assert _rows(database) == [(1, "a restated", 2), (2, "b", 2)]
