"""The IoT readings' data tests judge the newest iot_readings_tested_days days of readings (dbt var; null: all).

A duplicate or out-of-range reading among the newest days fails the build; one older than the slice is left to
the full check (`--vars '{iot_readings_tested_days: null}'`), which still catches it. The bound follows the data
(the newest reading), not the clock: a small load of last January is judged in full with the default 7 days.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from support import create_database, drop_database, make_dbt_runner

from queijaria.db.connection import connect, resolve
from queijaria.loading import load
from queijaria.loading.sample_batch import write_batch

READING_TESTS = ("--select", "stg_scada__iot_readings", "assert_iot_readings_within_sensor_physical_limits")
# the tests that see the bad rows below, and how many each returns when it judges both days
CATCHING = {
    "unique_stg_scada__iot_readings_iot_reading_key": 2,
    "accepted_range_stg_scada__iot_readings_reading_value__8__4": 2,
    "assert_iot_readings_within_sensor_physical_limits": 2,
}


def _bad_rows(cursor) -> None:
    """A duplicate and an out-of-range pH reading on the first day and on the last day of the data.

    The raw primary key is dropped first: like rows written by another tool than the loader, which would have
    refused the duplicates.
    """
    cursor.execute("alter table raw.iot_readings drop constraint iot_readings_pkey")
    for newest_or_oldest in ("max", "min"):
        cursor.execute(
            f"""
            insert into raw.iot_readings (scenario_id, sensor_id, read_at, value)
            select scenario_id, sensor_id, read_at, value from raw.iot_readings
            where read_at = (select {newest_or_oldest}(read_at) from raw.iot_readings)
            limit 1
            """
        )
    cursor.execute(
        "insert into raw.iot_readings (scenario_id, sensor_id, read_at, value) values "
        "('baseline', 'PH-VAT-MUS-01', '2025-01-01 00:00:30', 9.5), "
        "('baseline', 'PH-VAT-MUS-01', '2025-01-03 12:00:30', 9.5)"
    )


def _failures(target: Path) -> dict[str, int]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        result["unique_id"].split(".")[2]: result["failures"]
        for result in results
        if result["unique_id"].startswith("test.") and result["status"] == "fail"
    }


@pytest.mark.slow
def test_reading_tests_judge_the_newest_days_and_all_of_them_on_request(tmp_path: Path) -> None:
    settings = create_database(resolve(), "queijaria_iot_slice_test")
    try:
        write_batch(tmp_path / "out", "baseline", date(2025, 1, 1), date(2025, 1, 3))
        load(tmp_path / "out", settings=settings)
        target = tmp_path / "target"
        dbt = make_dbt_runner(settings, target)
        dbt("seed")
        dbt("run", "--select", "staging.reference", "stg_scada__iot_readings")
        dbt("test", *READING_TESTS)

        with connect(settings) as conn, conn.cursor() as cursor:
            _bad_rows(cursor)

        # the last day only: the first day's duplicate and out-of-range reading are outside the slice
        assert dbt("test", *READING_TESTS, "--vars", "{iot_readings_tested_days: 1}", check=False).returncode != 0
        assert _failures(target) == dict.fromkeys(CATCHING, 1)
        # the default 7 days before the newest reading (January 2025, whatever today is) cover the whole load
        assert dbt("test", *READING_TESTS, check=False).returncode != 0
        assert _failures(target) == CATCHING
        # null: every reading
        assert dbt("test", *READING_TESTS, "--vars", "{iot_readings_tested_days: null}", check=False).returncode != 0
        assert _failures(target) == CATCHING
    finally:
        drop_database(settings)
