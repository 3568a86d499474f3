"""Plant behaviour that is not reference data: how demand, supply and execution behave.

The seeds describe the plant (lines, rates, recipes, equipment); these constants describe how it is run. They are
kept in one place so that tuning the simulation never means hunting through the modules.
"""

from __future__ import annotations

# Share of each line's weekly production-window hours that demand asks for, at the ideal rate. Below 1 because
# orders do not span a CIP block and run at the standard pace, so some window time is always lost; about 0.8 runs
# a line about 90 % of its planned time (availability 85-95 %, DOMAIN.md §4) and leaves baseline slack for
# recoveries. The mussarela and parmesão lines, whose stretcher and press stop most, are loaded a little more to stay
# in that range.
TARGET_LINE_LOAD: dict[str, float] = {"MUS": 0.80, "PRA": 0.79, "FRE": 0.79, "MAT": 0.80, "REQ": 0.79}

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
# Overtime: when a line's plan holds more than this many days of its ordinary work beyond the earliest start of new
# orders (a backlog after a stop, a milk shortage or a peak), the planner adds the afternoon and night shifts of the
# first free Sunday after the plan's end, one Sunday per line per MRP run, until the queue is back under it.
OVERTIME_BACKLOG_DAYS = 2.0
# Build-ahead: for a cheese whose shelf life after ripening is at least this long, this share of its demand is
# made evenly over the days ahead of it (a December peak partly built in November); fresher cheeses meet a peak
# with the extra shifts only.
BUILD_AHEAD_MIN_SHELF_DAYS = 60
BUILD_AHEAD_DAYS = 56
BUILD_AHEAD_SHARE = 0.5
# Milk-led planning: the cheeses that keep are made to the contracted milk curve (stock.milk_season), more in the
# rainy-season flush and less in the dry trough, around the same yearly output; stock carries the difference to the
# flat sales. This share of the curve's swing moves their production (0 = flat plan, 1 = follow the milk fully).
MILK_LED_PLAN_SHARE = 0.3
# The planner fills the end of a shift with a smaller batch when at least this much time is left before its CIP.
MIN_GAP_FILL_H = 1.0

# The daily MRP run: hour it creates orders, earliest start after creation, release lead before planned start.
MRP_HOUR = 7
EARLIEST_START_AFTER_CREATION_H = 40
RELEASE_LEAD_H_RANGE = (22.0, 26.0)
# Rescheduling (cancel and replace): a replacement starts no sooner than this after the planner learns it must
# replan, a chain of replacements stops after this many, and an order is replanned when its line is down longer
# than this over its window or when it could not start before the raw milk it can reserve has expired.
REPLAN_EARLIEST_START_H = 12
MAX_REPLACEMENTS = 2
# Make-up orders: when the lab's rejections leave an order's good kilos below this share of its plan (the in-full
# tolerance of OTIF, dbt var otif_in_full_tolerance), the next MRP run orders the missing kilos again (rounded up to
# MAKE_UP_ROUND_KG), at priority 1: as a make-up order when they fill at least MAKE_UP_MIN_H of the line at the
# ideal rate, else added to the product's next regular orders (no vat is set for a few kilos). A make-up order that
# is itself rejected is not made up again.
MAKE_UP_BELOW_SHARE = 0.98
MAKE_UP_ROUND_KG = 5.0
MAKE_UP_MIN_H = 1.0
RESCHEDULE_MIN_DOWNTIME_H = 8.0
MILK_LIFE_H = 48
# Priority 1 (most urgent) .. 5: probability, and days from the earliest production date to the due date: 4-7 days
# from the MRP run, the lead a line loaded ~90 % of its time needs for its queue and a day's wait for milk (a day
# shorter made 4-7 % of the baseline's orders late, depending on the seed).
PRIORITY_PROBABILITIES = (0.10, 0.20, 0.40, 0.20, 0.10)
PRIORITY_DUE_DAYS = (3, 4, 5, 5, 6)

