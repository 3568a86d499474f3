"""The IoT marts on a real database, loaded by the real loader: incremental runs give what a full refresh gives.

A throw-away database; 1-minute readings of three sensors, written as loader batches (queijaria.loading.sample_batch
with our own iot_readings.csv), loaded with `queijaria.loading.load`, then `dbt run` of the IoT models:
- a load that ends inside an excursion, then the next day appended and an incremental run: one excursion,
  exactly the rows a full refresh gives;
- a scenario whose raw data is replaced: the incremental run recomputes it (the old excursion is gone).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from support import DbtRunner, create_database, drop_database, make_dbt_runner

from queijaria.db.connection import ConnectionSettings, connect, resolve
from queijaria.loading import load
from queijaria.loading.sample_batch import SENSORS, write_batch, write_csv, write_manifest

pytestmark = pytest.mark.slow

# The IoT models with the staging views and reference they read.
IOT_MODELS = ("+fct_sensor_daily",)
IN_SPEC = {"TT-PAST-01": 73.5, "PH-VAT-MUS-01": 6.55, "TT-COLD-01": 3.0}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConnectionSettings, DbtRunner]]:
    settings = create_database(resolve(), "marts_iot")
    dbt = make_dbt_runner(settings, tmp_path_factory.mktemp("dbt_target"))
    dbt("seed")
    yield settings, dbt
    drop_database(settings)


def write_day(
    out: Path,
    scenario: str,
    day: date,
    out_of_spec: dict[str, dict[str, float]],
    continues: str | None,
    idle: dict[str, dict[str, float]] | None = None,
) -> Path:
    """A one-day loader batch whose readings are every minute in spec with the equipment running, except
    `out_of_spec[sensor][HH:MM]` and the readings `idle[sensor][HH:MM]` taken while the equipment was idle."""
    folder = write_batch(out, scenario, day, day, continues=continues)
    start = datetime.combine(day, datetime.min.time())
    rows = []
    for sensor in SENSORS:
        for minute in range(1440):
            moment = start + timedelta(minutes=minute)
            clock = moment.strftime("%H:%M")
            idle_value = (idle or {}).get(sensor, {}).get(clock)
            value = idle_value if idle_value is not None else out_of_spec.get(sensor, {}).get(clock, IN_SPEC[sensor])
            flag = "true" if idle_value is not None else "false"
            rows.append([scenario, sensor, moment.strftime("%Y-%m-%d %H:%M:%S"), f"{value:.2f}", flag])
    write_csv(folder / "iot_readings.csv", "iot_readings", rows)
    write_manifest(folder)
    return folder


def minutes(first: str, last: str, value: float) -> dict[str, float]:
    """value at every minute from first to last (HH:MM, inclusive)."""
    start, end = (datetime.strptime(moment, "%H:%M") for moment in (first, last))
    count = int((end - start).total_seconds() // 60) + 1
    return {(start + timedelta(minutes=offset)).strftime("%H:%M"): value for offset in range(count)}


def query(settings: ConnectionSettings, sql: str, *params: object) -> list[tuple]:
    conn = connect(settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        conn.close()


def mart_rows(settings: ConnectionSettings, scenario: str) -> dict[str, list[tuple]]:
    """Every row of the IoT models for the scenario, in a stable order (out-of-spec arrays sorted)."""
    return {
        "fct_iot_excursions": query(
            settings, "select * from marts.fct_iot_excursions where scenario_id = %s order by 1", scenario
        ),
        "fct_sensor_daily": query(
            settings, "select * from marts.fct_sensor_daily where scenario_id = %s order by 1", scenario
        ),
        "int_sensor_days_aggregated": query(
            settings,
            """
            select
                sensor_day_key, scenario_load_id, reading_count, out_of_spec_reading_count, value_min, value_max,
                value_sum, array(select unnest(out_of_spec_read_ats) order by 1)
            from intermediate.int_sensor_days_aggregated
            where scenario_id = %s
            order by 1
            """,
            scenario,
        ),
    }


def excursions(settings: ConnectionSettings, scenario: str, sensor: str) -> list[tuple]:
    return query(
        settings,
        """
        select started_at, last_out_of_spec_at, ended_at, is_open, out_of_spec_reading_count, excursion_min
        from marts.fct_iot_excursions
        where scenario_id = %s and sensor_id = %s
        order by started_at
        """,
        scenario,
        sensor,
    )


def test_excursion_spanning_two_loads_is_one_row_as_in_a_full_refresh(
    scratch: tuple[ConnectionSettings, DbtRunner], tmp_path: Path
) -> None:
    settings, dbt = scratch
    day_1, day_2 = date(2025, 3, 1), date(2025, 3, 2)
    # Day 1 ends with the cold room at 6 °C (spec 0-5) since 23:50 and the running pasteurizer at 71 °C (spec
    # 72-75) since 23:57; a pH flicker at 23:55 ends at 23:56, after the cold room's excursion started.
    write_day(
        tmp_path,
        "baseline",
        day_1,
        {
            "TT-COLD-01": minutes("23:50", "23:59", 6.0),
            "PH-VAT-MUS-01": {"23:55": 6.9},
            "TT-PAST-01": minutes("23:57", "23:59", 71.0),
        },
        continues=None,
    )
    load(tmp_path, ["baseline"], settings=settings)
    dbt("run", "-s", *IOT_MODELS)
    assert excursions(settings, "baseline", "TT-COLD-01") == [
        (datetime(2025, 3, 1, 23, 50), datetime(2025, 3, 1, 23, 59), None, True, 10, 10)
    ]

    # Day 2 appended: the cold room still out of spec until 00:09, back in spec at 00:10. The pasteurizer is
    # still low at 00:00-00:01, then its lines stop (idle, cooling to 40 °C, 00:02-00:29) and it restarts cold
    # at 00:30 (71.5 °C, running), in spec from 00:31.
    write_day(
        tmp_path,
        "baseline",
        day_2,
        {
            "TT-COLD-01": minutes("00:00", "00:09", 6.5),
            "TT-PAST-01": {**minutes("00:00", "00:01", 71.0), "00:30": 71.5, **minutes("08:00", "08:02", 71.0)},
        },
        continues="2025-03-01_2025-03-01",
        idle={"TT-PAST-01": minutes("00:02", "00:29", 40.0)},
    )
    load(tmp_path, ["baseline"], settings=settings)
    dbt("run", "-s", *IOT_MODELS)
    incremental = mart_rows(settings, "baseline")

    assert excursions(settings, "baseline", "TT-COLD-01") == [
        (datetime(2025, 3, 1, 23, 50), datetime(2025, 3, 2, 0, 9), datetime(2025, 3, 2, 0, 10), False, 20, 20)
    ]
    assert query(
        settings,
        "select reading_date, out_of_spec_min, excursion_count from marts.fct_sensor_daily "
        "where scenario_id = 'baseline' and sensor_id = 'TT-COLD-01' order by 1",
    ) == [(day_1, 10, 1), (day_2, 10, 1)]
    # The idle period ends the pasteurizer's excursion (at its first idle reading) and the cold restart is
    # another one: idle readings are never out of spec, whatever their value.
    assert excursions(settings, "baseline", "TT-PAST-01") == [
        (datetime(2025, 3, 1, 23, 57), datetime(2025, 3, 2, 0, 1), datetime(2025, 3, 2, 0, 2), False, 5, 5),
        (datetime(2025, 3, 2, 0, 30), datetime(2025, 3, 2, 0, 30), datetime(2025, 3, 2, 0, 31), False, 1, 1),
        (datetime(2025, 3, 2, 8, 0), datetime(2025, 3, 2, 8, 2), datetime(2025, 3, 2, 8, 3), False, 3, 3),
    ]
    assert query(
        settings,
        "select reading_date, idle_reading_count, out_of_spec_reading_count from marts.fct_sensor_daily "
        "where scenario_id = 'baseline' and sensor_id = 'TT-PAST-01' order by 1",
    ) == [(day_1, 0, 3), (day_2, 28, 6)]

    dbt("run", "-s", *IOT_MODELS, "--full-refresh")
    assert mart_rows(settings, "baseline") == incremental


def test_replaced_scenario_is_computed_again_by_an_incremental_run(
    scratch: tuple[ConnectionSettings, DbtRunner], tmp_path: Path
) -> None:
    settings, dbt = scratch
    day = date(2025, 3, 1)
    write_day(tmp_path / "first", "heatwave", day, {"TT-COLD-01": minutes("14:00", "14:29", 7.0)}, continues=None)
    load(tmp_path / "first", ["heatwave"], settings=settings)
    dbt("run", "-s", *IOT_MODELS)
    assert [row[0] for row in excursions(settings, "heatwave", "TT-COLD-01")] == [datetime(2025, 3, 1, 14, 0)]

    # A fresh simulation of the same day replaces the scenario's raw data: the excursion is at another time.
    write_day(tmp_path / "second", "heatwave", day, {"TT-COLD-01": minutes("16:00", "16:04", 5.5)}, continues=None)
    load(tmp_path / "second", ["heatwave"], settings=settings)
    dbt("run", "-s", *IOT_MODELS)
    incremental = mart_rows(settings, "heatwave")

    assert excursions(settings, "heatwave", "TT-COLD-01") == [
        (datetime(2025, 3, 1, 16, 0), datetime(2025, 3, 1, 16, 4), datetime(2025, 3, 1, 16, 5), False, 5, 5)
    ]
    dbt("run", "-s", *IOT_MODELS, "--full-refresh")
    assert mart_rows(settings, "heatwave") == incremental
