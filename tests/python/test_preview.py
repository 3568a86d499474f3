"""`queijaria preview`: one offline HTML page whose every card draws data from the marts, checked in headless
Chromium (Debian's chromium and chromium-driver); the screenshot lands in target/preview/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import BuiltPipeline, preview_figures

from queijaria import PROJECT_ROOT
from queijaria.dashboards.spec import load_dashboards
from queijaria.db.connection import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,4000",
)
SCREENSHOT = PROJECT_ROOT / "target" / "preview" / "dashboards.png"
# What a page can weigh and still go by mail (many mail servers refuse attachments over 5 MB after encoding).
MAILABLE_BYTES = 5_000_000


@pytest.fixture(scope="module")
def preview_page(built_pipeline: BuiltPipeline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("preview") / "dashboards.html"
    result = built_pipeline.cli("preview", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    return out


def opened(browser, page: Path) -> None:  # type: ignore[no-untyped-def]
    """The page loaded and drawn: it unpacks plotly.js and the figures before it draws the first card."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 60).until(lambda driver: driver.execute_script("return document.body.dataset.ready"))


def test_a_plant_year_page_can_be_mailed(preview_page: Path) -> None:
    assert preview_page.stat().st_size <= MAILABLE_BYTES


def test_the_overview_shows_each_scenarios_oee_as_the_summary_does(
    preview_page: Path, built_pipeline: BuiltPipeline
) -> None:
    """A planner reads OEE on the Overview and in `queijaria summary`: the same figure, not two roll-ups."""
    with connect(built_pipeline.settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select scenario_id, kpi_value from marts.fct_scenario_kpis"
            " where kpi_id = 'oee' and kpi_window = 'whole_horizon'"
        )
        summary_oee = {scenario: float(value) for scenario, value in cursor.fetchall()}
    overview = preview_figures(preview_page)["overview/OEE"]
    # Keyed "scenario|line"; an empty line is all lines, what the summary rolls up.
    shown = {
        key.split("|")[0]: entry["figure"]["data"][0]["value"] for key, entry in overview.items() if key.endswith("|")
    }
    assert shown.keys() == summary_oee.keys()
    for scenario, value in summary_oee.items():
        assert shown[scenario] == pytest.approx(value, rel=1e-9), scenario


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "no Chromium found: install Debian's `chromium` and `chromium-driver` "
            "(apt-get install -y chromium chromium-driver; .ci/run does it in CI) to run the preview browser test"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


# Per card: its id, the traces plotly drew, and how many points, cells or values they hold.
CARDS_SCRIPT = """
return Array.from(document.querySelectorAll('[data-card]')).map((card) => {
  const graph = card.querySelector('.graph');
  const traces = graph.data || [];
  const points = traces.reduce((total, trace) => total + (trace.type === 'indicator'
      ? (trace.value === null || trace.value === undefined ? 0 : 1)
      : trace.type === 'table' ? (trace.cells.values[0] || []).length : (trace.x || []).length), 0);
  return {card: card.dataset.card, rows: Number(card.dataset.rows), traces: traces.length, points: points,
          drawn: graph.querySelector('.main-svg') !== null};
});
"""


@pytest.mark.slow
def test_every_card_draws_data_offline_with_no_console_error(preview_page: Path, browser) -> None:  # type: ignore[no-untyped-def]
    opened(browser, preview_page)
    cards = browser.execute_script(CARDS_SCRIPT)
    expected = {f"{dashboard.slug}/{card.title}" for dashboard in load_dashboards() for card in dashboard.cards}
    assert {card["card"] for card in cards} == expected
    empty = [card for card in cards if not (card["drawn"] and card["traces"] and card["points"] and card["rows"])]
    assert not empty, f"cards drawn without data: {empty}"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))


@pytest.mark.slow
def test_the_line_selector_redraws_the_cards_for_one_line(preview_page: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import Select

    opened(browser, preview_page)
    oee_bar = "[data-card='overview/OEE by line'] .graph"
    assert len(browser.execute_script(f'return document.querySelector("{oee_bar}").data[0].x')) > 1
    Select(browser.find_element("id", "select-line")).select_by_index(1)
    assert len(browser.execute_script(f'return document.querySelector("{oee_bar}").data[0].x')) == 1
