"""`queijaria report`: export the shortage report (marts.fct_material_shortages) and summarise it per scenario.

Writes reports/faltas_reserva_report.csv, the file the original project produced: one row per scenario,
production order and material short at the order's release, quantities in the material's unit.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import psycopg2
import typer
from rich.console import Console

from queijaria import PROJECT_ROOT
from queijaria.db.connection import connect, resolve

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


def export(conn: psycopg2.extensions.connection, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    with conn.cursor() as cursor, out.open("w", newline="", encoding="utf-8") as handle:
        cursor.execute(EXPORT_SQL)
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        rows = 0
        for row in cursor:
            writer.writerow([_cell(column, value) for column, value in zip(COLUMNS, row, strict=True)])
            rows += 1
    return rows


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


def report(
    out: Annotated[Path, typer.Option(help="CSV file to write.")] = DEFAULT_OUT,
) -> None:
    """Export the shortage report to reports/faltas_reserva_report.csv and print one line per scenario."""
    console = Console()
    settings = resolve()
    try:
        conn = connect(settings)
    except ConnectionError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    try:
        rows = export(conn, out)
        lines = summary_lines(conn)
    except psycopg2.errors.UndefinedTable as error:
        console.print("[red]error:[/red] marts.fct_material_shortages does not exist yet: run `make build` first")
        raise typer.Exit(1) from error
    finally:
        conn.close()
    for line in lines:
        typer.echo(line)
    console.print(f"{rows} shortage row(s) written to {out}")