# Raw milk: a dozen farms, delivering once a day. The contract is sized on the plant's average need over the year;
# supply follows the season (below) while sales are flat; the cheeses that keep are partly made to the milk curve
# (MILK_LED_PLAN_SHARE), and the rest of the rainy-season surplus is sold spot or discarded while the dry-season
# trough runs close to the need (DOMAIN.md §2, realistic ranges: 2-10 % of milk received not used).
FARM_COUNT = 12
MILK_SUPPLY_MARGIN = 1.12
# Collection trucks: the farms are collected in this many routes (fewer when there are fewer farms).
MILK_ROUTE_COUNT = 3
# Hour of the day before at which the cooperative sends the next day's collection plan.
MILK_PLAN_HOUR = 16
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
# Hour of the daily reorder review of purchased materials.
REORDER_HOUR = 8
OPENING_STOCK_DAYS = 30

# Execution: performance against the ideal rate, start delay, changeovers, and when an order is not run at all.
PERFORMANCE_MEAN = 0.91
PERFORMANCE_SD = 0.03
START_DELAY_MEAN_MIN = 5.0
START_DELAY_SD_MIN = 10.0
CHANGEOVER_MIN_SAME_PRODUCT = 0
CHANGEOVER_MIN_OTHER_PRODUCT = 15
# The planner's look at the ERP before a vat starts (DOMAIN.md §3): an order whose requirements are still open
# waits for the next scheduled receipt of what it lacks, at most this long from when it was first ready to start;
# then it is made with what the material allows, or cancelled and replaced when that is less than this share of
# its milk (or whey).
WAIT_FOR_MATERIAL_MAX_H = 8
CANCEL_BELOW_INPUT_SHARE = 0.25
# While what an order holds could still make it in full (execution.Executor._held_makes_in_full), starting it would
# flag a shortage that hurts nothing: the planner waits on for the next delivery. The cheesemaker's yield estimate
# is given this much benefit of the doubt: three standard deviations of the yield's noise and a low process loss.
PLANNER_YIELD_MARGIN = 0.045
YIELD_NOISE_SD = 0.012
MIN_REPAIR_H = 0.25
# A vat is filled for the order's kilos plus this allowance, and topped up when the milk's solids (fat, casein)
# promise less cheese than the reference milk: the cheesemaker sizes the batch to deliver the order in full. The
# allowance is part of the bill of materials (seeds/recipe_lines.csv: the milk's and whey's scrap factor is the
# process's own loss plus this), so that the ERP reserves what the vat will take (DOMAIN.md §3).
BATCH_FILL_ALLOWANCE = 0.025

