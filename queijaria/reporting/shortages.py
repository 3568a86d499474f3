"""`queijaria report`: export the shortage report (marts.fct_material_shortages) and summarise it per scenario.

Writes reports/faltas_reserva_report.csv, the file the original project produced, as a planner reads it each
morning (DOMAIN.md §3): the open requirements of released orders that stock does not cover, those that no
scheduled receipt covers either first, then those a purchase order or the milk collection plan would cover before
the planned start, with which one and when. Quantities in the material's unit.
"""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import psycopg2
import typer
from rich.console import Console
from rich.markup import escape

from queijaria import PROJECT_ROOT
from queijaria.db.connection import connect, resolve
from queijaria.reporting.errors import query_failure

DEFAULT_OUT = PROJECT_ROOT / "reports" / "faltas_reserva_report.csv"

COLUMNS = (
    "scenario_id",
    "coverage_status",
    "order_id",
    "product_id",
    "product_name",
    "line_id",
    "material_id",
    "material_name",
    "released_at",
    "planned_start_at",
    "due_date",
    "priority",
    "planned_kg",
    "required_quantity",
    "short_at_release_quantity",
    "open_quantity",
    "unit",
    "projected_covering_receipt_id",
    "projected_covered_at",
    "days_until_start",
)

# The morning report: the open requirements of released orders (not started yet) that stock does not cover, those
# no scheduled receipt covers either first, each scenario's earliest start first.
EXPORT_SQL = f"""
select {", ".join(COLUMNS)}
from marts.fct_material_shortages
where requirement_status = 'open' and open_quantity > 0
order by
    scenario_id,
    case coverage_status when 'uncovered' then 0 else 1 end,
    planned_start_at,
    order_id,
    material_id
"""

SUMMARY_SQL = """
select
    requirements.scenario_id,
    count(shortages.order_id) filter (where shortages.coverage_status = 'uncovered') as uncovered_lines,
    count(shortages.order_id) filter (
        where shortages.coverage_status = 'covered_by_scheduled_receipts'
    ) as scheduled_lines,
    coalesce(
        sum(shortages.open_quantity) filter (where shortages.coverage_status = 'uncovered' and shortages.unit = 'L'),
        0
    ) as uncovered_l,
    coalesce(
        sum(shortages.open_quantity) filter (where shortages.coverage_status = 'uncovered' and shortages.unit = 'kg'),
        0
    ) as uncovered_kg,
    count(distinct requirements.order_id) filter (where requirements.is_short_at_start) as orders_short_at_start,
    count(distinct requirements.order_id) filter (where requirements.requirement_status = 'started')
        as orders_started
from intermediate.int_material_requirements_reserved as requirements
left join marts.fct_material_shortages as shortages
    on
        requirements.scenario_id = shortages.scenario_id
        and requirements.order_id = shortages.order_id
        and requirements.material_id = shortages.material_id
        and shortages.requirement_status = 'open'
        and shortages.open_quantity > 0
group by requirements.scenario_id
order by requirements.scenario_id
"""

# Exported quantities keep 3 decimals (the raw data's precision); the mart keeps exact numerics.
ROUNDED = {"planned_kg", "required_quantity", "short_at_release_quantity", "open_quantity"}


def _cell(column: str, value: object) -> object:
    if value is None:
        return ""
    if column in ROUNDED and isinstance(value, Decimal):
        return f"{value:.3f}"
    return value


def read_shortages(conn: psycopg2.extensions.connection) -> list[list[object]]:
    """The report's rows as written to the CSV; read whole before the file is touched (a few thousand at most)."""
    with conn.cursor() as cursor:
        cursor.execute(EXPORT_SQL)
        return [[_cell(column, value) for column, value in zip(COLUMNS, row, strict=True)] for row in cursor]


def _write_csv(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def write_report(out: Path, rows: list[list[object]]) -> None:
    """Write the CSV whole or not at all: a failure leaves an earlier report as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_file():
        _write_csv(out, rows)  # /dev/null or a pipe: written to, never replaced by a file
        return
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        _write_csv(partial, rows)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def summary_lines(conn: psycopg2.extensions.connection) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute(SUMMARY_SQL)
        lines = []
        for scenario_id, uncovered, scheduled, uncovered_l, uncovered_kg, short_at_start, started in cursor.fetchall():
            share = f" ({short_at_start / started:.1%})" if started else ""
            lines.append(
                f"{scenario_id}: {uncovered} open requirement(s) uncovered ({uncovered_l:,.1f} L, {uncovered_kg:,.1f} "
                f"kg), {scheduled} covered by scheduled receipts; {short_at_start} of {started} order(s) started "
                f"short{share}"
            )
    return lines


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(1)


def _out_problem(out: Path) -> str | None:
    """Why `out` cannot be the report's file, before anything is queried (None when it may be)."""
    try:
        if out.is_dir():
            return f"--out {out} is a folder: give the CSV file to write, e.g. {out / DEFAULT_OUT.name}"
        parent = next((folder for folder in out.parents if folder.exists()), None)
    except OSError as error:  # a name too long
        return f"--out {out}: {error.strerror or error}"
    if parent is not None and not parent.is_dir():
        return f"--out {out}: {parent} is not a folder"
    return None


def report(
    out: Annotated[Path, typer.Option(help="CSV file to write.")] = DEFAULT_OUT,
) -> None:
    """Write the morning shortage report to reports/faltas_reserva_report.csv and print one line per scenario."""
    problem = _out_problem(out)
    if problem is not None:
        raise _fail(problem)
    settings = resolve()
    try:
        conn = connect(settings)
    except ConnectionError as error:
        raise _fail(str(error)) from error
    try:
        rows = read_shortages(conn)
        lines = summary_lines(conn)
    except psycopg2.errors.UndefinedTable as error:
        # Which relation is missing (the mart or the intermediate model its per-scenario lines read), in its words.
        missing = (error.diag.message_primary if error.diag else None) or "marts.fct_material_shortages is missing"
        raise _fail(f"{missing}: run `make build` (dbt build) first") from error
    except psycopg2.Error as error:
        reads = "marts.fct_material_shortages and intermediate.int_material_requirements_reserved"
        raise _fail(query_failure(error, settings, reads)) from error
    finally:
        conn.close()
    try:
        write_report(out, rows)
    except OSError as error:
        raise _fail(f"cannot write {out}: {error.strerror or error}; nothing was written") from error
    for line in lines:
        typer.echo(line)
    Console().print(f"{len(rows)} open requirement(s) written to {escape(str(out))}", soft_wrap=True, highlight=False)
