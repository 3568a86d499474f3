"""Stock lots and the plant's own inventory: milk receptions, purchases with a reorder policy, whey, FEFO issues,
and the stock movements that close every lot's balance (spot sales and discards).

This inventory drives ACTUAL consumption (what the vat really got). The reservation model downstream reserves
from the same lots with the same eligibility rule; it is a separate (planned) view and is not simulated here.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, replace
from typing import Protocol

import numpy as np
from faker import Faker

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.reference import Material, Reference

MILK_SHELF_LIFE_MIN = parameters.MILK_LIFE_H * 60


def _season_curve() -> np.ndarray:
    """Supply relative to the peak for each day of the year (index 1-366), interpolated between mid-month values."""
    months = np.array(parameters.MILK_SUPPLY_BY_MONTH)
    mids = (np.arange(12) + 0.5) * 365.25 / 12
    # Wrap December before January and January after December, so the year has no seam.
    x = np.concatenate(([mids[-1] - 365.25], mids, [mids[0] + 365.25]))
    y = np.concatenate(([months[-1]], months, [months[0]]))
    return np.interp(np.arange(367) - 0.5, x, y)


_SUPPLY_VS_PEAK = _season_curve()
_MEAN_SUPPLY_VS_PEAK = float(_SUPPLY_VS_PEAK[1:366].mean())
# 0 at the rainy-season peak, 1 at the dry-season trough.
_DRYNESS = (1.0 - _SUPPLY_VS_PEAK) / (1.0 - float(_SUPPLY_VS_PEAK[1:366].min()))
_MEAN_DRYNESS = float(_DRYNESS[1:366].mean())


def milk_season(day: int) -> tuple[float, float]:
    """(supply relative to the year's average, dryness 0 at the peak to 1 at the trough) of a simulated day."""
    day_of_year = date_of_day(day).timetuple().tm_yday
    return float(_SUPPLY_VS_PEAK[day_of_year]) / _MEAN_SUPPLY_VS_PEAK, float(_DRYNESS[day_of_year])


@dataclass
class Lot:
    lot_id: str
    material_id: str
    supplier_name: str | None
    source_order_id: str | None
    received_at: int
    # Minute the lot expires (usable up to it): milk 48 h after reception, others at midnight after shelf life.
    expires_at: int
    quantity: float
    unit: str
    qc_status: str
    unit_cost_brl: float
    fat_pct: float | None = None
    protein_pct: float | None = None
    cbt: float | None = None
    ccs: float | None = None
    remaining: float = 0.0
    # Stock movements recorded out of the lot so far (each gets its own id).
    movements: int = 0
    # The ERP documents a lot came against: a purchase order, or the collection route that brought the milk.
    purchase_order_id: str | None = None
    route_id: str | None = None

    def usable(self, minute: int) -> bool:
        return (
            self.qc_status == "released"
            and self.received_at <= minute
            and self.expires_at >= minute
            and self.remaining >= 0.001
        )

    def to_state(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class PurchaseOrder:
    material_id: str
    # Minute the supplier delivers: the order's due time, which suppliers keep in this plant.
    arrives_at: int
    quantity: float
    sequence: int
    # Minute the order was placed (the daily reorder review).
    ordered_at: int

    @property
    def purchase_order_id(self) -> str:
        return f"PUR-{self.material_id}-{self.sequence:04d}"


def whole_thousandths(quantity: float) -> float:
    """A quantity leaving a lot, rounded down to a thousandth of its unit: the CSVs write three decimals, and their
    rounded figures must never add up to more than the lot received."""
    return max(math.floor(quantity * 1000 + 1e-6) / 1000, 0.0)


def _fefo_key(lot: Lot) -> tuple[int, int, str]:
    return (lot.expires_at, lot.received_at, lot.lot_id)


class Inventory:
    def __init__(self) -> None:
        self.lots: dict[str, list[Lot]] = {}

    def add(self, lot: Lot) -> None:
        # FEFO order: expiry, then reception, then lot id.
        bisect.insort(self.lots.setdefault(lot.material_id, []), lot, key=_fefo_key)

    def available(self, material_id: str, minute: int) -> float:
        return sum(lot.remaining for lot in self.lots.get(material_id, ()) if lot.usable(minute))

    def take(self, lot: Lot, quantity: float) -> float:
        """Take up to quantity from the lot, in whole thousandths; returns what was taken."""
        amount = whole_thousandths(min(lot.remaining, quantity))
        lot.remaining -= amount
        return amount

    def drop_dead_lots(self, day: int) -> None:
        """Forget lots that are empty or expired before `day`; they can never be issued again."""
        for material_id, lots in self.lots.items():
            self.lots[material_id] = [
                lot for lot in lots if lot.remaining > 1e-9 and lot.expires_at >= day * MINUTES_PER_DAY
            ]

    def all_lots(self) -> list[Lot]:
        return [lot for lots in self.lots.values() for lot in lots]


@dataclass(frozen=True)
class Farm:
    code: str
    name: str
    daily_litres: float
    fat_pct: float
    protein_pct: float
    cbt_median: float
    ccs_median: float
    arrival_hour: float


def make_farms(seed: int, average_daily_litres: float, scale: float) -> list[Farm]:
    """The farms are fixed by the seed alone, so every scenario and batch sees the same suppliers."""
    count = max(1, round(parameters.FARM_COUNT * scale))
    rng = stream(seed, "farms")
    faker = Faker("pt_BR")
    faker.seed_instance(seed)
    sizes = rng.lognormal(0.0, 0.45, size=count)
    sizes = sizes / sizes.sum() * average_daily_litres
    farms = []
    used_names: set[str] = set()
    for index in range(count):
        name = f"Fazenda {faker.last_name()}"
        while name in used_names:
            name = f"Fazenda {faker.last_name()} {faker.last_name()}"
        used_names.add(name)
        farms.append(
            Farm(
                code=f"F{index + 1:02d}",
                name=name,
                daily_litres=float(sizes[index]),
                fat_pct=float(rng.normal(parameters.REFERENCE_FAT_PCT, 0.15)),
                protein_pct=float(rng.normal(parameters.REFERENCE_PROTEIN_PCT, 0.10)),
                cbt_median=float(rng.lognormal(math.log(parameters.MILK_CBT_FARM_MEDIAN_THOUSAND), 0.4)),
                ccs_median=float(rng.lognormal(math.log(320), 0.3)),
                arrival_hour=float(rng.uniform(5.0, 10.5)),
            )
        )
    # The reference milk is the plant's supply on average: the panel's solids, weighted by volume, are the reference
    # (a seed draws its farms around it, and does not make the whole supply richer or poorer than the recipes).
    fat_shift = parameters.REFERENCE_FAT_PCT - float(np.average([farm.fat_pct for farm in farms], weights=sizes))
    protein_shift = parameters.REFERENCE_PROTEIN_PCT - float(
        np.average([farm.protein_pct for farm in farms], weights=sizes)
    )
    # Likewise its hygiene: the panel's bacterial counts, weighted by volume (geometric mean), are the reference count.
    cbt_factor = parameters.MILK_CBT_FARM_MEDIAN_THOUSAND / math.exp(
        float(np.average([math.log(farm.cbt_median) for farm in farms], weights=sizes))
    )
    return [
        replace(
            farm,
            fat_pct=farm.fat_pct + fat_shift,
            protein_pct=farm.protein_pct + protein_shift,
            cbt_median=farm.cbt_median * cbt_factor,
        )
        for farm in farms
    ]


@dataclass(frozen=True)
class MilkRoute:
    """A collection truck's daily round: farms with neighbouring arrival times, in one route."""

    route_id: str
    farms: tuple[Farm, ...]

    @property
    def expected_minute_of_day(self) -> int:
        """The planned arrival of the route's last farm: by then the whole route's milk is expected in."""
        return math.floor(max(farm.arrival_hour for farm in self.farms) * 60)


def milk_routes(farms: list[Farm]) -> list[MilkRoute]:
    """The farms in MILK_ROUTE_COUNT routes of near-equal size, by arrival time (fixed by the farms alone)."""
    by_arrival = sorted(farms, key=lambda farm: (farm.arrival_hour, farm.code))
    count = min(parameters.MILK_ROUTE_COUNT, len(by_arrival))
    return [
        MilkRoute(
            f"R{index + 1}",
            tuple(by_arrival[index * len(by_arrival) // count : (index + 1) * len(by_arrival) // count]),
        )
        for index in range(count)
    ]


@dataclass(frozen=True)
class PlannedCollection:
    """One route's line of the milk collection plan: what the cooperative expects it to bring on a day."""

    route_id: str
    day: int
    planned_at: int
    expected_at: int
    planned_l: float
    farm_count: int


def milk_collection_plan(routes: list[MilkRoute], day: int, supply_factor: float) -> list[PlannedCollection]:
    """The plan issued the afternoon before: each route's contracted volume for the season and the known supply
    conditions (the scenario's supply factor), without the day's variation, heat stress or refusals."""
    seasonal, _ = milk_season(day)
    day_start = day * MINUTES_PER_DAY
    return [
        PlannedCollection(
            route.route_id,
            day,
            day_start - MINUTES_PER_DAY + parameters.MILK_PLAN_HOUR * 60,
            day_start + route.expected_minute_of_day,
            float(sum(round(farm.daily_litres * seasonal * supply_factor, 0) for farm in route.farms)),
            len(route.farms),
        )
        for route in routes
    ]


def milk_receptions(seed: int, farms: list[Farm], day: int, supply_factor: float, heat_degc: float = 0.0) -> list[Lot]:
    """The day's deliveries, one per farm: seasonal volume and solids, and heat-stressed herds on hot days.

    heat_degc is how far the outdoor mean sat above the herds' comfort threshold (weather.herd_heat_excess): less
    milk and a higher bacterial count. A delivery above the CBT limit, or failing the reception test, is refused.
    """
    rng = stream(seed, "milk", day)
    count = len(farms)
    noise = rng.normal(1.0, parameters.MILK_DAILY_NOISE_SD, size=count)
    arrival_jitter = rng.normal(0.0, 0.4, size=count)
    fat = rng.normal(0.0, 0.10, size=count)
    protein = rng.normal(0.0, 0.06, size=count)
    cbt = rng.lognormal(0.0, 0.45, size=count)
    ccs = rng.lognormal(0.0, 0.25, size=count)
    failed_test = rng.random(size=count) < parameters.MILK_REJECTION_PROBABILITY
    price = rng.normal(0.0, 0.03)
    seasonal, dryness = milk_season(day)
    heat_loss = min(parameters.HERD_MILK_LOSS_PER_DEGC * heat_degc, parameters.HERD_MILK_MAX_LOSS)
    cbt_growth = math.exp(parameters.HERD_CBT_GROWTH_PER_DEGC * heat_degc)
    fat_offset = parameters.MILK_DRY_SEASON_FAT_GAIN_PP * (dryness - _MEAN_DRYNESS)
    protein_offset = parameters.MILK_DRY_SEASON_PROTEIN_GAIN_PP * (dryness - _MEAN_DRYNESS)
    stamp = date_of_day(day).strftime("%Y%m%d")
    route_of = {farm.code: route.route_id for route in milk_routes(farms) for farm in route.farms}
    lots = []
    for index, farm in enumerate(farms):
        litres = round(max(farm.daily_litres * seasonal * supply_factor * (1 - heat_loss) * noise[index], 200.0), 0)
        count_cbt = round(farm.cbt_median * cbt[index] * cbt_growth, 0)
        refused = failed_test[index] or count_cbt > parameters.MILK_CBT_LIMIT_THOUSAND_CFU_PER_ML
        received_at = day * MINUTES_PER_DAY + round((farm.arrival_hour + arrival_jitter[index]) * 60)
        lot = Lot(
            lot_id=f"LOT-MILK-{stamp}-{farm.code}",
            material_id="MILK",
            supplier_name=farm.name,
            source_order_id=None,
            received_at=received_at,
            # The 48 h rule: raw milk must be processed within 48 h of its reception.
            expires_at=received_at + MILK_SHELF_LIFE_MIN,
            quantity=litres,
            unit="L",
            qc_status="rejected" if refused else "released",
            unit_cost_brl=round(2.45 + price, 4),
            fat_pct=round(farm.fat_pct + fat_offset + fat[index], 2),
            protein_pct=round(farm.protein_pct + protein_offset + protein[index], 2),
            cbt=count_cbt,
            ccs=round(farm.ccs_median * ccs[index], 0),
            route_id=route_of[farm.code],
        )
        lot.remaining = litres if lot.qc_status == "released" else 0.0
        lots.append(lot)
    return lots


class StockKeeper(Protocol):
    """What the stock movements ask of the ERP (generators/erp.py): what nobody holds, and that stock left."""

    def free(self, lot: Lot, minute: int) -> float: ...

    def take(self, lot: Lot, quantity: float, minute: int) -> None: ...

    def advance(self, minute: int) -> None: ...


@dataclass
class Movement:
    """Stock leaving a lot other than into production: a spot sale or a discard (DOMAIN.md §2, mass balance)."""

    movement_id: str
    lot_id: str
    material_id: str
    movement_type: str  # 'spot_sale' | 'discard'
    moved_at: int
    quantity: float
    unit_price_brl: float | None


class Disposals:
    """Every quantity that enters a lot and is not consumed leaves it through one movement, so each lot balances:
    quantity = consumed + sold + discarded + on hand.

    - a lot refused at reception (qc_status 'rejected') is discarded whole at its reception: returned to the farm
      or supplier, it never enters usable stock;
    - raw milk: the daily review (MILK_REVIEW_HOUR) sells spot, or discards when no buyer is found, what is left of
      every lot whose 48 h run out before the next review: always before the 48 h mark, so no milk is used later;
    - any other lot: what is left when its expiry day ends is discarded (23:59 of that day), except whey, sold for
      animal feed then.
    The review sells or discards only what no order holds (DOMAIN.md §3); milk held for an order that then did not
    start before the 48 h mark is discarded at that mark, a second movement of the lot. A lot that expires before
    the end of its day is written off at its expiry, when the ERP reaches it (write_off_at_expiry), so that the
    movement comes before the expiry as the ERP applies them.
    """

    def __init__(self, seed: int, erp: StockKeeper) -> None:
        self.seed = seed
        self.erp = erp
        self.movements: list[Movement] = []

    @staticmethod
    def _next_movement_id(lot: Lot) -> str:
        number = lot.movements + 1
        return f"MOV-{lot.lot_id.removeprefix('LOT-')}{'' if number == 1 else f'-{number}'}"

    def _record(self, lot: Lot, movement_type: str, moved_at: int, quantity: float, price: float | None) -> None:
        movement_id = self._next_movement_id(lot)
        lot.movements += 1
        self.movements.append(
            Movement(
                movement_id,
                lot.lot_id,
                lot.material_id,
                movement_type,
                moved_at,
                round(quantity, 3),
                price,
            )
        )

    def refused(self, lot: Lot) -> None:
        if lot.qc_status == "rejected":
            self._record(lot, "discard", lot.received_at, lot.quantity, None)

    def _move_out(self, lot: Lot, movement_type: str, minute: int, price: float | None, *, whole: bool = False) -> None:
        """Sell or discard what of the lot nobody holds (DOMAIN.md §3: reserved stock is not sold nor discarded),
        or the whole lot at the end of its life."""
        quantity = lot.remaining if whole else whole_thousandths(self.erp.free(lot, minute))
        if quantity <= 1e-9:
            return
        self._record(lot, movement_type, minute, quantity, price)
        lot.remaining -= quantity
        self.erp.take(lot, quantity, minute)

    def review_milk(self, inventory: Inventory, day: int) -> None:
        review = day * MINUTES_PER_DAY + parameters.MILK_REVIEW_HOUR * 60
        next_review = review + MINUTES_PER_DAY
        # In the order the ERP applies the movements of one instant (their ids), as for the write-offs below.
        for lot in sorted(inventory.lots.get("MILK", ()), key=self._next_movement_id):
            if lot.remaining <= 1e-9 or lot.qc_status != "released" or lot.received_at > review:
                continue
            if lot.expires_at > next_review:
                continue
            rng = stream(self.seed, "spot", lot.lot_id)
            sold, noise = rng.random() < parameters.MILK_SPOT_SALE_PROBABILITY, rng.normal(1.0, 0.03)
            if sold:
                _, dryness = milk_season(day)
                share = parameters.MILK_SPOT_PRICE_SHARE * (1 + parameters.MILK_SPOT_PRICE_DRY_SEASON_GAIN * dryness)
                self._move_out(lot, "spot_sale", review, round(lot.unit_cost_brl * share * noise, 3))
            else:
                self._move_out(lot, "discard", review, None)

    def write_off_at_expiry(self, inventory: Inventory, lot_id: str, material_id: str, minute: int) -> None:
        """What is left in a lot at its expiry, written off then (SimulatedErp.before_expiry)."""
        lot = next((lot for lot in inventory.lots.get(material_id, ()) if lot.lot_id == lot_id), None)
        if lot is not None and lot.remaining > 1e-9:
            self._write_off(lot, minute)

    def _write_off(self, lot: Lot, moved_at: int) -> None:
        if lot.material_id == "WHEY":
            # Whey the ricota line did not take goes to pig farms: never poured away.
            self._move_out(lot, "spot_sale", moved_at, parameters.WHEY_SALE_PRICE_BRL_PER_L, whole=True)
        else:
            self._move_out(lot, "discard", moved_at, None, whole=True)

    def write_off_expired(self, inventory: Inventory, day: int) -> None:
        next_midnight = (day + 1) * MINUTES_PER_DAY
        end_of_day = next_midnight - 1
        ending = [
            lot
            for lots in inventory.lots.values()
            for lot in lots
            if lot.remaining > 1e-9 and lot.expires_at <= next_midnight and lot.qc_status == "released"
        ]
        # At the end of its last day, or for milk at its 48 h mark (held for an order that did not start). A lot
        # written off may still hold reservations, which it displaces, and their orders reserve again at once,
        # possibly from another lot written off the same minute: the floor moves the lots in the order the ERP
        # applies them (int_reservation_events_sequenced: by time, a write-off before an expiry of the same instant,
        # then by movement id), or the two would differ. Each movement brings the ERP up to its own instant.
        for moved_at, _, lot in sorted(
            (min(lot.expires_at, end_of_day), self._next_movement_id(lot), lot) for lot in ending
        ):
            self._write_off(lot, moved_at)
        self.erp.advance(next_midnight)


def supplier_names(seed: int, reference: Reference) -> dict[str, str]:
    """One supplier per purchased material, named by Faker from the seed."""
    faker = Faker("pt_BR")
    faker.seed_instance(seed + 1)
    by_category: dict[str, str] = {}
    names = {}
    for material in reference.materials.values():
        if material.is_internal or material.material_id == "MILK":
            continue
        if material.category not in by_category:
            by_category[material.category] = faker.company()
        names[material.material_id] = by_category[material.category]
    return names


def purchase_lot(seed: int, material: Material, purchase: PurchaseOrder, supplier: str, lot_id_suffix: str) -> Lot:
    rng = stream(seed, "purchase-lot", material.material_id, purchase.sequence)
    day = purchase.arrives_at // MINUTES_PER_DAY
    rejected = rng.random() < 0.005
    lot = Lot(
        lot_id=f"LOT-{material.material_id}-{date_of_day(day).strftime('%Y%m%d')}-{lot_id_suffix}",
        material_id=material.material_id,
        supplier_name=supplier,
        source_order_id=None,
        received_at=purchase.arrives_at,
        expires_at=(day + material.shelf_life_days + 1) * MINUTES_PER_DAY,
        quantity=purchase.quantity,
        unit=material.unit,
        qc_status="rejected" if rejected else "released",
        unit_cost_brl=round(material.unit_cost_brl * float(rng.normal(1.0, 0.02)), 4),
        purchase_order_id=purchase.purchase_order_id,
    )
    lot.remaining = purchase.quantity if lot.qc_status == "released" else 0.0
    return lot


def round_purchase(quantity: float, unit: str) -> float:
    """Suppliers sell in whole packs: round up to a sensible unit of the material."""
    step = {"un": 500.0, "mL": 1000.0, "g": 100.0, "kg": 25.0, "L": 100.0}.get(unit, 1.0)
    return max(step, math.ceil(quantity / step) * step)
