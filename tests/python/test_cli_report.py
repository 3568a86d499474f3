"""`queijaria report --out`: the shortage CSV is written whole or not at all, and an --out that cannot be that file
is refused with one `error:` line before anything is read or written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import create_database, drop_database

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.reporting.shortages import COLUMNS

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
HEADER = ",".join(COLUMNS)


def make_marts(settings: ConnectionSettings, with_intermediate: bool) -> None:
    """The two relations the report reads, in miniature: one requirement open and uncovered, one open that a purchase
    order covers and starting earlier, one short at the start of an order started (history, not in the report)."""
    columns = ", ".join(f"{column} text" for column in COLUMNS)
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            f"create schema marts; create table marts.fct_material_shortages ({columns}, requirement_status text, "
            "is_short_at_start boolean)"
        )
        cursor.execute(
            "alter table marts.fct_material_shortages alter column open_quantity type numeric using null, "
            "alter column days_until_start type integer using null"
        )
        cursor.execute(
            "insert into marts.fct_material_shortages (scenario_id, coverage_status, order_id, material_id, unit, "
            "open_quantity, planned_start_at, projected_covering_receipt_id, days_until_start, requirement_status, "
            "is_short_at_start) values "
            "('baseline', 'uncovered', 'OP-1', 'MILK', 'L', 12.5, '2025-03-05 06:00', null, 2, 'open', false), "
            "('baseline', 'covered_by_scheduled_receipts', 'OP-2', 'CREAM', 'kg', 3, '2025-03-04 06:00', "
            "'PUR-CREAM-0001', 1, 'open', false), "
            "('baseline', 'uncovered', 'OP-0', 'MILK', 'L', null, '2025-03-01 06:00', null, 1, 'started', true)"
        )
        if with_intermediate:
            cursor.execute(
                "create schema intermediate; create table intermediate.int_material_requirements_reserved as "
                "select * from (values ('baseline', 'OP-1', 'MILK', 'open', false), "
                "('baseline', 'OP-2', 'CREAM', 'open', false), ('baseline', 'OP-0', 'MILK', 'started', true), "
                "('baseline', 'OP-9', 'MILK', 'started', false)) "
                "as requirements (scenario_id, order_id, material_id, requirement_status, is_short_at_start)"
            )
    conn.close()


@pytest.fixture(scope="module")
def built() -> Iterator[ConnectionSettings]:
    settings = create_database(resolve(), "queijaria_report_test")
    make_marts(settings, with_intermediate=True)
    yield settings
    drop_database(settings)


@pytest.fixture(scope="module")
def half_built() -> Iterator[ConnectionSettings]:
    """The mart without the intermediate model the per-scenario lines read: the second query fails."""
    settings = create_database(resolve(), "queijaria_report_test")
    make_marts(settings, with_intermediate=False)
    yield settings
    drop_database(settings)


@pytest.fixture(scope="module")
def empty() -> Iterator[ConnectionSettings]:
    settings = create_database(resolve(), "queijaria_report_test")
    yield settings
    drop_database(settings)


def report(settings: ConnectionSettings, *args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.as_env()}
    env.pop("DATABASE_URL", None)
    return subprocess.run([QUEIJARIA, "report", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def assert_refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_the_report_is_written_into_new_folders(built: ConnectionSettings, tmp_path: Path) -> None:
    out = tmp_path / "new" / "folders" / "shortages.csv"
    result = report(built, "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER
    # Open requirements only, the uncovered first although it starts later, then what a purchase order covers.
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["baseline", "uncovered", "OP-1"],
        ["baseline", "covered_by_scheduled_receipts", "OP-2"],
    ]
    assert "PUR-CREAM-0001" in lines[2]
    assert (
        "baseline: 1 open requirement(s) uncovered (12.5 L, 0.0 kg), 1 covered by scheduled receipts; "
        "1 of 2 order(s) started short (50.0%)" in result.stdout
    ), result.stdout
    assert f"2 open requirement(s) written to {out}" in result.stdout
    assert [path.name for path in out.parent.iterdir()] == ["shortages.csv"]  # no partial file left behind


def test_a_database_without_the_marts_says_to_build_them(empty: ConnectionSettings, tmp_path: Path) -> None:
    missing = 'relation "marts.fct_material_shortages" does not exist'
    assert_refused(report(empty, "--out", str(tmp_path / "r.csv")), f"{missing}: run `make build` (dbt build) first")
    assert not any(tmp_path.iterdir())


def test_an_out_that_is_a_folder_is_refused(built: ConnectionSettings, tmp_path: Path) -> None:
    suggested = tmp_path / "faltas_reserva_report.csv"
    assert_refused(report(built, "--out", str(tmp_path)), f"--out {tmp_path} is a folder", f"e.g. {suggested}")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("out", ["/proc", "/sys"])
def test_an_out_of_the_kernel_is_refused(built: ConnectionSettings, out: str) -> None:
    assert_refused(report(built, "--out", out), f"--out {out} is a folder")


def test_an_out_under_a_file_is_refused(built: ConnectionSettings, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    out = tmp_path / "notes.txt" / "report.csv"
    assert_refused(report(built, "--out", str(out)), f"{tmp_path / 'notes.txt'} is not a folder")
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_an_empty_out_is_the_current_folder_and_refused(built: ConnectionSettings, tmp_path: Path) -> None:
    assert_refused(report(built, "--out", "", cwd=tmp_path), "is a folder")
    assert not any(tmp_path.iterdir())


def test_a_file_of_the_kernel_that_cannot_be_created_is_one_message(built: ConnectionSettings) -> None:
    assert_refused(report(built, "--out", "/proc/shortages.csv"), "cannot write /proc/shortages.csv", "nothing")


def test_a_failed_query_leaves_the_earlier_report_as_it_was(half_built: ConnectionSettings, tmp_path: Path) -> None:
    out = tmp_path / "shortages.csv"
    out.write_text("the earlier report\n")
    missing = 'relation "intermediate.int_material_requirements_reserved" does not exist'
    assert_refused(report(half_built, "--out", str(out)), f"{missing}: run `make build` (dbt build) first")
    assert out.read_text() == "the earlier report\n"
    assert [path.name for path in tmp_path.iterdir()] == ["shortages.csv"]
