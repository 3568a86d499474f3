"""Dashboards as code: every card's SQL runs on a built pipeline and gives its visualization the columns it
draws, with the filters unset and set; spec mistakes end in one message naming the file and the card."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support import BuiltPipeline

from queijaria.dashboards.queries import engine_for, run_card
from queijaria.dashboards.spec import DashboardSpecError, load_dashboard, load_dashboards

DASHBOARDS = load_dashboards()


@pytest.fixture(scope="module")
def engine(built_pipeline: BuiltPipeline) -> sa.Engine:
    return engine_for(built_pipeline.settings)


@pytest.fixture(scope="module")
def set_values(engine: sa.Engine) -> dict[str, Any]:
    """Filter values that select real data: a scenario, line and product with requirements open now (the cards of
    what is open show them whatever the dates) and orders started short (rare: the planner waits for the milk),
    the most of both."""
    with engine.connect() as connection:
        scenario, line, product = connection.execute(
            sa.text(
                "select scenario_id, line_id, product_id from marts.fct_material_shortages group by 1, 2, 3 "
                "order by count(*) filter (where requirement_status = 'open') > 0 "
                "and count(*) filter (where is_short_at_start) > 0 desc, "
                "count(*) filter (where requirement_status = 'open' or is_short_at_start) desc, 1, 2, 3 limit 1"
            )
        ).one()
        first_day, last_day = connection.execute(
            sa.text("select min(production_date), max(production_date) from marts.fct_line_performance_daily")
        ).one()
    return {
        "scenario": scenario,
        "line": line,
        "product": product,
        "start_date": first_day + dt.timedelta(days=7),
        "end_date": last_day,
        "kpi_window": "whole_horizon",
    }


@pytest.mark.slow
@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[dashboard.slug for dashboard in DASHBOARDS])
@pytest.mark.parametrize("filters", ["unset", "set"])
def test_every_card_returns_the_columns_it_draws(
    engine: sa.Engine, set_values: dict[str, Any], dashboard: Any, filters: str
) -> None:
    values = {} if filters == "unset" else {item.name: set_values[item.name] for item in dashboard.filters}
    for card in dashboard.cards:
        frame = run_card(engine, card, values)
        missing = [column for column in card.required_columns if column not in frame.columns]
        assert not missing, f"{dashboard.name} / {card.title}: no column {missing} in {list(frame.columns)}"
        assert len(frame) > 0, f"{dashboard.name} / {card.title}: no rows with filters {values}"
        if card.visualization == "number":
            assert len(frame) == 1, f"{dashboard.name} / {card.title}: a number card returned {len(frame)} rows"


@pytest.mark.slow
def test_a_filter_narrows_what_a_card_counts(engine: sa.Engine, set_values: dict[str, Any]) -> None:
    overview = next(dashboard for dashboard in DASHBOARDS if dashboard.name == "Overview")
    shortages = next(card for card in overview.cards if card.title == "Short at start (order-material pairs)")
    everywhere = run_card(engine, shortages, {})["short_at_start_count"].item()
    one_line = run_card(engine, shortages, {"scenario": set_values["scenario"], "line": set_values["line"]})
    assert 0 < one_line["short_at_start_count"].item() < everywhere


VALID_CARD = """
  - title: Good kg
    visualization: number
    value: good_kg
    position: {col: 0, row: 0, width: 6, height: 3}
    sql: select sum(good_kg) as good_kg from marts.fct_line_performance_daily where true [[and line_id = {{line}}]]
"""


def write_spec(folder: Path, cards: str, filters: str = "[{name: line, type: text, label: Line}]") -> Path:
    path = folder / "broken.yml"
    path.write_text(f"name: Broken\nfilters: {filters}\ncards:{cards}")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("marts.fct_line_performance_daily", "staging.stg_erp__production_orders"), "reads staging.stg_erp__"),
        (("visualization: number", "visualization: pie"), "visualization 'pie' is not one of"),
        (("value: good_kg", "x: good_kg"), "a number card needs `value`"),
        (("{{line}}", "{{product}}"), "uses {{product}}, which is not one of the dashboard's filters"),
        (("width: 6", "width: 26"), "passes the 24-column grid"),
        (("height: 3", "height: 100000000"), "height 100000000 is more than 40 grid rows"),
        (("row: 0", "row: 100000000"), "row 100000000 + height 3 passes the grid's last row (500)"),
        (("from marts.", "from raw.stock_lots, marts."), "reads raw.stock_lots; cards read the marts schema only"),
        (("select sum", "select 1; select sum"), "has 2 statements; a card is exactly one SELECT"),
        (("value: good_kg", "value: good_kg\n    format: money"), "format 'money' is not one of number, percent"),
    ],
)
def test_a_spec_mistake_names_the_file_and_the_card(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write_spec(tmp_path, VALID_CARD.replace(*change))
    with pytest.raises(DashboardSpecError, match=r"broken\.yml") as raised:
        load_dashboard(path)
    assert message in str(raised.value)


def test_overlapping_cards_and_unwired_filters_are_refused(tmp_path: Path) -> None:
    second = VALID_CARD.replace("Good kg", "Good kg again")
    with pytest.raises(DashboardSpecError, match="overlaps 'Good kg' at row 0, col 0"):
        load_dashboard(write_spec(tmp_path, VALID_CARD + second))
    unwired = "[{name: line, type: text, label: Line}, {name: product, type: text, label: Product}]"
    with pytest.raises(DashboardSpecError, match="the filter 'product' is wired to no card"):
        load_dashboard(write_spec(tmp_path, VALID_CARD, unwired))


def test_a_spec_lists_the_marts_its_cards_read(tmp_path: Path) -> None:
    assert load_dashboard(write_spec(tmp_path, VALID_CARD)).marts == ("fct_line_performance_daily",)