# Corrective maintenance beyond the Weibull failures of the seeds: the technician's response before the repair
# (log-normal, median) and minor stops (jams, clogged moulds, trips) of the machines that jam, with an
# exponential interval in operating hours and a log-normal length. Together they bring corrective downtime to
# the 3-10 % of planned time a dairy engineer expects.
REPAIR_RESPONSE_MEDIAN_H = 0.5
REPAIR_RESPONSE_LOG_SD = 0.5
MINOR_STOP_MEAN_INTERVAL_H: dict[str, float] = {
    "stretcher": 26.0,
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

# Equipment that is always on wears on the calendar (generators/rooms.py), not only while its line runs an order.
CALENDAR_AGING_TYPES = ("cold_room", "ripening_room")

# Rooms drift warmer (and drier) when the outdoor temperature climbs above this, by these gains per °C.
ROOM_HEAT_THRESHOLD_DEGC = 27.0
ROOM_TEMPERATURE_GAIN: dict[str, float] = {"cold_room": 0.24, "ripening_room": 0.17, "brine_tank": 0.08}
ROOM_HUMIDITY_GAIN = -0.9
# Random short excursions of a process sensor (sticking valve, probe fouling): events per sensor-day and typical
# length. They happen whether the equipment runs or not; only those while it runs count.
EXCURSION_EVENTS_PER_DAY = 0.2
EXCURSION_MEDIAN_MIN = 6.0

# Process equipment (pasteurizer, vats, stretcher, kettle) follows its line: held at the setpoint while an order runs,
# heated up this long before an order starts (so a planned start is at temperature), left to drift to ambient while
# idle or down. A restart after a repair has no pre-heat: the first minutes run cold, which is what diverts the
# pasteurizer's flow. Time constants of the first-order lag, minutes.
PROCESS_PREHEAT_MIN = 30
PROCESS_HEAT_TAU_MIN = 6.0
PROCESS_COOL_TAU_MIN: dict[str, float] = {"temperature": 45.0, "ph": 30.0, "holding_time": 2.0}
# What an idle probe settles to when it is not the ambient temperature: a pH probe in its storage solution, a
# holding-time meter with no flow.
PROCESS_IDLE_VALUE: dict[str, float] = {"ph": 7.0, "holding_time": 0.0}
# Rooms and brine are always on: a slow Ornstein-Uhlenbeck drift (time constant, minutes; sd as a share of the
# sensor's noise_sd) plus a little probe noise, so an excursion lasts minutes to hours instead of flickering.
ROOM_DRIFT_TAU_MIN = 240.0
ROOM_DRIFT_SD_SHARE = 1.0
ROOM_PROBE_NOISE_SHARE = 0.04
# Room upsets (a door left open, a defrost cycle, a brine top-up): events per sensor-day, median length, and how
# fast the room follows them (first-order lag, minutes).
ROOM_EVENTS_PER_DAY = 0.06
ROOM_EVENT_MEDIAN_MIN = 90.0
ROOM_EVENT_TAU_MIN = 20.0

# Flow diversion: the pasteurizer outlet below its spec_min while it runs sends the milk back to be re-pasteurized;
# a dip that lasts this long (on the sampling grid) has reached the vat, and the batch is held and rejected.
DIVERSION_HOLD_MIN = 10.0
# The pasteurizer feeds a vat during the first minutes of its order: a dip inside that fill window reaches the vat.
VAT_FILL_MIN = 45

# Quality: lab results spread around the spec centre with sd = spec width / LAB_SPREAD_DIVISOR (half-width ≈ 2.5 sd,
# about 1 % of each test out of spec), widened by the process excursions of the run; coliforms are log-normal
# around this share of their limit, raised by poor milk and excursions.
LAB_SPREAD_DIVISOR = 5.0
COLIFORM_MEDIAN_SHARE = 0.12
# Milk is poor from CBT_POOR_FROM thousand CFU/mL on, fully so at CBT_POOR_AT (the legal limit is 300).
CBT_POOR_FROM = 150.0
CBT_POOR_AT = 400.0
# Process risk = hours out of spec during the run (process sensors of the line and, for milk products, the
# pasteurizer), capped: each hour adds these probabilities to the causes it drives.
PROCESS_RISK_CAP_H = 3.0
PROCESS_RISK_GAIN: dict[str, float] = {"mechanical_openings": 0.03, "moisture_out_of_spec": 0.05, "cracks": 0.04}
POOR_MILK_GAIN: dict[str, float] = {"early_blowing": 0.10, "late_blowing": 0.04}
# Share of a batch a drawn defect rejects, beta(a, b): sorting removes the blown, cracked or mis-packed units, so
# most defects take a few per cent of the batch (median about 11 %) and a few take most of it (mean about 19 %).
REJECTED_SHARE_BETA = (0.5, 2.2)
# The plant's quality programme: each cause strikes at this share of the rates quality.py gives it (the rates of a
# plant without one). With REJECTED_SHARE_BETA, it keeps the rejected kilos at 1.7-2.2 % of production over six
# seeds while fewer orders are hit (each hit one misses OTIF's in-full tolerance).
DEFECT_RATE_FACTOR = 0.75

# Energy against the "horária verde" tariff: ponta is PONTA_HOURS on weekdays that are not holidays. Refrigeration
# pre-cools the rooms (thermal mass) in the hours before ponta and eases during it; boiler/CIP and other utility
# loads are moved out of ponta to the hours after it. Factors multiply the meter's load outside production.
PONTA_HOURS = (18, 21)
REFRIGERATION_PRECOOL_HOURS = (15, 18)
REFRIGERATION_PRECOOL_FACTOR = 1.65
REFRIGERATION_PONTA_FACTOR = 0.3
UTILITIES_PONTA_FACTOR = 0.3
UTILITIES_AFTER_PONTA_HOURS = (21, 24)
UTILITIES_AFTER_PONTA_FACTOR = 1.55
