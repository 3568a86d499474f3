"""A card's result as a plotly figure: the one drawing used by the static preview."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from queijaria.dashboards.spec import Card

LAYOUT = {"margin": {"l": 40, "r": 10, "t": 10, "b": 40}, "autosize": True, "legend": {"orientation": "h"}}


def card_figure(card: Card, frame: pd.DataFrame) -> go.Figure:
    if card.visualization == "number":
        value = frame[card.value].iloc[0] if len(frame) else None
        number = {"valueformat": ".1%"} if card.format == "percent" else {}
        value = None if pd.isna(value) else float(value)
        figure = go.Figure(go.Indicator(mode="number", value=value, number=number))
    elif card.visualization == "table":
        shown = frame.copy()
        floats = shown.select_dtypes("float").columns
        shown[floats] = shown[floats].round(3)
        cells = [shown[column].astype(str).where(shown[column].notna(), "").tolist() for column in shown.columns]
        figure = go.Figure(go.Table(header={"values": list(frame.columns)}, cells={"values": cells}))
    else:
        figure = go.Figure([_trace(card, part, column, name) for part, column, name in _series(card, frame)])
        if card.visualization == "bar":
            figure.update_layout(barmode="group")
        if card.format == "percent":
            figure.update_yaxes(tickformat=".0%")
    return figure.update_layout(**LAYOUT)


def _series(card: Card, frame: pd.DataFrame) -> list[tuple[pd.DataFrame, str, str]]:
    """(rows, y column, legend name) per trace: one per y column, times one per series value."""
    if not card.series:
        return [(frame, column, column) for column in card.y]
    return [
        (part, column, f"{key} {column}" if len(card.y) > 1 else str(key))
        for key, part in frame.groupby(card.series, sort=True, dropna=False)
        for column in card.y
    ]


def _trace(card: Card, frame: pd.DataFrame, column: str, name: str) -> go.Scatter | go.Bar:
    x, y = frame[card.x].tolist(), frame[column].tolist()
    if card.visualization == "bar":
        return go.Bar(x=x, y=y, name=name)
    return go.Scatter(x=x, y=y, name=name, mode="lines")
