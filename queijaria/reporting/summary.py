"""`queijaria summary`: what the pipeline built, layer by layer, and the headline KPIs of every scenario.

The KPIs come from marts.fct_scenario_kpis, one row per scenario, KPI window and KPI; `--json` writes the same
figures, keyed by scenario then KPI, for scripts.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import psycopg2
import typer
from psycopg2 import sql
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from queijaria.db.connection import connect, resolve
from queijaria.reporting.errors import query_failure

LAYERS = ("raw", "reference", "staging", "intermediate", "marts")

# Wide enough for the five scenarios side by side when the output is not a terminal (a pipe, a log, a test).
REPORT_WIDTH = 120

NOT_BUILT = "marts.fct_scenario_kpis is not built yet: run `dbt build` (or `make build`) first"
NO_SCENARIOS = "marts.fct_scenario_kpis has no scenario: generate and load data (`make generate`), then `dbt build`"

KPI_SQL = """
select scenario_id, kpi_id, kpi_name, unit, is_higher_better, kpi_value, baseline_kpi_value, relative_diff_to_baseline
from marts.fct_scenario_kpis
where kpi_window = %s
order by scenario_id = 'baseline' desc, scenario_id, kpi_sort_order
"""


class KpiWindow(StrEnum):
    whole_horizon = "whole_horizon"
    effect_window = "effect_window"
    effect_and_recovery = "effect_and_recovery"


@dataclass(frozen=True)
class KpiFigure:
    scenario_id: str
    kpi_id: str
    kpi_name: str
    unit: str
    is_higher_better: bool
    value: Decimal | None
    baseline_value: Decimal | None
    relative_diff_to_baseline: Decimal | None

    @property
    def change(self) -> Decimal | None:
        """Relative change against the baseline; from a baseline of 0, just its sign (±1)."""
        if self.relative_diff_to_baseline is not None:
            return self.relative_diff_to_baseline
        if self.value is None or self.baseline_value != 0 or self.value == 0:
            return None
        return Decimal(1 if self.value > 0 else -1)


class SummaryError(Exception):
    """Something the user can fix before the summary can be printed (one message, no traceback)."""


def relation_counts(cursor) -> list[tuple[str, str, str, int]]:
    # pg_class rather than information_schema: a partition must not be counted beside its partitioned table.
    cursor.execute(
        """
        select namespaces.nspname, classes.relname, classes.relkind = 'v'
        from pg_class as classes
        inner join pg_namespace as namespaces on classes.relnamespace = namespaces.oid
        where namespaces.nspname = any(%s) and classes.relkind in ('r', 'p', 'v') and not classes.relispartition
        order by array_position(%s, namespaces.nspname::text), classes.relname
        """,
        (list(LAYERS), list(LAYERS)),
    )
    rows = []
    for schema, name, is_view in cursor.fetchall():
        # Counting a staging view re-reads its raw table; the raw count already says it.
        if is_view:
            rows.append((schema, name, "view", -1))
            continue
        cursor.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
        rows.append((schema, name, "table", cursor.fetchone()[0]))
    return rows


def read_kpis(cursor, window: KpiWindow) -> list[KpiFigure]:
    """The mart's figures of one window, baseline first, KPIs in report order; SummaryError when there are none."""
    cursor.execute("select to_regclass('marts.fct_scenario_kpis') is not null")
    if not cursor.fetchone()[0]:
        raise SummaryError(NOT_BUILT)
    cursor.execute(KPI_SQL, (window.value,))
    figures = [KpiFigure(*row) for row in cursor.fetchall()]
    if not figures:
        raise SummaryError(NO_SCENARIOS if window is KpiWindow.whole_horizon else f"no scenario has an {window.value}")
    return figures


def json_number(value: Decimal | None) -> int | float | None:
    """A whole number as an int (59 late orders, not 59.0), others as the nearest float, undefined as None."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def kpis_by_scenario(figures: list[KpiFigure]) -> dict[str, dict[str, int | float | None]]:
    """{scenario: {kpi_id: value}}: the mart's figures, undefined ratios as None (JSON null)."""
    by_scenario: dict[str, dict[str, int | float | None]] = {}
    for figure in figures:
        by_scenario.setdefault(figure.scenario_id, {})[figure.kpi_id] = json_number(figure.value)
    return by_scenario


UNIT_LABELS = {"fraction": "%", "ratio": "× standard"}


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "n/a"
    number = float(value)
    if unit == "fraction":
        return f"{number * 100:.2f} %" if abs(number) < 0.1 else f"{number * 100:.1f} %"
    if unit == "ratio":
        return f"{number:.3f}"
    if unit in ("orders", "excursions"):
        return f"{number:,.0f}"
    if unit == "R$":
        return f"R$ {number:,.0f}"
    if unit in ("L", "min"):
        return f"{number:,.0f} {unit}"
    if unit == "h":
        return f"{number:,.1f} h"
    if unit == "days":
        return f"{number:.2f} d"
    return f"{number:.2f} {unit}"


def format_change(figure: KpiFigure) -> str:
    if figure.relative_diff_to_baseline is not None:
        return f" ({float(figure.relative_diff_to_baseline):+.0%})"
    return " (from 0)" if figure.change is not None else ""


def cell_style(figure: KpiFigure) -> str:
    """Green when at least 1 % better than the baseline on the same days, red when as much worse."""
    change = figure.change
    if change is None or abs(change) < Decimal("0.01"):
        return ""
    return "green" if (change > 0) == figure.is_higher_better else "red"


