"""Plant behaviour that is not reference data: how demand, supply and execution behave.

The seeds describe the plant (lines, rates, recipes, equipment); these constants describe how it is run. They are
kept in one place so that tuning the simulation never means hunting through the modules.
"""

from __future__ import annotations

# Share of each line's weekly production-window hours that demand asks for. Below 1 because orders do not
# span a CIP block, so some window time is always lost to packing; ~0.8 leaves baseline slack for recoveries.
TARGET_LINE_LOAD = 0.68

# Share of a line's demanded hours per product; products of a line not listed get nothing.
PRODUCT_HOUR_SHARE: dict[str, float] = {
    "MUS": 0.80,
    "PRV": 0.20,
    "PRA": 0.60,
    "COA": 0.40,
    "FRE": 0.70,
    "RIC": 0.30,
    "PAR": 1.00,
    "REQ": 1.00,
}

# Day-to-day demand noise (log-normal sigma) and the run length of one order (one vat batch), in hours at ideal rate.
DEMAND_NOISE_SIGMA = 0.15
ORDER_HOURS_RANGE = (1.8, 3.6)

# The daily MRP run: hour it creates orders, earliest start after creation, release lead before planned start.
MRP_HOUR = 7
EARLIEST_START_AFTER_CREATION_H = 40
RELEASE_LEAD_H_RANGE = (12.0, 36.0)
# Priority 1 (most urgent) .. 5: probability, and days from the earliest production date to the due date.
PRIORITY_PROBABILITIES = (0.10, 0.20, 0.40, 0.20, 0.10)
PRIORITY_DUE_DAYS = (1, 2, 3, 3, 4)

# Raw milk: a dozen farms, delivering once a day. The contract is sized on the plant's average need over the year;
# supply follows the season (below) while demand is flat, so the rainy-season surplus is sold spot or discarded and
# the dry-season trough runs close to the need (DOMAIN.md §2, realistic ranges: 2-10 % of milk received not used).
FARM_COUNT = 12
MILK_SUPPLY_MARGIN = 1.07
# Supply by calendar month relative to the rainy-season peak (safra, October-March), Southeast Brazil: the dry
# season (entressafra) falls 16-20 % below it in June-September. Mid-month values, interpolated day by day.
MILK_SUPPLY_BY_MONTH = (1.00, 0.99, 0.96, 0.92, 0.88, 0.84, 0.81, 0.80, 0.82, 0.88, 0.95, 1.00)
# Fewer litres, more solids: at the dry-season trough fat and protein are this much above the rainy-season peak
# (percentage points); the annual mean stays at the reference composition.
MILK_DRY_SEASON_FAT_GAIN_PP = 0.28
MILK_DRY_SEASON_PROTEIN_GAIN_PP = 0.14
MILK_DAILY_NOISE_SD = 0.07
MILK_REJECTION_PROBABILITY = 0.004  # antibiotic residue or acidity (alizarol) at the reception test
# Reception limit of total bacterial count (CBT), thousand CFU/mL: 300, the limit of MAPA IN 76/2018 (art. 7) for
# raw refrigerated milk from the farm tank. MAPA applies it to a quarterly geometric mean; this plant's quality
# programme applies it to every delivery, and a delivery above it is refused at reception.
MILK_CBT_LIMIT_THOUSAND_CFU_PER_ML = 300.0
MILK_CBT_FARM_MEDIAN_THOUSAND = 70.0
# Heat stress of the herds: above this daily mean outdoor temperature (°C; a temperature-humidity index near 72)
# cows eat less and give less milk, and milk cools slower in the farm tank, so its bacterial count grows.
HERD_HEAT_THRESHOLD_DEGC = 24.0
HERD_MILK_LOSS_PER_DEGC = 0.015  # share of the day's milk lost per °C above the threshold
HERD_MILK_MAX_LOSS = 0.40
HERD_CBT_GROWTH_PER_DEGC = 0.09  # CBT × exp(growth × °C above the threshold)
# Milk not used within its 48 h: the daily review (hour of the day) sells spot ("leite spot") what will expire before
# the next review; a buyer is found for this share of such lots, the others are discarded. The spot price is a share
# of the farm price, higher in the dry season when dairies compete for milk.
MILK_REVIEW_HOUR = 3
MILK_SPOT_SALE_PROBABILITY = 0.80
MILK_SPOT_PRICE_SHARE = 0.92
MILK_SPOT_PRICE_DRY_SEASON_GAIN = 0.20
# Liquid whey the plant does not use is sold for animal feed (pig farms), R$ per litre.
WHEY_SALE_PRICE_BRL_PER_L = 0.04
REFERENCE_FAT_PCT = 3.6
REFERENCE_PROTEIN_PCT = 3.2
CASEIN_SHARE_OF_PROTEIN = 0.78

# Purchased materials: reorder when the inventory position covers less than lead time + safety days.
SAFETY_STOCK_DAYS = 12
REORDER_COVER_DAYS = 35
OPENING_STOCK_DAYS = 30

# Execution: performance against the ideal rate, start delay, changeovers, and when an order is not run at all.
PERFORMANCE_MEAN = 0.93
PERFORMANCE_SD = 0.03
START_DELAY_MEAN_MIN = 5.0
START_DELAY_SD_MIN = 10.0
CHANGEOVER_MIN_SAME_PRODUCT = 0
CHANGEOVER_MIN_OTHER_PRODUCT = 15
CANCEL_BELOW_INPUT_SHARE = 0.25
YIELD_NOISE_SD = 0.012
MIN_REPAIR_H = 0.25

# Preventive maintenance happens on Sundays (no production), starting at this hour.
PREVENTIVE_HOUR = 7
BREAKDOWN_START_HOUR = 10

# Weather of the plant (Minas Gerais): seasonal mean with a January peak, afternoon maximum.
AMBIENT_ANNUAL_MEAN_DEGC = 21.0
AMBIENT_SEASONAL_AMPLITUDE_DEGC = 3.0
AMBIENT_DAILY_RANGE_DEGC = 6.0
AMBIENT_DAILY_NOISE_SD = 1.4
AMBIENT_PEAK_HOUR = 15.0
REFRIGERATION_REFERENCE_DEGC = 25.0

# Rooms drift warmer (and drier) when the outdoor temperature climbs above this, by these gains per °C.
ROOM_HEAT_THRESHOLD_DEGC = 27.0
ROOM_TEMPERATURE_GAIN: dict[str, float] = {"cold_room": 0.24, "ripening_room": 0.17, "brine_tank": 0.08}
ROOM_HUMIDITY_GAIN = -0.9
# Random short excursions of any sensor (sticking valve, probe fouling): events per sensor-day and typical length.
EXCURSION_EVENTS_PER_DAY = 0.25
EXCURSION_MEDIAN_MIN = 6.0
