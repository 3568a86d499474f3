"""A dip of the pasteurizer while a vat fills (DOMAIN.md §2, quality): milk sent back by the diversion valve is
pasteurized again and the batch takes longer; a dip long enough to reach the vat costs no time, the lab holds the
batch instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from generators import iot
from generators.batch_spec import BatchSpec
from generators.clock import day_number
from generators.engine import simulate_batch
from generators.reference import load_reference


def _first_milk_batch(out: Path, monkeypatch: pytest.MonkeyPatch, dip_min: float) -> pd.Series:
    monkeypatch.setattr(iot.LiveExcursions, "minutes_below_while_serving", lambda *_: dip_min)
    reference = load_reference()
    spec = BatchSpec("baseline", 42, day_number(dt.date(2025, 3, 3)), 5, 1.0, 60, out)
    simulate_batch(reference, spec, None)
    (folder,) = (out / "baseline").iterdir()
    orders = pd.read_csv(folder / "production_orders.csv").dropna(subset=["actual_start_at"])
    milk = [p.product_id for p in reference.products.values() if p.input_material_id == "MILK"]
    first = orders[orders.product_id.isin(milk)].sort_values(["actual_start_at", "order_id"]).iloc[0]
    return first


def test_a_short_dip_is_pasteurized_again_and_costs_its_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = _first_milk_batch(tmp_path / "clean", monkeypatch, 0.0)
    dipped = _first_milk_batch(tmp_path / "dipped", monkeypatch, 7.0)
    held = _first_milk_batch(tmp_path / "held", monkeypatch, 12.0)
    assert dipped.order_id == clean.order_id == held.order_id
    assert dipped.actual_start_at == clean.actual_start_at
    lost = pd.Timestamp(dipped.actual_end_at) - pd.Timestamp(clean.actual_end_at)
    assert lost == pd.Timedelta(minutes=7)
    # 12 minutes below spec reached the vat: no time is spent re-pasteurizing (the lab rejects the batch).
    assert held.actual_end_at == clean.actual_end_at
