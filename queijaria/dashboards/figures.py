"""A card's result as a plotly figure: the one drawing used by the static preview.

The figure is written as plotly's JSON (what `go.Figure(...).to_plotly_json()` gives) directly: plotly's objects
validate and deep-copy every value on the way, which took 4.8 s of the 8 s a plant-year's preview took for its
1,059 figures; written directly they take 1.3 s. Only the layout, with its template, is made by plotly itself,
once. Compared on those 1,059 figures (every visualization, format and series this project draws), the JSON
is the same, key for key.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from queijaria.dashboards.spec import Card

LAYOUT = {"margin": {"l": 40, "r": 10, "t": 10, "b": 40}, "autosize": True, "legend": {"orientation": "h"}}


@cache
def _base_layout() -> dict[str, Any]:
    """Every card's layout, the default template included, as plotly writes it."""
    return go.Figure().update_layout(**LAYOUT).to_plotly_json()["layout"]


def card_figure(card: Card, frame: pd.DataFrame) -> dict[str, Any]:
    """The card's figure as plotly JSON: {"data": [traces], "layout": {...}}."""
    layout = copy.deepcopy(_base_layout())
    if card.visualization == "number":
        value = frame[card.value].iloc[0] if len(frame) else None
        indicator: dict[str, Any] = {"mode": "number", "value": None if pd.isna(value) else float(value)}
        if card.format == "percent":
            indicator["number"] = {"valueformat": ".1%"}
        data = [{**indicator, "type": "indicator"}]
    elif card.visualization == "table":
        shown = frame.copy()
        floats = shown.select_dtypes("float").columns
        shown[floats] = shown[floats].round(3)
        cells = [shown[column].astype(str).where(shown[column].notna(), "").tolist() for column in shown.columns]
        data = [{"header": {"values": list(frame.columns)}, "cells": {"values": cells}, "type": "table"}]
    else:
        data = [_trace(card, part, column, name) for part, column, name in _series(card, frame)]
        if card.visualization == "bar":
            layout["barmode"] = "group"
        if card.format == "percent":
            layout.setdefault("yaxis", {})["tickformat"] = ".0%"
    return {"data": data, "layout": layout}


def _series(card: Card, frame: pd.DataFrame) -> list[tuple[pd.DataFrame, str, str]]:
    """(rows, y column, legend name) per trace: one per y column, times one per series value."""
    if not card.series:
        return [(frame, column, column) for column in card.y]
    return [
        (part, column, f"{key} {column}" if len(card.y) > 1 else str(key))
        for key, part in frame.groupby(card.series, sort=True, dropna=False)
        for column in card.y
    ]


def _trace(card: Card, frame: pd.DataFrame, column: str, name: str) -> dict[str, Any]:
    x, y = frame[card.x].tolist(), frame[column].tolist()
    if card.visualization == "bar":
        return {"name": name, "x": x, "y": y, "type": "bar"}
    return {"mode": "lines", "name": name, "x": x, "y": y, "type": "scatter"}