def kpi_rows(figures: list[KpiFigure]) -> tuple[list[str], list[dict[str, KpiFigure]]]:
    """The scenarios in report order, and one row per KPI (in report order) of its figures keyed by scenario."""
    scenarios = list(dict.fromkeys(figure.scenario_id for figure in figures))
    by_kpi: dict[str, dict[str, KpiFigure]] = {}
    for figure in figures:
        by_kpi.setdefault(figure.kpi_id, {})[figure.scenario_id] = figure
    return scenarios, list(by_kpi.values())


def kpi_table(figures: list[KpiFigure], window: KpiWindow) -> Table:
    """Rows: KPIs with their unit; columns: scenarios. An effect window adds the change against the baseline."""
    scenarios, by_kpi = kpi_rows(figures)
    title = {
        KpiWindow.whole_horizon: "Headline KPIs per scenario, whole horizon (colour: against the baseline)",
        KpiWindow.effect_window: "Headline KPIs in each scenario's effect window (change against the baseline on "
        "the same days)",
        KpiWindow.effect_and_recovery: "Headline KPIs in each scenario's effect window and the week after it "
        "(change against the baseline on the same days)",
    }[window]
    table = Table(title=title)
    table.add_column("KPI")
    for scenario_id in scenarios:
        table.add_column(scenario_id, justify="right", no_wrap=True)
    for row in by_kpi:
        first = next(iter(row.values()))
        cells = []
        for scenario_id in scenarios:
            figure = row.get(scenario_id)
            if figure is None:
                cells.append("")
                continue
            text = format_value(figure.value, figure.unit)
            if window is not KpiWindow.whole_horizon:
                text += format_change(figure)
            style = cell_style(figure)
            cells.append(f"[{style}]{text}[/]" if style else text)
        table.add_row(f"{first.kpi_name} ({UNIT_LABELS.get(first.unit, first.unit)})", *cells)
    return table


def kpi_markdown(figures: list[KpiFigure]) -> str:
    """The whole-horizon KPI table as Markdown (the daily flow's Prefect artifact): KPIs by rows, scenarios by
    columns, as kpi_table prints it."""
    scenarios, by_kpi = kpi_rows(figures)
    lines = ["| KPI | " + " | ".join(scenarios) + " |", "|---|" + "---:|" * len(scenarios)]
    for row in by_kpi:
        first = next(iter(row.values()))
        cells = [format_value(row[s].value, row[s].unit) if s in row else "" for s in scenarios]
        label = f"{first.kpi_name} ({UNIT_LABELS.get(first.unit, first.unit)})".replace("|", "\\|")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def layer_table(counts: list[tuple[str, str, str, int]], title: str) -> Table:
    layers = Table(title=title)
    for column in ("layer", "tables", "views", "rows in tables"):
        layers.add_column(column, justify="left" if column == "layer" else "right")
    for layer in LAYERS:
        in_layer = [entry for entry in counts if entry[0] == layer]
        tables = [rows for _, _, kind, rows in in_layer if kind == "table"]
        views = sum(1 for _, _, kind, _ in in_layer if kind == "view")
        layers.add_row(layer, f"{len(tables)}", f"{views}", f"{sum(tables):,}")
    return layers


def fail(message: str) -> typer.Exit:
    """Say what went wrong on stderr (stdout stays clean for --json) and end with exit code 1."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(1)


def summary(
    json_output: Annotated[
        bool, typer.Option("--json", help="Write the KPIs as JSON to stdout ({scenario: {kpi: value}}) instead.")
    ] = False,
    window: Annotated[
        KpiWindow,
        typer.Option(
            help="Days the KPIs cover: every day of the data, each scenario's effect window, or that window and the "
            "days after it (dbt var scenario_recovery_days)."
        ),
    ] = KpiWindow.whole_horizon,
) -> None:
    """Row counts per layer and the headline KPIs per scenario (marts.fct_scenario_kpis)."""
    settings = resolve()
    try:
        conn = connect(settings)
    except ConnectionError as error:
        raise fail(str(error)) from error
    try:
        with conn.cursor() as cursor:
            counts = [] if json_output else relation_counts(cursor)
            figures = read_kpis(cursor, window)
    except SummaryError as error:
        if counts:
            Console().print(layer_table(counts, f"Queijaria PCP at {settings.describe()}"))
        raise fail(str(error)) from error
    except psycopg2.errors.UndefinedTable as error:
        # dropped while we read it (a concurrent dbt build)
        raise fail(NOT_BUILT) from error
    except psycopg2.Error as error:
        reads = "marts.fct_scenario_kpis" if json_output else f"every table of the schemas {', '.join(LAYERS)}"
        raise fail(query_failure(error, settings, reads)) from error
    finally:
        conn.close()

    if json_output:
        json.dump(kpis_by_scenario(figures), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    console = Console(width=None if sys.stdout.isatty() else REPORT_WIDTH)
    console.print(layer_table(counts, f"Queijaria PCP at {settings.describe()}"))
    console.print(kpi_table(figures, window))
    console.print(
        "Next: [bold]queijaria summary --window effect_window[/] (each scenario's effect against the baseline), "
        "[bold]make docs[/] (lineage), [bold]make report[/] (shortage CSV), [bold]docker compose up -d[/] for "
        "Metabase (see README)."
    )
