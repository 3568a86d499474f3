"""What the Spark tests share: the generated plant they use, and a table's rows read from PostgreSQL and from Spark
in one comparable form (sorted, numbers by value)."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from queijaria.db.connection import ConnectionSettings, connect

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
# Two scenarios over the heatwave's window (it refuses a horizon without it), 15-minute IoT: about 185,000 rows.
GENERATE_ARGS = (
    *("--start-date", "2025-12-23", "--days", "24"),
    *("--scenario", "baseline,heatwave", "--iot-interval", "15"),
)


# Spark's decimals keep 6 places (type_decimal()); PostgreSQL's numeric all the places of an exact product or
# quotient. Numbers are compared to the scale Spark declares, rounded half up as Spark rounds.
DECIMAL_PLACES = Decimal("0.000001")


def comparable(value: object) -> object:
    """Equal values of the two engines compare equal: decimals by value to 6 places, doubles to 9 decimals,
    intervals by their seconds."""
    if isinstance(value, Decimal):
        return value.quantize(DECIMAL_PLACES, rounding=ROUND_HALF_UP).normalize()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime | date | bool | int | str) or value is None:
        return value
    return str(value)


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((value is None, str(value)) for value in row))


def postgres_rows(settings: ConnectionSettings, relation: str, columns: list[str]) -> list[tuple]:
    with connect(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"select {', '.join(columns)} from {relation}")
        return _sorted([tuple(comparable(value) for value in row) for row in cursor.fetchall()])


def spark_rows(spark: object, relation: str, columns: list[str]) -> list[tuple]:
    rows = spark.sql(f"select {', '.join(f'`{c}`' for c in columns)} from {relation}").collect()  # type: ignore[attr-defined]
    return _sorted([tuple(comparable(value) for value in row) for row in rows])
