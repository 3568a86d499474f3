"""Cards' SQL run on the warehouse through SQLAlchemy, results as pandas frames."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from queijaria.dashboards.spec import Card, Dashboard
from queijaria.dashboards.template import parse_value, render
from queijaria.db.connection import ConnectionSettings, resolve


def engine_for(settings: ConnectionSettings | None = None) -> Engine:
    settings = settings or resolve()
    url = sa.URL.create(
        "postgresql+psycopg2",
        username=settings.user,
        password=settings.password or None,
        host=settings.host,
        port=settings.port,
        database=settings.dbname,
    )
    return sa.create_engine(url, connect_args={"connect_timeout": 5})


def default_values(dashboard: Dashboard) -> dict[str, Any]:
    """The filter values a dashboard opens with: its filters' defaults."""
    return {item.name: parse_value(item.type, item.default) for item in dashboard.filters if item.default is not None}


def run_card(engine: Engine, card: Card, values: dict[str, Any]) -> pd.DataFrame:
    sql, parameters = render(card.sql, values)
    with engine.connect() as connection:
        frame = pd.read_sql(sa.text(sql), connection, params=parameters)
    # PostgreSQL numeric arrives as Decimal objects; charts and JSON want floats.
    for column in frame.columns:
        if frame[column].map(lambda value: isinstance(value, Decimal)).any():
            frame[column] = frame[column].astype(float)
    return frame
