"""The dashboard specs (dashboards/*.yml): loading and validation, with one clear message per mistake."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from queijaria import PROJECT_ROOT
from queijaria.dashboards.sqlcheck import UnsafeSqlError, check_card_sql, check_template_markers
from queijaria.dashboards.template import extremes, template_tags

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
MARTS_SCHEMA = "marts"
# Metabase lays dashboards out on a grid 24 columns wide.
GRID_COLUMNS = 24
# Bounds on the rows, so that a typo (height 100000000) is refused instead of hanging the layout check and the
# browser: a card at most a few screens high (60 px a row in the preview), a dashboard at most 500 rows long.
MAX_CARD_HEIGHT = 40
GRID_ROWS = 500
FILTER_TYPES = ("text", "date")
VISUALIZATIONS = ("number", "line", "bar", "table")
# How a number card's value or a chart's y axis is shown: ratios (OEE, OTIF, shares) as percentages.
FORMATS = ("number", "percent")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class SpecLoader(yaml.SafeLoader):
    """YAML without implicit dates: a filter's default stays text, so a wrong one (2025-13-01) is named here,
    with its filter, instead of failing inside the YAML parser."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class DashboardSpecError(ValueError):
    """A dashboard file that cannot be used; the message names the file, the card and the fix."""


@dataclass(frozen=True)
class Position:
    col: int
    row: int
    width: int
    height: int


@dataclass(frozen=True)
class Filter:
    name: str
    type: str
    label: str
    default: str | None = None


@dataclass(frozen=True)
class Card:
    title: str
    visualization: str
    sql: str
    position: Position
    value: str | None = None
    x: str | None = None
    y: tuple[str, ...] = ()
    series: str | None = None
    columns: tuple[str, ...] = ()
    format: str = "number"

    @property
    def tags(self) -> tuple[str, ...]:
        return template_tags(self.sql)

    @property
    def marts(self) -> tuple[str, ...]:
        """The mart tables the card reads, sorted (a loaded card reads nothing else)."""
        return check_card_sql(self.sql)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """The result columns the visualization draws."""
        if self.visualization == "number":
            return (self.value or "",)
        if self.visualization == "table":
            return self.columns
        return (self.x or "", *self.y, *((self.series,) if self.series else ()))


@dataclass(frozen=True)
class Dashboard:
    name: str
    description: str
    order: int
    filters: tuple[Filter, ...]
    cards: tuple[Card, ...]
    path: Path

    @property
    def marts(self) -> tuple[str, ...]:
        return tuple(sorted({mart for card in self.cards for mart in card.marts}))

    @property
    def slug(self) -> str:
        return self.path.stem

    def filter(self, name: str) -> Filter | None:
        return next((item for item in self.filters if item.name == name), None)


def load_dashboards(folder: Path = DASHBOARDS_DIR) -> list[Dashboard]:
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise DashboardSpecError(f"no dashboard files (*.yml) in {folder}")
    dashboards = sorted((load_dashboard(path) for path in files), key=lambda item: (item.order, item.name))
    seen: dict[str, Path] = {}
    for dashboard in dashboards:
        if dashboard.name in seen:
            raise DashboardSpecError(
                f"{dashboard.path}: the name {dashboard.name!r} is already used by {seen[dashboard.name]}"
            )
        seen[dashboard.name] = dashboard.path
    return dashboards


def load_dashboard(path: Path) -> Dashboard:
    try:
        document = yaml.load(path.read_text(), Loader=SpecLoader)
    except (yaml.YAMLError, ValueError) as error:
        raise DashboardSpecError(f"{path}: not valid YAML: {error}") from error
    except OSError as error:
        raise DashboardSpecError(f"{path}: cannot be read: {error.strerror}") from error
    return _dashboard(document, path)


def _dashboard(document: Any, path: Path) -> Dashboard:
    where = str(path)
    _expect_mapping(document, where, required={"name", "cards"}, optional={"description", "order", "filters"})
    filters = tuple(
        _filter(item, f"{where}: filters[{index}]") for index, item in enumerate(_list(document, "filters", where))
    )
    cards = tuple(_card(item, f"{where}: cards[{index}]") for index, item in enumerate(_list(document, "cards", where)))
    if not cards:
        raise DashboardSpecError(f"{where}: `cards` is empty; a dashboard needs at least one card")
    dashboard = Dashboard(
        name=_text(document, "name", where),
        description=str(document.get("description") or ""),
        order=_order(document, where),
        filters=filters,
        cards=cards,
        path=path,
    )
    _check_names_unique([item.name for item in filters], f"{where}: filter")
    _check_names_unique([card.title for card in cards], f"{where}: card title")
    _check_wiring(dashboard)
    _check_defaults(dashboard)
    _check_layout(dashboard)
    return dashboard


def _order(item: dict[str, Any], where: str) -> int:
    """Where the dashboard comes in lists (the preview, Metabase's collection): lower first."""
    value = item.get("order", 100)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DashboardSpecError(f"{where}: `order` must be a whole number")
    return value


def _filter(item: Any, where: str) -> Filter:
    _expect_mapping(item, where, required={"name", "type", "label"}, optional={"default"})
    name = _text(item, "name", where)
    if not NAME_PATTERN.match(name):
        raise DashboardSpecError(f"{where}: filter name {name!r} must be lowercase letters, digits and _")
    kind = _text(item, "type", where)
    if kind not in FILTER_TYPES:
        raise DashboardSpecError(f"{where} ({name}): type {kind!r} is not one of {', '.join(FILTER_TYPES)}")
    default = item.get("default")
    return Filter(
        name=name, type=kind, label=_text(item, "label", where), default=None if default is None else str(default)
    )


