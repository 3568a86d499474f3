"""`queijaria summary`: what the pipeline built, layer by layer, and where to look next."""

from __future__ import annotations

from psycopg2 import sql
from rich.console import Console
from rich.table import Table

from queijaria.db.connection import connect, resolve

LAYERS = ("raw", "reference", "staging", "intermediate", "marts")

# Scenario comparison of the reservation outcome, when the planning mart exists.
SHORTAGE_SUMMARY = """
select
    scenario_id,
    count(distinct order_id) as orders_short,
    sum(short_quantity) filter (where unit = 'L') as short_l,
    sum(short_quantity) filter (where unit = 'kg') as short_kg
from marts.fct_material_shortages
where short_quantity > 0
group by scenario_id
order by scenario_id
"""


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


def summary() -> None:
    """Row counts per layer, the shortage picture per scenario and where to go next."""
    console = Console()
    settings = resolve()
    with connect(settings) as conn, conn.cursor() as cursor:
        counts = relation_counts(cursor)
        layers = Table(title=f"Queijaria PCP at {settings.describe()}")
        for column in ("layer", "tables", "views", "rows in tables"):
            layers.add_column(column, justify="left" if column == "layer" else "right")
        for layer in LAYERS:
            in_layer = [entry for entry in counts if entry[0] == layer]
            tables = [rows for _, _, kind, rows in in_layer if kind == "table"]
            views = sum(1 for _, _, kind, _ in in_layer if kind == "view")
            layers.add_row(layer, f"{len(tables)}", f"{views}", f"{sum(tables):,}")
        console.print(layers)

        marts = Table(title="Marts")
        marts.add_column("relation")
        marts.add_column("rows", justify="right")
        for _, name, _, rows in (entry for entry in counts if entry[0] == "marts"):
            marts.add_row(name, f"{rows:,}")
        console.print(marts)

        if any(schema == "marts" and name == "fct_material_shortages" for schema, name, _, _ in counts):
            cursor.execute(SHORTAGE_SUMMARY)
            shortages = Table(title="Reservation shortages per scenario (falta)")
            for column in ("scenario", "orders short", "short, L (milk, whey)", "short, kg"):
                shortages.add_column(column, justify="left" if column == "scenario" else "right")
            for scenario_id, orders, short_l, short_kg in cursor.fetchall():
                shortages.add_row(scenario_id, f"{orders:,}", f"{short_l or 0:,.0f}", f"{short_kg or 0:,.1f}")
            console.print(shortages)

    console.print(
        "Next: [bold]make docs[/] (lineage), [bold]make report[/] (shortage CSV), "
        "[bold]docker compose up -d[/] for Metabase (see README)."
    )
