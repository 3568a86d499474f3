"""`queijaria preview`: the dashboards' YAML rendered to one self-contained HTML page (plotly.js inlined once),
with a scenario and a line selector. Every selectable combination is computed here from the marts and
embedded as figure JSON, so the page works offline; filters other than scenario and line keep their defaults.

The page is small enough to mail (a plant-year of five scenarios: about 3 MB, 18.5 MB before): plotly.js and the
figures are embedded gzip-compressed (base64) and the browser unpacks them with its DecompressionStream, and the
figures share one copy of their plotly template instead of carrying it each.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.engine import Engine

from queijaria import PROJECT_ROOT
from queijaria.dashboards.figures import card_figure
from queijaria.dashboards.queries import CardQueryError, default_values, read_only_query, run_card
from queijaria.dashboards.spec import Card, Dashboard

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PREVIEW = PROJECT_ROOT / "target" / "preview" / "dashboards.html"
SELECTORS = ("scenario", "line")
# Grid row height in pixels: Metabase's cards are about this tall per grid unit.
ROW_PX = 60

SCRIPT = """
async function unpack(id) {
  const text = atob(document.getElementById(id).textContent);
  const bytes = Uint8Array.from(text, (character) => character.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}
function selected(name) { const box = document.getElementById("select-" + name); return box ? box.value : ""; }
function render(figures, templates) {
  for (const card of document.querySelectorAll("[data-card]")) {
    const uses = card.dataset.uses ? card.dataset.uses.split(",") : [];
    const key = ["scenario", "line"].map((name) => (uses.includes(name) ? selected(name) : "")).join("|");
    const entry = figures[card.dataset.card][key];
    const layout = {...entry.figure.layout, template: templates[entry.template]};
    card.dataset.rows = entry.rows;
    Plotly.react(card.querySelector(".graph"), entry.figure.data, layout, {displayModeBar: false, responsive: true});
  }
}
(async () => {
  const plotly = document.createElement("script");
  plotly.textContent = await unpack("plotly-js");
  document.head.appendChild(plotly);
  const figures = JSON.parse(await unpack("figures"));
  const templates = JSON.parse(document.getElementById("templates").textContent);
  for (const box of document.querySelectorAll("select")) {
    box.addEventListener("change", () => render(figures, templates));
  }
  render(figures, templates);
  document.body.dataset.ready = "true";
})();
"""

STYLE = """
body { font-family: sans-serif; margin: 1rem 2rem; background: #f6f7f9; color: #222; }
header { position: sticky; top: 0; background: #f6f7f9; padding: .5rem 0; z-index: 10; }
label { margin-right: 1.5rem; }
.grid { display: grid; grid-template-columns: repeat(24, 1fr); gap: 8px; grid-auto-rows: ROW_PXpx; }
.card { background: white; border-radius: 6px; box-shadow: 0 1px 3px #0002; padding: 6px; display: flex;
        flex-direction: column; min-width: 0; }
.card h3 { font-size: .9rem; margin: 0 0 4px; }
.graph { flex: 1; min-height: 0; }
""".replace("ROW_PX", str(ROW_PX))


class PreviewError(RuntimeError):
    """The preview cannot be made; the message names the card (file and title) or the output, and the fix."""


def options(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of every scenario and line, from the dimension marts."""
    try:
        scenarios = read_only_query(
            engine, "select scenario_id, scenario_name from marts.dim_scenarios order by not is_baseline, 1"
        )
        lines = read_only_query(engine, "select line_id, line_name from marts.dim_lines order by 1")
    except CardQueryError as error:
        raise PreviewError(f"cannot read the scenarios and lines from the marts: {error}") from error
    return {
        "scenario": list(scenarios.itertuples(index=False, name=None)),
        "line": [("", "All lines"), *lines.itertuples(index=False, name=None)],
    }


def build_preview(engine: Engine, dashboards: list[Dashboard], out: Path = DEFAULT_PREVIEW) -> Path:
    """Writes the page to out, or nothing at all (the old page stays when a card fails)."""
    partial = _reserve(out)
    try:
        _write(partial, _page(engine, dashboards), out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def _page(engine: Engine, dashboards: list[Dashboard]) -> str:
    choices = options(engine)
    figures: dict[str, dict[str, Any]] = {}
    sections = []
    for dashboard in dashboards:
        uses = [name for name in SELECTORS if dashboard.filter(name)]
        cards_html = []
        for card in dashboard.cards:
            card_id = f"{dashboard.slug}/{card.title}"
            figures[card_id] = _card_variants(engine, dashboard, card, uses, choices)
            spot = card.position
            cards_html.append(
                f'<div class="card" data-card="{html.escape(card_id)}" data-visualization="{card.visualization}" '
                f'data-uses="{",".join(uses)}" style="grid-column: {spot.col + 1} / span {spot.width}; '
                f'grid-row: {spot.row + 1} / span {spot.height}"><h3>{html.escape(card.title)}</h3>'
                '<div class="graph"></div></div>'
            )
        sections.append(
            f'<section data-dashboard="{html.escape(dashboard.name)}"><h2>{html.escape(dashboard.name)}</h2>'
            f'<p>{html.escape(dashboard.description)}</p><div class="grid">{"".join(cards_html)}</div></section>'
        )
    selectors = "".join(_selector(name, choices[name]) for name in SELECTORS)
    templates = _shared_templates(figures)
    plotly_js, data = _packed(get_plotlyjs()), _packed(json.dumps(figures, cls=PlotlyJSONEncoder))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Queijaria PCP dashboards</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>Queijaria PCP dashboards (static preview)</h1>{selectors}</header>{''.join(sections)}"
        f'<script id="plotly-js" type="application/octet-stream">{plotly_js}</script>'
        f'<script id="figures" type="application/octet-stream">{data}</script>'
        f'<script id="templates" type="application/json">{_json_in_html(templates)}</script>'
        f"<script>{SCRIPT}</script></body></html>"
    )


def _shared_templates(figures: dict[str, dict[str, Any]]) -> list[Any]:
    """Each figure's plotly template (7 kB of theme) moved out to one list the page keeps once; the figure names
    it by its position."""
    templates: list[Any] = []
    positions: dict[str, int] = {}
    for variants in figures.values():
        for entry in variants.values():
            template = entry["figure"]["layout"].pop("template", None)
            text = json.dumps(template, cls=PlotlyJSONEncoder, sort_keys=True)
            if text not in positions:
                positions[text] = len(templates)
                templates.append(template)
            entry["template"] = positions[text]
    return templates


def _packed(text: str) -> str:
    """gzip, then base64: what the page's unpack() reads back (base64 cannot hold '</script>')."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def _json_in_html(value: Any) -> str:
    return json.dumps(value, cls=PlotlyJSONEncoder).replace("</", "<\\/")


def _reserve(out: Path) -> Path:
    """An empty hidden file beside out, made before any card runs: a place that cannot be written fails at once."""
    if out.is_dir():
        raise PreviewError(f"--out {out} is a folder; give the HTML file to write, e.g. {out / 'dashboards.html'}")
    if out.exists() and not out.is_file():
        raise PreviewError(f"--out {out} is not a regular file; give the HTML file to write")
    blocker = next((folder for folder in out.parents if folder.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise PreviewError(f"cannot write {out}: {blocker} is a file, not a folder")
    partial = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as error:
        raise PreviewError(f"cannot write {out}: {error.strerror or error}") from error
    return partial


def _write(partial: Path, page: str, out: Path) -> None:
    """The whole page, then a rename: a reader of out sees the old page or the new one, never half of one."""
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(out)
    except OSError as error:
        raise PreviewError(f"cannot write {out}: {error.strerror or error}") from error


def _card_variants(
    engine: Engine, dashboard: Dashboard, card: Any, uses: list[str], choices: dict[str, list[tuple[str, str]]]
) -> dict[str, Any]:
    """The card's figure for every scenario x line the page can select, keyed "scenario|line"."""
    variants = {}
    scenario_values = [value for value, _ in choices["scenario"]] if "scenario" in uses else [""]
    line_values = [value for value, _ in choices["line"]] if "line" in uses else [""]
    where = f"{dashboard.path} ({card.title})"
    try:
        defaults = default_values(dashboard)
    except ValueError as error:
        raise PreviewError(f"{where}: a filter default cannot be used: {error}") from error
    for scenario in scenario_values:
        for line in line_values:
            values = {**defaults, "scenario": scenario or None, "line": line or None}
            try:
                frame = run_card(engine, card, values)
            except CardQueryError as error:
                raise PreviewError(f"{where}: {error}") from error
            variants[f"{scenario}|{line}"] = {"rows": len(frame), "figure": _figure(card, frame, where)}
    return variants


def _figure(card: Card, frame: pd.DataFrame, where: str) -> dict[str, Any]:
    """The card's figure as JSON; a result without the columns the visualization draws is the card's mistake."""
    missing = [column for column in card.required_columns if column not in frame.columns]
    if missing:
        raise PreviewError(
            f"{where}: the result has no column {missing[0]!r}, which the {card.visualization} card draws; "
            f"it returns {', '.join(map(str, frame.columns)) or 'no columns'}"
        )
    try:
        return card_figure(card, frame)
    except (ValueError, TypeError) as error:
        raise PreviewError(f"{where}: cannot draw the {card.visualization} card: {error}") from error


def _selector(name: str, choices: list[tuple[str, str]]) -> str:
    items = "".join(f'<option value="{html.escape(value)}">{html.escape(label)}</option>' for value, label in choices)
    return f'<label>{name.capitalize()} <select id="select-{name}">{items}</select></label>'
