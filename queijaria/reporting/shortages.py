"""`queijaria report`: export the shortage report (marts.fct_material_shortages) and summarise it per scenario.

Writes reports/faltas_reserva_report.csv, the file the original project produced: one row per scenario,
production order and material short at the order's release, quantities in the material's unit.
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
    "reserved_quantity",
    "short_quantity",
    "unit",
    "days_until_start",
)

EXPORT_SQL = f"""
select {", ".join(COLUMNS)}
from marts.fct_material_shortages
order by scenario_id, planned_start_at, order_id, material_id
"""

SUMMARY_SQL = """
select
    scenarios.scenario_id,
    count(distinct shortages.order_id) as orders_short,
    count(shortages.material_id) as shortage_lines,
    coalesce(sum(shortages.short_quantity) filter (where shortages.unit = 'L'), 0) as short_l,
    coalesce(sum(shortages.short_quantity) filter (where shortages.unit = 'kg'), 0) as short_kg,
    min(shortages.days_until_start) as min_days_until_start
from (select distinct scenario_id from intermediate.int_stock_reservations_allocated) as scenarios
left join marts.fct_material_shortages as shortages
    on scenarios.scenario_id = shortages.scenario_id
group by scenarios.scenario_id
order by scenarios.scenario_id
"""

# Exported quantities keep 3 decimals (the raw data's precision); the mart keeps exact numerics.
ROUNDED = {"planned_kg", "required_quantity", "reserved_quantity", "short_quantity"}


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
        for scenario_id, orders, lines_short, short_l, short_kg, min_days in cursor.fetchall():
            lead = "" if min_days is None else f", tightest {min_days} day(s) before start"
            lines.append(
                f"{scenario_id}: {orders} order(s) short, {lines_short} order-material line(s), "
                f"{short_l:,.1f} L and {short_kg:,.1f} kg short{lead}"
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
    """Export the shortage report to reports/faltas_reserva_report.csv and print one line per scenario."""
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
        reads = "marts.fct_material_shortages and intermediate.int_stock_reservations_allocated"
        raise _fail(query_failure(error, settings, reads)) from error
    finally:
        conn.close()
    try:
        write_report(out, rows)
    except OSError as error:
        raise _fail(f"cannot write {out}: {error.strerror or error}; nothing was written") from error
    for line in lines:
        typer.echo(line)
    Console().print(f"{len(rows)} shortage row(s) written to {escape(str(out))}", soft_wrap=True, highlight=False)
