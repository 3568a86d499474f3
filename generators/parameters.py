"""Plant behaviour that is not reference data: how demand, supply and execution behave.

The seeds describe the plant (lines, rates, recipes, equipment); these constants describe how it is run. They are
kept in one place so that tuning the simulation never means hunting through the modules.
"""

from __future__ import annotations

# Share of each line's weekly production-window hours that demand asks for. Below 1 because orders do not
# span a CIP block, so some window time is always lost to packing; ~0.8 leaves baseline slack for recoveries.
TARGET_LINE_LOAD = 0.76

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
ORDER_HOURS_RANGE = (2.0, 3.8)
# Sundays whose demand is at least this factor of the usual get afternoon and night shifts on the lines of fresh
# cheeses (calendar.py).
EXTRA_SHIFT_DEMAND_FACTOR = 1.2
# Build-ahead: for a cheese whose shelf life after ripening is at least this long, this share of its demand is
# made evenly over the days ahead of it (a December peak partly built in November); fresher cheeses meet a peak
# with the extra shifts only.
BUILD_AHEAD_MIN_SHELF_DAYS = 60
BUILD_AHEAD_DAYS = 56
BUILD_AHEAD_SHARE = 0.5
# The planner fills the end of a shift with a smaller batch when at least this much time is left before its CIP.
MIN_GAP_FILL_H = 1.0

# The daily MRP run: hour it creates orders, earliest start after creation, release lead before planned start.
MRP_HOUR = 7
EARLIEST_START_AFTER_CREATION_H = 40
RELEASE_LEAD_H_RANGE = (12.0, 36.0)
# Rescheduling (cancel and replace): a replacement starts no sooner than this after the planner learns it must
# replan, a chain of replacements stops after this many, and an order is replanned when its line is down longer
# than this over its window or when it could not start before the raw milk it can reserve has expired.
REPLAN_EARLIEST_START_H = 12
MAX_REPLACEMENTS = 2
RESCHEDULE_MIN_DOWNTIME_H = 8.0
MILK_LIFE_H = 48
# Priority 1 (most urgent) .. 5: probability, and days from the earliest production date to the due date.
PRIORITY_PROBABILITIES = (0.10, 0.20, 0.40, 0.20, 0.10)
PRIORITY_DUE_DAYS = (1, 2, 3, 3, 4)

# Raw milk: a dozen farms, delivering once a day; contracted volume above the plant's average need so that
# FEFO losses and day-to-day noise rarely leave an order short in the baseline.
FARM_COUNT = 12
MILK_SUPPLY_MARGIN = 1.10
MILK_SEASONAL_AMPLITUDE = 0.05  # rainy-season (Jan) peak, dry-season (Jul) low
MILK_DAILY_NOISE_SD = 0.07
MILK_REJECTION_PROBABILITY = 0.008  # antibiotic residue or acidity at the reception test
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
# A vat is filled for the order's kilos plus this allowance, and topped up when the milk's solids (fat, casein)
# promise less cheese than the reference milk: the cheesemaker sizes the batch to deliver the order in full.
BATCH_FILL_ALLOWANCE = 0.025

# Corrective maintenance beyond the Weibull failures of the seeds: the technician's response before the repair
# (log-normal, median) and minor stops (jams, clogged moulds, trips) of the machines that jam, with an
# exponential interval in operating hours and a log-normal length. Together they bring corrective downtime to
# the 3-10 % of planned time a dairy engineer expects.
REPAIR_RESPONSE_MEDIAN_H = 0.5
REPAIR_RESPONSE_LOG_SD = 0.5
MINOR_STOP_MEAN_INTERVAL_H: dict[str, float] = {
    "stretcher": 15.0,
    "moulder": 16.0,
    "press": 9.0,
    "cup_filler": 10.0,
    "fusion_kettle": 40.0,
    "vat": 40.0,
}
MINOR_STOP_MEDIAN_H = 0.33
MINOR_STOP_LOG_SD = 0.6

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
