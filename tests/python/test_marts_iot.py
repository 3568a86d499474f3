"""The IoT marts on a real database, loaded by the real loader: incremental runs give what a full refresh gives.

A throw-away database; 1-minute readings of three sensors, written as loader batches (queijaria.loading.sample_batch
with our own iot_readings.csv), loaded with `queijaria.loading.load`, then `dbt run` of the IoT models:
- a load that ends inside an excursion, then the next day appended and an incremental run: one excursion,
  exactly the rows a full refresh gives;
- a scenario whose raw data is replaced: the incremental run recomputes it (the old excursion is gone);
- a load committed in the middle of a `dbt build`: the later models stop with a message, and the next build gives
  what a full refresh gives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from support import DBT_EXECUTABLE, DbtRunner, create_database, drop_database, make_dbt_runner

from queijaria import PROJECT_ROOT
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


# A data test of int_sensor_days_aggregated that waits for an advisory lock the test holds: `dbt build` runs it
# after that model and before the models reading it (fct_iot_excursions), and a test, unlike a model, holds no lock
# of the raw data, so a load can commit while the build waits there.
GATE_KEY = (8_675_309, 42)
GATE_TEST = f"""
-- depends_on: {{{{ ref('int_sensor_days_aggregated') }}}}
select gate.passed
from (select pg_advisory_xact_lock_shared({GATE_KEY[0]}, {GATE_KEY[1]})::text as passed) as gate
where gate.passed is null
"""


def project_with_gate(folder: Path) -> Path:
    """A copy of the dbt project with the gate test added."""
    for name in ("models", "macros", "seeds", "analyses"):
        shutil.copytree(PROJECT_ROOT / name, folder / name)
    shutil.copytree(PROJECT_ROOT / "tests", folder / "tests", ignore=shutil.ignore_patterns("python"))
    shutil.copy(PROJECT_ROOT / "dbt_project.yml", folder / "dbt_project.yml")
    (folder / "tests" / "gate_after_sensor_days.sql").write_text(GATE_TEST)
    return folder


def wait_for_gate(settings: ConnectionSettings, build: subprocess.Popen[str]) -> None:
    """Until the build waits at the gate (with no model running: --threads 1)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert build.poll() is None, f"the build ended before the gate:\n{build.communicate()[0][-4000:]}"
        waiting = query(
            settings,
            "select count(*) from pg_locks where locktype = 'advisory' and not granted "
            "and classid = %s and objid = %s and objsubid = 2 "
            "and database = (select oid from pg_database where datname = current_database())",
            *GATE_KEY,
        )
        if waiting == [(1,)]:
            return
        time.sleep(0.1)
    raise AssertionError("the build never reached the gate")


def test_load_during_a_build_stops_the_later_models_and_the_next_build_equals_a_full_refresh(
    scratch: tuple[ConnectionSettings, DbtRunner], tmp_path: Path
) -> None:
    settings, _ = scratch
    project = project_with_gate(tmp_path / "project")
    target = tmp_path / "target"
    dbt = make_dbt_runner(settings, target, project)
    build = ("build", "-s", *IOT_MODELS, "--indirect-selection", "cautious")
    day_1, day_2 = date(2025, 3, 1), date(2025, 3, 2)
    # The cold room is out of spec from 23:50 of day 1 to 00:09 of day 2: one excursion across the two loads.
    write_day(tmp_path, "breakdown", day_1, {"TT-COLD-01": minutes("23:50", "23:59", 6.0)}, continues=None)
    load(tmp_path, ["breakdown"], settings=settings)
    dbt(*build)
    write_day(
        tmp_path,
        "breakdown",
        day_2,
        {"TT-COLD-01": minutes("00:00", "00:09", 6.5), "TT-PAST-01": minutes("08:00", "08:02", 71.0)},
        continues="2025-03-01_2025-03-01",
    )

    gate = connect(settings)
    try:
        with gate.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(%s, %s)", GATE_KEY)
        env = {**os.environ, **settings.as_env(), "DBT_TARGET_PATH": str(target)}
        env.pop("DATABASE_URL", None)
        running = subprocess.Popen(
            [
                DBT_EXECUTABLE,
                *build,
                "--threads",
                "1",
                "--profiles-dir",
                str(PROJECT_ROOT),
                "--project-dir",
                str(project),
            ],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_gate(settings, running)
            # Day 2 is appended while int_sensor_days_aggregated holds day 1 only.
            load(tmp_path, ["breakdown"], settings=settings)
        finally:
            gate.close()  # opens the gate
            output = running.communicate(timeout=600)[0]
    finally:
        gate.close()

    assert running.returncode == 1, output[-4000:]
    message = " ".join(output.split())
    assert "fct_iot_excursions not built: `queijaria load` changed the raw data (scenario breakdown, at " in message, (
        output[-4000:]
    )
    assert "Run `dbt build` again: it builds every model from the loaded data." in message
    # Nothing of day 2 reached the models that ran after the load.
    assert query(settings, "select max(reading_date) from marts.fct_sensor_daily where scenario_id = 'breakdown'") == [
        (day_1,)
    ]

    dbt(*build)
    incremental = mart_rows(settings, "breakdown")
    assert excursions(settings, "breakdown", "TT-COLD-01") == [
        (datetime(2025, 3, 1, 23, 50), datetime(2025, 3, 2, 0, 9), datetime(2025, 3, 2, 0, 10), False, 20, 20)
    ]
    dbt(*build, "--full-refresh")
    assert mart_rows(settings, "breakdown") == incremental
