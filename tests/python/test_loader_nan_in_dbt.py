"""NaN cannot slip through dbt either: raw data that did not come through today's loader (an older load, another
tool) with NaN or an infinity in a numeric column fails the is_finite test of every staging column it reaches.

In PostgreSQL NaN is greater than every number, so accepted_range with only min_value passes it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from support import create_database, drop_database, make_dbt_runner

from dataset_contract import DATASETS
from queijaria.db.connection import connect, resolve
from queijaria.loading import load
from queijaria.loading.sample_batch import write_batch

EVENT_STAGING = ("--select", "path:models/staging", "--exclude", "path:models/staging/reference")


def _write_non_finite_values(conn) -> None:
    """Lift the loader's range checks, then put NaN (and an infinity) into every non-integer numeric raw column."""
    with conn.cursor() as cursor:
        cursor.execute(
            """
            select k.conrelid::regclass::text, k.conname
            from pg_constraint as k
            inner join pg_class as c on c.oid = k.conrelid
            where k.connamespace = 'raw'::regnamespace and k.conname like '%%\\_\\_range'
            order by c.relkind = 'p' desc
            """
        )
        for table, constraint in cursor.fetchall():
            cursor.execute(f"alter table {table} drop constraint if exists {constraint}")
        for dataset in DATASETS:
            for column in dataset.columns:
                if column.pg_type in ("numeric", "double precision"):
                    cursor.execute(
                        f"update {dataset.table} set {column.name} = 'NaN'"
                        f" where ctid = (select min(ctid) from {dataset.table})"
                    )
                    cursor.execute(
                        f"update {dataset.table} set {column.name} = '-Infinity'"
                        f" where ctid = (select max(ctid) from {dataset.table})"
                    )
    conn.commit()


def test_non_finite_numbers_fail_the_staging_tests(tmp_path: Path) -> None:
    settings = create_database(resolve(), "queijaria_nan_test")
    try:
        write_batch(tmp_path / "out", "baseline", date(2025, 1, 1), date(2025, 1, 3))
        load(tmp_path / "out", settings=settings)
        conn = connect(settings)
        _write_non_finite_values(conn)
        target = tmp_path / "target"
        dbt = make_dbt_runner(settings, target)
        dbt("run", *EVENT_STAGING)
        models = {
            node["name"]: f'"{node["schema"]}"."{node["alias"]}"'
            for node in json.loads((target / "manifest.json").read_text())["nodes"].values()
            if node["resource_type"] == "model"
        }
        dbt("test", "--select", "test_name:is_finite", check=False)
        manifest = json.loads((target / "manifest.json").read_text())["nodes"]
        failing = set()
        for result in json.loads((target / "run_results.json").read_text())["results"]:
            node = manifest[result["unique_id"]]
            if result["status"] == "fail" and node["test_metadata"]["name"] == "is_finite":
                model = next(name for name in node["depends_on"]["nodes"] if name.startswith("model."))
                failing.add((model.rsplit(".", 1)[1], node["column_name"]))
        with_non_finite = set()
        with conn.cursor() as cursor:
            cursor.execute(
                """
                select table_name, column_name from information_schema.columns
                where table_name like 'stg\\_%%' and data_type in ('numeric', 'double precision')
                """
            )
            for model, column in cursor.fetchall():
                if model in models and not model.startswith("stg_reference__"):
                    cursor.execute(
                        f"select count(*) from {models[model]} where {column} in ('NaN', 'Infinity', '-Infinity')"
                    )
                    if cursor.fetchone()[0]:
                        with_non_finite.add((model, column))
        conn.close()
        assert len(with_non_finite) >= 13
        assert failing == with_non_finite
    finally:
        drop_database(settings)
