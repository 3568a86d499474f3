"""Laboratory results and rejections of each finished order, driven by the milk and by what the sensors saw.

Poor milk (high CBT) raises coliforms and blowing; process excursions during the run widen the spread of the
results; cold and ripening rooms out of spec in the 48 h after the run cause rind defects and spoilage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generators.clock import MINUTES_PER_DAY
from generators.execution import InputQuality
from generators.iot import OutOfSpecIndex
from generators.orders import Order, Rejection
from generators.randomness import stream
from generators.reference import Reference, Sensor

ROOM_TYPES = ("cold_room", "ripening_room")
ROOM_WATCH_MIN = 48 * 60


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
        for line_id in reference.lines:
            on_line = [sensor for sensor in reference.sensors if equipment[sensor.equipment_id].line_id == line_id]
            rooms = [s for s in on_line if equipment[s.equipment_id].equipment_type in ROOM_TYPES]
            self.process_sensors[line_id] = [s for s in on_line if s not in rooms]
            # A line without a room of its own ships through the shared (dispatch) cold room.
            self.room_sensors[line_id] = rooms or shared_rooms

    def examine(
        self, order: Order, inputs: InputQuality, excursions: OutOfSpecIndex
    ) -> tuple[list[Sample], list[Rejection]]:
        assert order.actual_start is not None and order.actual_end is not None and order.produced_kg is not None
        product = self.reference.products[order.product_id]
        start, end = order.actual_start, order.actual_end
        process_out = sum(excursions.minutes_out(s.sensor_id, start, end) for s in self.process_sensors[order.line_id])
        room_hot = room_dry = room_humid = 0.0
        for sensor in self.room_sensors[order.line_id]:
            if sensor.measure == "temperature":
                room_hot += excursions.minutes_out(sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=True)
            elif sensor.measure == "humidity":
                room_dry += excursions.minutes_out(sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=False)
                room_humid += excursions.minutes_out(sensor.sensor_id, end, end + ROOM_WATCH_MIN, high_only=True)
        cbt = inputs.cbt if inputs.cbt is not None else 100.0
        poor_milk = min(max((cbt - 200.0) / 400.0, 0.0), 1.0)
        spread = 1.0 + min(process_out / 60.0, 2.0)

        rng = stream(self.seed, "quality", order.order_id)
        sampled_at = end + int(rng.integers(30, 240))
        samples = []
        failed: set[str] = set()
        for test in self.reference.quality_tests[order.product_id]:
            center, width = (test.spec_min + test.spec_max) / 2, test.spec_max - test.spec_min
            if test.test_id == "coliforms":
                median = max(test.spec_max, 10.0) * 0.08 * math.exp(2.4 * poor_milk + 0.5 * min(process_out / 60, 3))
                value = round(float(rng.lognormal(math.log(median), 0.9)), 0)
            else:
                shift = 0.0
                if test.test_id == "fat" and inputs.fat_pct is not None:
                    shift = (inputs.fat_pct - 3.6) * 2.0
                value = round(float(rng.normal(center + shift, width / 6.5 * spread)), 2)
            passed = test.spec_min <= value <= test.spec_max
            if not passed:
                failed.add(test.test_id)
            samples.append(
                Sample(
                    f"QS-{order.order_id[3:]}-{test.test_id}", order.order_id, test.test_id, sampled_at, value, passed
                )
            )

        ripened = product.ripening_days >= 5
        probabilities = {
            "early_blowing": 0.012
            + 0.10 * poor_milk
            + (0.5 if "coliforms" in failed else 0.0)
            + (0.0 if ripened else 0.004 * room_hot),
            "late_blowing": (0.02 + 0.06 * poor_milk) if product.ripening_days >= 25 else 0.0,
            "mechanical_openings": 0.015,
            "cracks": (0.012 + (0.5 if "ph" in failed else 0.0)) if order.line_id == "MUS" else 0.0,
            "cracked_rind": (0.01 + 0.003 * room_dry) if ripened else 0.0,
            "mould_sticky_rind": (0.01 + 0.003 * (room_humid + room_hot)) if ripened else 0.0,
            "moisture_out_of_spec": 0.7 if "moisture" in failed else 0.0,
            "packaging_defect": 0.012,
        }
        rejections = []
        left = order.produced_kg
        for cause_id, probability in probabilities.items():
            draw, share, delay = rng.random(), rng.beta(2.0, 14.0), int(rng.integers(60, 600))
            if draw >= min(probability, 0.9) or left <= 0:
                continue
            kg = round(min(order.produced_kg * share, left), 2)
            if kg <= 0:
                continue
            left -= kg
            detected = end + self.reference.rejection_detection_days[cause_id] * MINUTES_PER_DAY + delay
            rejections.append(Rejection(detected, kg, cause_id))
        return samples, rejections