def _card(item: Any, where: str) -> Card:
    _expect_mapping(
        item,
        where,
        required={"title", "visualization", "sql", "position"},
        optional={"value", "x", "y", "series", "columns", "format"},
    )
    title = _text(item, "title", where)
    where = f"{where} ({title})"
    visualization = _text(item, "visualization", where)
    if visualization not in VISUALIZATIONS:
        raise DashboardSpecError(f"{where}: visualization {visualization!r} is not one of {', '.join(VISUALIZATIONS)}")
    needed = {"number": ("value",), "line": ("x", "y"), "bar": ("x", "y"), "table": ("columns",)}[visualization]
    for key in needed:
        if not item.get(key):
            raise DashboardSpecError(f"{where}: a {visualization} card needs `{key}` (the result column(s) it draws)")
    shown = item.get("format", "number")
    if shown not in FORMATS:
        raise DashboardSpecError(f"{where}: format {shown!r} is not one of {', '.join(FORMATS)}")
    card = Card(
        title=title,
        format=shown,
        visualization=visualization,
        sql=_text(item, "sql", where).strip(),
        position=_position(item["position"], f"{where}: position"),
        value=item.get("value"),
        x=item.get("x"),
        y=tuple(_names(item, "y", where)),
        series=item.get("series"),
        columns=tuple(_names(item, "columns", where)),
    )
    _check_sql(card.sql, where)
    return card


def _position(item: Any, where: str) -> Position:
    _expect_mapping(item, where, required={"col", "row", "width", "height"}, optional=set())
    for key in ("col", "row", "width", "height"):
        if (
            not isinstance(item[key], int)
            or isinstance(item[key], bool)
            or item[key] < (1 if key in ("width", "height") else 0)
        ):
            raise DashboardSpecError(f"{where}: `{key}` must be a whole number (width and height at least 1)")
    position = Position(col=item["col"], row=item["row"], width=item["width"], height=item["height"])
    if position.col + position.width > GRID_COLUMNS:
        raise DashboardSpecError(
            f"{where}: col {position.col} + width {position.width} passes the {GRID_COLUMNS}-column grid"
        )
    if position.height > MAX_CARD_HEIGHT:
        raise DashboardSpecError(f"{where}: height {position.height} is more than {MAX_CARD_HEIGHT} grid rows")
    if position.row + position.height > GRID_ROWS:
        raise DashboardSpecError(
            f"{where}: row {position.row} + height {position.height} passes the grid's last row ({GRID_ROWS})"
        )
    return position


def _check_sql(sql: str, where: str) -> None:
    """One marts-only SELECT as written, and also with the optional clauses all kept and all dropped."""
    try:
        check_template_markers(sql)
        for text in (sql, *extremes(sql)):
            check_card_sql(text)
    except UnsafeSqlError as error:
        raise DashboardSpecError(f"{where}: the SQL {error}") from error


def _check_defaults(dashboard: Dashboard) -> None:
    """A date filter's default is a date; the message names the first card it would break."""
    for item in dashboard.filters:
        if item.type != "date" or item.default is None:
            continue
        try:
            dt.date.fromisoformat(item.default)
        except ValueError as error:
            card = next(card for card in dashboard.cards if item.name in card.tags)
            raise DashboardSpecError(
                f"{dashboard.path} ({card.title}): the filter {item.name!r} has the default {item.default!r}, "
                "which is not a date (write YYYY-MM-DD)"
            ) from error


def _check_wiring(dashboard: Dashboard) -> None:
    declared = {item.name for item in dashboard.filters}
    used: set[str] = set()
    for card in dashboard.cards:
        unknown = sorted(set(card.tags) - declared)
        if unknown:
            raise DashboardSpecError(
                f"{dashboard.path} ({card.title}): the SQL uses {{{{{unknown[0]}}}}}, which is not one of the "
                f"dashboard's filters ({', '.join(sorted(declared)) or 'none'})"
            )
        used.update(card.tags)
    unused = sorted(declared - used)
    if unused:
        raise DashboardSpecError(
            f"{dashboard.path}: the filter {unused[0]!r} is wired to no card (no {{{{{unused[0]}}}}})"
        )


def _check_layout(dashboard: Dashboard) -> None:
    taken: dict[tuple[int, int], str] = {}
    for card in dashboard.cards:
        spot = card.position
        for row in range(spot.row, spot.row + spot.height):
            for col in range(spot.col, spot.col + spot.width):
                if (row, col) in taken:
                    raise DashboardSpecError(
                        f"{dashboard.path} ({card.title}): overlaps {taken[(row, col)]!r} at row {row}, col {col}"
                    )
                taken[(row, col)] = card.title


def _check_names_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DashboardSpecError(f"{what} {name!r} appears twice")
        seen.add(name)


def _expect_mapping(item: Any, where: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(item, dict):
        raise DashboardSpecError(f"{where}: expected a mapping with keys {', '.join(sorted(required))}")
    missing = sorted(required - item.keys())
    if missing:
        raise DashboardSpecError(f"{where}: missing `{missing[0]}`")
    unknown = sorted(set(item) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise DashboardSpecError(f"{where}: unknown key `{unknown[0]}` (allowed: {allowed})")


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DashboardSpecError(f"{where}: `{key}` must be non-empty text")
    return value


def _list(item: dict[str, Any], key: str, where: str) -> list[Any]:
    value = item.get(key) or []
    if not isinstance(value, list):
        raise DashboardSpecError(f"{where}: `{key}` must be a list")
    return value


def _names(item: dict[str, Any], key: str, where: str) -> list[str]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise DashboardSpecError(f"{where}: `{key}` must be a list of column names")
    return value
