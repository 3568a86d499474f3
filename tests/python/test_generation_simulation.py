"""The plant simulation: contract, determinism, continuation, coherence and scenario effects of the generated CSVs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from generators.reference import SEEDS_DIR
from queijaria.datasets import BY_NAME, DATASETS
from queijaria.generate import generate

SCENARIOS = ("baseline", "milk_shortage", "heatwave", "breakdown", "demand_peak")
# Long enough for every scenario window of seeds/scenarios.csv (day offsets 30-55) and the December peak.
DAYS = 56
START = "2025-11-01"

cli = typer.Typer()
cli.command()(generate)
runner = CliRunner()


def run_generate(*args: str) -> None:
    result = runner.invoke(cli, ["--quiet", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def batches(root: Path, scenario: str) -> list[Path]:
    return sorted(path for path in (root / scenario).iterdir() if (path / "manifest.json").is_file())


def read(root: Path, scenario: str, dataset: str) -> pd.DataFrame:
    frames = [pd.read_csv(batch / f"{dataset}.csv", keep_default_na=True) for batch in batches(root, scenario)]
    return pd.concat(frames, ignore_index=True)


def seed_table(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS_DIR / f"{name}.csv")


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plant")
    run_generate("--out", str(root), "--start-date", START, "--days", str(DAYS), "--iot-interval", "10")
    return root


@pytest.fixture(scope="module")
def loader(plant: Path) -> Callable[[str, str], pd.DataFrame]:
    cache: dict[tuple[str, str], pd.DataFrame] = {}

    def load(scenario: str, dataset: str) -> pd.DataFrame:
        if (scenario, dataset) not in cache:
            cache[(scenario, dataset)] = read(plant, scenario, dataset)
        return cache[(scenario, dataset)]

    return load


# --- contract -------------------------------------------------------------------------------------------------


def test_every_dataset_matches_the_contract(plant: Path) -> None:
    for scenario in SCENARIOS:
        (batch,) = batches(plant, scenario)
        assert batch.name == "2025-11-01_2025-12-26"
        manifest = json.loads((batch / "manifest.json").read_text())
        assert manifest["scenario_id"] == scenario and manifest["continues"] is None
        assert set(manifest["datasets"]) == {dataset.name for dataset in DATASETS}
        for dataset in DATASETS:
            path = batch / f"{dataset.name}.csv"
            entry = manifest["datasets"][dataset.name]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert path.stat().st_size == entry["bytes"]
            frame = pd.read_csv(path)
            assert list(frame.columns) == dataset.column_names
            assert len(frame) == entry["rows"] > 0, dataset.name
            assert (frame["scenario_id"] == scenario).all()
            assert not frame.duplicated(list(dataset.primary_key)).any(), dataset.name
            for column in dataset.columns:
                if not column.nullable:
                    assert frame[column.name].notna().all(), f"{dataset.name}.{column.name}"
                if column.non_negative:
                    assert (frame[column.name].dropna() >= 0).all(), f"{dataset.name}.{column.name}"
                if column.references is not None:
                    table, key = column.references
                    allowed = set(seed_table(table)[key])
                    assert set(frame[column.name].dropna()) <= allowed, f"{dataset.name}.{column.name}"
            for column, accepted in dataset.accepted_values.items():
                assert set(frame[column].dropna()) <= set(accepted), f"{dataset.name}.{column}"
            event_time = pd.to_datetime(frame[dataset.event_time_column])
            if dataset.name != "production_orders":
                assert event_time.min() >= pd.Timestamp("2025-11-01")
            assert event_time.max() < pd.Timestamp("2025-12-27")


def test_csv_format(plant: Path) -> None:
    batch = batches(plant, "baseline")[0]
    orders = (batch / "production_orders.csv").read_text().splitlines()
    assert orders[1].count(",") == len(BY_NAME["production_orders"].columns) - 1
    samples = pd.read_csv(batch / "quality_samples.csv", dtype=str)
    assert set(samples["is_pass"]) <= {"true", "false"}
    lots = pd.read_csv(batch / "stock_lots.csv", dtype=str)
    assert lots["received_at"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert lots["expires_at"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()


# --- coherence ------------------------------------------------------------------------------------------------


def _windows(line_id: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    patterns = seed_table("line_shift_patterns")
    shifts = seed_table("shifts").set_index("shift_id")
    holidays = set(pd.to_datetime(seed_table("holidays")["holiday_date"]))
    windows = []
    for day in pd.date_range("2025-10-29", "2026-03-31"):
        if day in holidays:
            continue
        rows = patterns[(patterns.line_id == line_id) & (patterns.iso_weekday == day.isoweekday())]
        for row in rows.itertuples():
            if row.planned_min > 0:
                start = day + pd.Timedelta(shifts.loc[row.shift_id, "start_time"] + ":00")
                windows.append((start, start + pd.Timedelta(minutes=row.planned_min)))
    return windows


def test_orders_fit_the_capacity_calendar(loader: Callable[[str, str], pd.DataFrame]) -> None:
    orders = loader("baseline", "production_orders")
    products = seed_table("products").set_index("product_id")
    assert 5000 / 365 * DAYS * 0.8 <= len(orders) <= 10000 / 365 * DAYS
    start, end = pd.to_datetime(orders.planned_start_at), pd.to_datetime(orders.planned_end_at)
    minutes = (end - start).dt.total_seconds() / 60
    ideal = orders.planned_kg / orders.product_id.map(products.ideal_rate_kg_per_h) * 60
    assert (minutes - ideal).abs().max() <= 1.0
    for line_id, group in orders.groupby("line_id"):
        windows = _windows(str(line_id))
        for a, b in zip(pd.to_datetime(group.planned_start_at), pd.to_datetime(group.planned_end_at), strict=True):
            assert any(ws <= a and b <= we for ws, we in windows), (line_id, a, b)
        ordered = group.sort_values("planned_start_at")
        assert (
            pd.to_datetime(ordered.planned_start_at).iloc[1:].values
            >= pd.to_datetime(ordered.planned_end_at).iloc[:-1].values
        ).all()
    released = orders[orders.released_at.notna()]
    lead_h = (
        pd.to_datetime(released.planned_start_at) - pd.to_datetime(released.released_at)
    ).dt.total_seconds() / 3600
    assert lead_h.between(0, 36.01).all() and lead_h.median() > 12
    assert (pd.to_datetime(released.released_at) > pd.to_datetime(released.created_at)).all()
    assert orders.priority.between(1, 5).all()


def _merged(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Union of the downtime intervals: equipment of one line is often maintained at the same time."""
    merged: list[list[pd.Timestamp]] = []
    for start, end in sorted(zip(pd.to_datetime(events.started_at), pd.to_datetime(events.ended_at), strict=True)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return (
        np.array([item[0] for item in merged], dtype="datetime64[ns]"),
        np.array([item[1] for item in merged], dtype="datetime64[ns]"),
    )


def test_downtime_shows_in_actual_times(loader: Callable[[str, str], pd.DataFrame]) -> None:
    orders = loader("breakdown", "production_orders")
    events = loader("breakdown", "maintenance_events")
    equipment = seed_table("equipment").set_index("equipment_id")
    products = seed_table("products").set_index("product_id")
    events = events.assign(line_id=events.equipment_id.map(equipment.line_id))
    done = orders[orders.status == "completed"]
    for line_id, group in done.groupby("line_id"):
        down_start, down_end = _merged(events[events.line_id == line_id])
        for row in group.itertuples():
            a, b = np.datetime64(pd.Timestamp(row.actual_start_at)), np.datetime64(pd.Timestamp(row.actual_end_at))
            # No order starts during a downtime, and every downtime it overlaps lengthens it.
            assert not ((down_start <= a) & (a < down_end)).any(), row.order_id
            overlap = (np.minimum(b, down_end) - np.maximum(a, down_start)).astype("timedelta64[m]").astype(float)
            run_min = row.produced_kg / products.loc[row.product_id, "ideal_rate_kg_per_h"] * 60
            assert (b - a).astype("timedelta64[m]").astype(float) >= run_min + overlap.clip(min=0).sum() - 1
    stretcher = events[(events.equipment_id == "FIL-01") & (events.maintenance_type == "corrective")]
    longest = (pd.to_datetime(stretcher.ended_at) - pd.to_datetime(stretcher.started_at)).max()
    assert longest >= pd.Timedelta(days=3)
    assert (events[events.maintenance_type == "preventive"].failure_mode_id.isna()).all()


def test_consumption_follows_the_bill_of_materials(loader: Callable[[str, str], pd.DataFrame]) -> None:
    orders = loader("baseline", "production_orders")
    consumptions = loader("baseline", "material_consumptions")
    lots = loader("baseline", "stock_lots")
    recipes = seed_table("recipe_lines")
    done = orders[orders.produced_kg.notna()]
    standard = done.merge(recipes, on="product_id")
    standard["standard"] = standard.produced_kg * standard.quantity_per_kg
    actual = consumptions[consumptions.order_id.isin(done.order_id)].groupby("material_id").quantity.sum()
    ratio = actual / standard.groupby("material_id").standard.sum()
    scrap = recipes.groupby("material_id").scrap_factor.max()
    for material_id, value in ratio.items():
        assert 0.95 <= value <= 1.05 + 2 * scrap[material_id], (material_id, value)
    # Lots are never over-issued, issues come after reception and no later than the lot's expiry instant (raw milk
    # is never used more than 48 h after its reception).
    issued = consumptions.groupby("lot_id").quantity.sum()
    quantity = lots.set_index("lot_id").quantity
    assert (issued <= quantity.reindex(issued.index) + 1e-6).all()
    joined = consumptions.merge(lots, on="lot_id", suffixes=("", "_lot"))
    assert len(joined) == len(consumptions)
    assert (pd.to_datetime(joined.consumed_at) >= pd.to_datetime(joined.received_at)).all()
    assert (pd.to_datetime(joined.consumed_at) <= pd.to_datetime(joined.expires_at)).all()
    assert (joined.qc_status == "released").all()
    # Whey comes from finished cheese orders and feeds ricotta.
    whey = lots[lots.material_id == "WHEY"]
    assert whey.source_order_id.notna().all() and whey.supplier_name.isna().all()
    assert set(joined[joined.material_id == "WHEY"].order_id.str.slice(0, 6)) == {"PO-FRE"}
    milk = lots[lots.material_id == "MILK"]
    per_day = milk.groupby(pd.to_datetime(milk.received_at).dt.date).size()
    assert per_day.between(10, 14).all()
    assert (pd.to_datetime(milk.expires_at) - pd.to_datetime(milk.received_at)).eq(pd.Timedelta(hours=48)).all()
    # Purchased lots and whey expire at midnight after the last day of their shelf life.
    others = lots[lots.material_id != "MILK"]
    assert (pd.to_datetime(others.expires_at) == pd.to_datetime(others.expires_at).dt.normalize()).all()


def test_good_kg_and_rejections_agree(loader: Callable[[str, str], pd.DataFrame]) -> None:
    orders = loader("heatwave", "production_orders")
    rejections = loader("heatwave", "quality_rejections")
    done = orders[orders.status == "completed"].set_index("order_id")
    rejected = rejections.groupby("order_id").rejected_kg.sum().reindex(done.index, fill_value=0.0)
    assert np.allclose(done.produced_kg - rejected, done.good_kg, atol=0.02)
    assert (orders[orders.status != "completed"].good_kg.isna()).all()


# --- scenarios ------------------------------------------------------------------------------------------------


def _excursions(iot: pd.DataFrame) -> int:
    sensors = seed_table("sensors").set_index("sensor_id")
    out = (iot.value < iot.sensor_id.map(sensors.spec_min)) | (iot.value > iot.sensor_id.map(sensors.spec_max))
    starts = out & ~out.groupby(iot.sensor_id).shift(fill_value=False)
    return int(starts.sum())


def _late_share(orders: pd.DataFrame) -> float:
    done = orders[orders.status == "completed"]
    return float((pd.to_datetime(done.actual_end_at).dt.normalize() > pd.to_datetime(done.due_date)).mean())


def test_scenarios_share_their_random_stream(loader: Callable[[str, str], pd.DataFrame]) -> None:
    base_milk = loader("baseline", "stock_lots").query("material_id == 'MILK'")
    short_milk = loader("milk_shortage", "stock_lots").query("material_id == 'MILK'")
    before = pd.to_datetime(base_milk.received_at) < pd.Timestamp("2025-12-01")
    assert (
        base_milk[before]
        .drop(columns="scenario_id")
        .reset_index(drop=True)
        .equals(
            short_milk[pd.to_datetime(short_milk.received_at) < pd.Timestamp("2025-12-01")]
            .drop(columns="scenario_id")
            .reset_index(drop=True)
        )
    )
    process = ["TT-PAST-01", "PH-VAT-MUS-01", "TT-FIL-01"]
    base_iot = loader("baseline", "iot_readings")
    hot_iot = loader("heatwave", "iot_readings")
    base_iot, hot_iot = base_iot[base_iot.sensor_id.isin(process)], hot_iot[hot_iot.sensor_id.isin(process)]
    assert np.array_equal(base_iot.value.to_numpy(), hot_iot.value.to_numpy())


def test_scenario_effects(loader: Callable[[str, str], pd.DataFrame]) -> None:
    def milk_litres(scenario: str) -> float:
        return float(loader(scenario, "stock_lots").query("material_id == 'MILK'").quantity.sum())

    def attainment(scenario: str) -> float:
        orders = loader(scenario, "production_orders")
        due = orders[pd.to_datetime(orders.planned_end_at) < pd.Timestamp("2025-12-22")]
        return float(np.minimum(due.produced_kg.fillna(0), due.planned_kg).sum() / due.planned_kg.sum())

    def rejection_share(scenario: str) -> float:
        produced = loader(scenario, "production_orders").produced_kg.sum()
        return float(loader(scenario, "quality_rejections").rejected_kg.sum() / produced)

    def kwh_per_kg(scenario: str) -> float:
        good = loader(scenario, "production_orders").good_kg.sum()
        return float(loader(scenario, "energy_readings").kwh.sum() / good)

    def mus_kg_in_breakdown_window(scenario: str) -> float:
        orders = loader(scenario, "production_orders")
        ended = pd.to_datetime(orders.actual_end_at)
        window = (orders.line_id == "MUS") & (ended >= "2025-12-11") & (ended < "2025-12-14")
        return float(orders[window].produced_kg.sum())

    assert milk_litres("milk_shortage") < 0.95 * milk_litres("baseline")
    assert attainment("milk_shortage") < attainment("baseline") - 0.01
    assert (loader("milk_shortage", "production_orders").status == "cancelled").sum() > 0

    assert _excursions(loader("heatwave", "iot_readings")) > 1.5 * _excursions(loader("baseline", "iot_readings"))
    assert rejection_share("heatwave") > 1.5 * rejection_share("baseline")
    assert kwh_per_kg("heatwave") > 1.02 * kwh_per_kg("baseline")
    weather = loader("heatwave", "weather_daily").ambient_max_degc
    assert weather.max() > loader("baseline", "weather_daily").ambient_max_degc.max() + 5

    assert mus_kg_in_breakdown_window("breakdown") < 0.5 * mus_kg_in_breakdown_window("baseline")
    mus_late = {
        scenario: _late_share(loader(scenario, "production_orders").query("line_id == 'MUS'"))
        for scenario in ("baseline", "breakdown")
    }
    assert mus_late["breakdown"] > mus_late["baseline"] + 0.03

    peak, base = loader("demand_peak", "production_orders"), loader("baseline", "production_orders")
    assert len(peak) > 1.1 * len(base)
    assert _late_share(peak) > _late_share(base) + 0.05


# --- determinism and continuation -----------------------------------------------------------------------------


def _checksums(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    arguments = ["--days", "6", "--scenario", "breakdown,heatwave", "--iot-interval", "5", "--seed", "7"]
    run_generate("--out", str(tmp_path / "a"), *arguments)
    run_generate("--out", str(tmp_path / "b"), *arguments)
    for scenario in ("breakdown", "heatwave"):
        (first,), (second,) = batches(tmp_path / "a", scenario), batches(tmp_path / "b", scenario)
        assert _checksums(first) == _checksums(second)
    run_generate("--out", str(tmp_path / "c"), *arguments[:-1], "8")
    assert _checksums(batches(tmp_path / "c", "heatwave")[0]) != _checksums(batches(tmp_path / "a", "heatwave")[0])


def test_continuation_carries_the_plant_over(tmp_path: Path) -> None:
    common = ["--scenario", "baseline", "--iot-interval", "15", "--start-date", "2025-11-01"]
    run_generate("--out", str(tmp_path), "--days", "12", *common)
    run_generate("--out", str(tmp_path), "--days", "9", "--continue", *common)
    first, second = batches(tmp_path, "baseline")
    assert (first.name, second.name) == ("2025-11-01_2025-11-12", "2025-11-13_2025-11-21")
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["continues"] == first.name and manifest["first_date"] == "2025-11-13"

    def both(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return pd.read_csv(first / f"{dataset}.csv"), pd.read_csv(second / f"{dataset}.csv")

    orders_1, orders_2 = both("production_orders")
    restated = orders_2[orders_2.order_id.isin(orders_1.order_id)]
    open_before = orders_1[orders_1.status.isin(["planned", "released", "in_progress"])].order_id
    assert len(restated) > 0 and set(restated.order_id) <= set(open_before) | set(
        orders_1[orders_1.status == "completed"].order_id
    )
    assert (pd.to_datetime(orders_2[~orders_2.order_id.isin(orders_1.order_id)].created_at) >= "2025-11-13").all()
    # Open orders of the first batch are executed in the second one.
    assert restated.status.isin(["in_progress", "completed", "released"]).all()
    for dataset in ("stock_lots", "material_consumptions", "maintenance_events", "quality_samples", "iot_readings"):
        one, two = both(dataset)
        key = list(BY_NAME[dataset].primary_key)
        assert not pd.concat([one, two])[key].duplicated().any(), dataset
        assert (pd.to_datetime(two[BY_NAME[dataset].event_time_column]) >= "2025-11-13").all(), dataset
    lots = pd.concat(both("stock_lots"))
    consumptions = pd.concat(both("material_consumptions"))
    assert set(consumptions.lot_id) <= set(lots.lot_id)
    issued = consumptions.groupby("lot_id").quantity.sum()
    assert (issued <= lots.set_index("lot_id").quantity.reindex(issued.index) + 1e-6).all()
    # Stock carried over: the second batch issues from lots the first one received (no opening stock again).
    _, lots_2 = both("stock_lots")
    assert not lots_2.lot_id.str.endswith("-OPEN").any()
    _, consumptions_2 = both("material_consumptions")
    assert consumptions_2.lot_id.isin(both("stock_lots")[0].lot_id).any()
    # Production keeps going at the same pace across the seam.
    _, capacity_2 = both("capacity_calendar")
    assert capacity_2.calendar_date.min() == "2025-11-13"
    assert orders_2[orders_2.status == "completed"].shape[0] > 100


# --- command line ---------------------------------------------------------------------------------------------


def test_help_explains_every_option() -> None:
    result = runner.invoke(cli, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert result.exit_code == 0
    for option in (
        "--seed",
        "--start-date",
        "--days",
        "--scale",
        "--scenario",
        "--iot-interval",
        "--out",
        "--continue",
    ):
        assert option in result.output


@pytest.mark.parametrize(
    "arguments",
    [
        ["--scenario", "volcano"],
        ["--days", "0"],
        ["--start-date", "2025-13-01"],
        ["--iot-interval", "7"],
        ["--scale", "-1"],
        ["--continue"],
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, arguments: list[str]) -> None:
    result = runner.invoke(cli, ["--quiet", "--out", str(tmp_path / "empty"), *arguments])
    assert result.exit_code != 0
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())
