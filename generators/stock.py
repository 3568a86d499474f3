"""Stock lots and the plant's own inventory: milk receptions, purchases with a reorder policy, whey, FEFO issues.

This inventory drives ACTUAL consumption (what the vat really got). The reservation model downstream reserves
from the same lots with the same eligibility rule; it is a separate (planned) view and is not simulated here.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass

from faker import Faker

from generators import parameters
from generators.clock import MINUTES_PER_DAY, date_of_day
from generators.randomness import stream
from generators.reference import Material, Reference


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
    arrives_at: int
    quantity: float
    sequence: int


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

    def issue(self, material_id: str, minute: int, quantity: float) -> list[tuple[Lot, float]]:
        """Take up to quantity FEFO from the usable lots; returns what came from which lot."""
        taken: list[tuple[Lot, float]] = []
        wanted = quantity
        for lot in self.lots.get(material_id, ()):
            if wanted <= 1e-9:
                break
            if not lot.usable(minute):
                continue
            # Issued in whole thousandths, so the CSV's rounded issues never add up to more than the lot.
            amount = math.floor(min(lot.remaining, wanted) * 1000 + 1e-6) / 1000
            if amount <= 0:
                continue
            lot.remaining -= amount
            wanted -= amount
            taken.append((lot, amount))
        return taken

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
                cbt_median=float(rng.lognormal(math.log(120), 0.5)),
                ccs_median=float(rng.lognormal(math.log(320), 0.3)),
                arrival_hour=float(rng.uniform(5.0, 10.5)),
            )
        )
    return farms


def milk_receptions(seed: int, farms: list[Farm], day: int, supply_factor: float) -> list[Lot]:
    rng = stream(seed, "milk", day)
    count = len(farms)
    noise = rng.normal(1.0, parameters.MILK_DAILY_NOISE_SD, size=count)
    arrival_jitter = rng.normal(0.0, 0.4, size=count)
    fat = rng.normal(0.0, 0.10, size=count)
    protein = rng.normal(0.0, 0.06, size=count)
    cbt = rng.lognormal(0.0, 0.55, size=count)
    ccs = rng.lognormal(0.0, 0.25, size=count)
    rejected = rng.random(size=count) < parameters.MILK_REJECTION_PROBABILITY
    price = rng.normal(0.0, 0.03)
    day_of_year = date_of_day(day).timetuple().tm_yday
    seasonal = 1.0 + parameters.MILK_SEASONAL_AMPLITUDE * math.cos(2 * math.pi * (day_of_year - 15) / 365.25)
    stamp = date_of_day(day).strftime("%Y%m%d")
    lots = []
    for index, farm in enumerate(farms):
        litres = round(max(farm.daily_litres * seasonal * supply_factor * noise[index], 200.0), 0)
        received_at = day * MINUTES_PER_DAY + round((farm.arrival_hour + arrival_jitter[index]) * 60)
        lot = Lot(
            lot_id=f"LOT-MILK-{stamp}-{farm.code}",
            material_id="MILK",
            supplier_name=farm.name,
            source_order_id=None,
            received_at=received_at,
            # The 48 h rule: raw milk must be processed within 48 h of its reception.
            expires_at=received_at + 48 * 60,
            quantity=litres,
            unit="L",
            qc_status="rejected" if rejected[index] else "released",
            unit_cost_brl=round(2.45 + price, 4),
            fat_pct=round(farm.fat_pct + fat[index], 2),
            protein_pct=round(farm.protein_pct + protein[index], 2),
            cbt=round(farm.cbt_median * cbt[index], 0),
            ccs=round(farm.ccs_median * ccs[index], 0),
        )
        lot.remaining = litres if lot.qc_status == "released" else 0.0
        lots.append(lot)
    return lots


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
    )
    lot.remaining = purchase.quantity if lot.qc_status == "released" else 0.0
    return lot


def round_purchase(quantity: float, unit: str) -> float:
    """Suppliers sell in whole packs: round up to a sensible unit of the material."""
    step = {"un": 500.0, "mL": 1000.0, "g": 100.0, "kg": 25.0, "L": 100.0}.get(unit, 1.0)
    return max(step, math.ceil(quantity / step) * step)
