"""Laboratory results and rejections of each finished order, driven by the milk and by what the sensors saw.

The model, per finished order:
- poor milk (the CBT of the milk it consumed above CBT_POOR_FROM, fully poor at CBT_POOR_AT) raises coliforms
  and the probability of early and late blowing (POOR_MILK_GAIN per unit of poorness);
- process excursions during the run (minutes out of spec while the equipment ran, of the line's process sensors
  and, for a cheese made from milk, the shared pasteurizer's) widen the spread of the lab results, raise coliforms,
  and add PROCESS_RISK_GAIN per hour out of spec (capped) to openings, moisture and cracks;
- cold and ripening rooms out of spec in the 48 h after the run cause rind defects and spoilage;
- flow diversion: the pasteurizer below spec (temperature or holding time) for DIVERSION_HOLD_MIN or more while the
  order's vat was filling (its first VAT_FILL_MIN) means the milk reached the vat: the whole batch is held and
  rejected (flow_diversion). A shorter dip was sent back by the diversion valve and re-pasteurized: no rejection.
Each cause is drawn once per order (deterministic stream per order); a drawn cause rejects a beta share of the batch
(parameters.REJECTED_SHARE_BETA): sorting removes the defective units, so most defects take a few per cent of a batch
and a few take most of it; most orders still ship in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generators import parameters
from generators.clock import MINUTES_PER_DAY
from generators.execution import InputQuality
from generators.iot import ALWAYS_ON_TYPES, PASTEURIZED_INPUT, PASTEURIZER_TYPE, OutOfSpecIndex
from generators.orders import Order, Rejection
from generators.randomness import stream
from generators.reference import Reference, Sensor

ROOM_TYPES = ("cold_room", "ripening_room")
ROOM_WATCH_MIN = 48 * 60
DIVERSION_CAUSE = "flow_diversion"


@dataclass
class _Exposure:
    """What an order went through, as the sensors saw it: minutes out of spec."""

    process_out: float
    diverted: bool
    room_hot: float = 0.0
    room_dry: float = 0.0
    room_humid: float = 0.0


@dataclass
class Sample:
    sample_id: str
    order_id: str
    test_id: str
    sampled_at: int
    value: float
    is_pass: bool


class QualityLab:
    def __init__(self, seed: int, reference: Reference) -> None:
        self.seed = seed
        self.reference = reference
        equipment = reference.equipment_by_id()
        self.process_sensors: dict[str, list[Sensor]] = {}
        self.room_sensors: dict[str, list[Sensor]] = {}
        shared_rooms = [
            sensor
            for sensor in reference.sensors
            if equipment[sensor.equipment_id].equipment_type in ROOM_TYPES and equipment[sensor.equipment_id].is_shared
        ]
        self.pasteurizer_sensors = [
            sensor for sensor in reference.sensors if equipment[sensor.equipment_id].equipment_type == PASTEURIZER_TYPE
        ]
        for line_id in reference.lines:
            on_line = [sensor for sensor in reference.sensors if equipment[sensor.equipment_id].line_id == line_id]
            rooms = [s for s in on_line if equipment[s.equipment_id].equipment_type in ROOM_TYPES]
            # The shared pasteurizer serves every line's milk, not only the line it is booked to.
            self.process_sensors[line_id] = [
                s
                for s in on_line
                if s not in rooms
                and equipment[s.equipment_id].equipment_type not in ALWAYS_ON_TYPES
                and s not in self.pasteurizer_sensors
            ]
            # A line without a room of its own ships through the shared (dispatch) cold room.
            self.room_sensors[line_id] = rooms or shared_rooms

    def examine(
        self, order: Order, inputs: InputQuality, excursions: OutOfSpecIndex
    ) -> tuple[list[Sample], list[Rejection]]:
        """The lab's samples of an ended order and the rejections its defects cause, from the milk it used and the
        sensors' excursions during its run and while it lay in the room afterwards."""
        assert order.actual_start is not None and order.actual_end is not None and order.produced_kg is not None
        exposure = self._exposure(order, excursions)
        cbt = inputs.cbt if inputs.cbt is not None else 100.0
        poor_milk = min(
            max((cbt - parameters.CBT_POOR_FROM) / (parameters.CBT_POOR_AT - parameters.CBT_POOR_FROM), 0.0), 1.0
        )
        process_risk = min(exposure.process_out / 60.0, parameters.PROCESS_RISK_CAP_H)
        rng = stream(self.seed, "quality", order.order_id)
        samples = self._samples(order, inputs, rng, poor_milk, process_risk, exposure.process_out)
        failed = {sample.test_id for sample in samples if not sample.is_pass}
        probabilities = self._defect_probabilities(order, exposure, poor_milk, process_risk, failed)
        return samples, self._rejections(order, exposure.diverted, probabilities, rng)

    def _exposure(self, order: Order, excursions: OutOfSpecIndex) -> _Exposure:
        """Minutes the order's process sensors were out of spec, whether the pasteurizer diverted its milk, and the
        minutes its room ran hot, dry or humid after it ended."""
        assert order.actual_start is not None and order.actual_end is not None
        start, end = order.actual_start, order.actual_end
        from_milk = self.reference.products[order.product_id].input_material_id == PASTEURIZED_INPUT
        process = self.process_sensors[order.line_id] + (self.pasteurizer_sensors if from_milk else [])
        fill_end = min(start + parameters.VAT_FILL_MIN, end)
        exposure = _Exposure(
            process_out=sum(excursions.minutes_out(s.sensor_id, start, end) for s in process),
            diverted=from_milk
            and any(
                excursions.minutes_out(s.sensor_id, start, fill_end, high_only=False) >= parameters.DIVERSION_HOLD_MIN
                for s in self.pasteurizer_sensors
            ),
        )
        for sensor in self.room_sensors[order.line_id]:
            if sensor.measure == "temperature":
                exposure.room_hot += excursions.minutes_out(sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=True)
            elif sensor.measure == "humidity":
                exposure.room_dry += excursions.minutes_out(
                    sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=False
                )
                exposure.room_humid += excursions.minutes_out(
                    sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=True
                )
        return exposure

    def _samples(
        self,
        order: Order,
        inputs: InputQuality,
        rng: np.random.Generator,
        poor_milk: float,
        process_risk: float,
        process_out: float,
    ) -> list[Sample]:
        """One sample per test of the product, taken a while after the order ended; a process out of spec widens
        the spread of every assay."""
        assert order.actual_end is not None
        spread = 1.0 + min(process_out / 60.0, 2.0)
        sampled_at = order.actual_end + int(rng.integers(30, 240))
        samples = []
        for test in self.reference.quality_tests[order.product_id]:
            center, width = (test.spec_min + test.spec_max) / 2, test.spec_max - test.spec_min
            if test.test_id == "coliforms":
                median = (
                    max(test.spec_max, 10.0)
                    * parameters.COLIFORM_MEDIAN_SHARE
                    * math.exp(2.4 * poor_milk + 0.5 * process_risk)
                )
                value = round(float(rng.lognormal(math.log(median), 0.9)), 0)
            else:
                shift = 0.0
                if test.test_id == "fat" and inputs.fat_pct is not None:
                    shift = (inputs.fat_pct - 3.6) * 2.0
                # A widened spread can reach below zero on a narrow spec (salt of a fresh cheese); no assay reads that.
                value = max(
                    round(float(rng.normal(center + shift, width / parameters.LAB_SPREAD_DIVISOR * spread)), 2), 0.0
                )
            passed = test.spec_min <= value <= test.spec_max
            samples.append(
                Sample(
                    f"QS-{order.order_id[3:]}-{test.test_id}", order.order_id, test.test_id, sampled_at, value, passed
                )
            )
        return samples

    def _defect_probabilities(
        self, order: Order, exposure: _Exposure, poor_milk: float, process_risk: float, failed: set[str]
    ) -> dict[str, float]:
        """The chance of each rejection cause, from the milk, the process, the room and the failed assays."""
        ripening_days = self.reference.products[order.product_id].ripening_days
        ripened = ripening_days >= 5
        milk_gain, risk_gain = parameters.POOR_MILK_GAIN, parameters.PROCESS_RISK_GAIN
        return {
            "early_blowing": 0.005
            + milk_gain["early_blowing"] * poor_milk
            + (0.25 if "coliforms" in failed else 0.0)
            + (0.0 if ripened else 0.004 * exposure.room_hot),
            "late_blowing": (0.01 + milk_gain["late_blowing"] * poor_milk) if ripening_days >= 25 else 0.0,
            "mechanical_openings": 0.006 + risk_gain["mechanical_openings"] * process_risk,
            "cracks": (0.005 + (0.25 if "ph" in failed else 0.0) + risk_gain["cracks"] * process_risk)
            if order.line_id == "MUS"
            else 0.0,
            "cracked_rind": (0.005 + 0.003 * exposure.room_dry) if ripened else 0.0,
            "mould_sticky_rind": (0.005 + 0.003 * (exposure.room_humid + exposure.room_hot)) if ripened else 0.0,
            "moisture_out_of_spec": (0.35 if "moisture" in failed else 0.0)
            + risk_gain["moisture_out_of_spec"] * process_risk,
            "packaging_defect": 0.006,
        }

    def _rejections(
        self, order: Order, diverted: bool, probabilities: dict[str, float], rng: np.random.Generator
    ) -> list[Rejection]:
        """A diverted batch is held whole at the vat; otherwise each cause may reject a share of what is left."""
        assert order.actual_end is not None and order.produced_kg is not None
        end = order.actual_end
        rejections = []
        left = order.produced_kg
        if diverted and left > 0:
            # Held at the vat: the whole batch, found before it is packed; nothing else is judged on it.
            detected = end + self.reference.rejection_detection_days[DIVERSION_CAUSE] * MINUTES_PER_DAY
            rejections.append(Rejection(detected, round(left, 2), DIVERSION_CAUSE))
            left = 0.0
        for cause_id, probability in probabilities.items():
            draw, share, delay = rng.random(), rng.beta(*parameters.REJECTED_SHARE_BETA), int(rng.integers(60, 600))
            if draw >= min(probability * parameters.DEFECT_RATE_FACTOR, 0.9) or left <= 0:
                continue
            kg = round(min(order.produced_kg * share, left), 2)
            if kg <= 0:
                continue
            left -= kg
            detected = end + self.reference.rejection_detection_days[cause_id] * MINUTES_PER_DAY + delay
            rejections.append(Rejection(detected, kg, cause_id))
        return rejections
