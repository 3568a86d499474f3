"""How big a `queijaria generate` run will be, from its arguments alone, and whether the machine can hold it.

A plant-decade at 1-minute IoT and scale 50 needs tens of GB of memory: it must be refused before it starts, not
found out after ten minutes of swapping.

Calibration (2025-12, Python 3.11, numpy 2.4; baseline from 2025-11-01, one scenario per run, peak RSS from
/usr/bin/time): thirteen runs of 1 to 112 days, --iot-interval 1, 2, 15 and 60, --scale 0.25 to 50 (the largest,
56 days at 2 minutes and scale 50: 1.5 million rows, 111 MB, 488 MB of memory, 4 minutes). Measured:
  * IoT rows are exact: days × 1440 / interval × sensors; 53.9 bytes a row on disk, and about 40 bytes a reading in
    memory (the background series, the out-of-spec index and the written block) while the scenario is simulated:
    28 days at 1 minute took 151 MB, 112 days at 1 minute 291 MB;
  * energy rows are exact: days × 96 quarter-hours × meters, 42 bytes a row;
  * the other datasets (orders, lots, consumptions, samples, movements...) grow with --scale, but less than in
    proportion (the plant's capacity does not grow): EVENT_ROWS_PER_DAY below, per day of a plant past its first
    weeks (a 112-day run has about 15 % more per day than a 28-day one), 114 bytes a row on disk, and about 800
    bytes a row in memory, since the simulator keeps them as Python objects until the batch is written;
  * a fixed 110 MB (the interpreter, numpy, pandas, the reference data).
The estimates were within 1.2× of every measured run of at least a week (rows, bytes, memory; mostly a little
high), and the tests hold them to 1.5× of a 7-day run measured there. Scenarios are
simulated one after the other: disk adds up over scenarios, memory does not.
"""

from __future__ import annotations

import math
import shutil
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

MB = 1024**2
GB = 1024**3

BASE_MEMORY_BYTES = 110 * MB
IOT_MEMORY_BYTES_PER_READING = 40
EVENT_MEMORY_BYTES_PER_ROW = 800
IOT_DISK_BYTES_PER_ROW = 54
ENERGY_DISK_BYTES_PER_ROW = 42
EVENT_DISK_BYTES_PER_ROW = 114
ENERGY_READINGS_PER_METER_DAY = 96
# (scale, event rows per day) measured on 28-day runs × 1.15 for a plant past its first weeks; interpolated on
# log(scale) between the points, which follows the measured curve within 10 %.
EVENT_ROWS_PER_DAY = ((0.25, 180.0), (1.0, 477.0), (3.0, 1210.0), (10.0, 3835.0), (25.0, 7576.0), (50.0, 9498.0))


@dataclass(frozen=True)
class SizeEstimate:
    rows: int
    disk_bytes: int
    peak_memory_bytes: int


def event_rows_per_day(scale: float) -> float:
    scales = [point[0] for point in EVENT_ROWS_PER_DAY]
    index = min(max(bisect_right(scales, scale), 1), len(scales) - 1)
    (low_scale, low_rows), (high_scale, high_rows) = EVENT_ROWS_PER_DAY[index - 1], EVENT_ROWS_PER_DAY[index]
    share = (math.log(scale) - math.log(low_scale)) / (math.log(high_scale) - math.log(low_scale))
    return low_rows + min(max(share, 0.0), 1.0) * (high_rows - low_rows)


def estimate(days: int, scale: float, iot_interval_min: int, sensors: int, meters: int, scenarios: int) -> SizeEstimate:
    """Rows and bytes written by all `scenarios`, and the peak memory of the largest (they are simulated in turn)."""
    iot_rows = days * 1440 // iot_interval_min * sensors
    energy_rows = days * ENERGY_READINGS_PER_METER_DAY * meters
    event_rows = round(days * event_rows_per_day(scale))
    disk = (
        iot_rows * IOT_DISK_BYTES_PER_ROW
        + energy_rows * ENERGY_DISK_BYTES_PER_ROW
        + event_rows * EVENT_DISK_BYTES_PER_ROW
    )
    memory = BASE_MEMORY_BYTES + iot_rows * IOT_MEMORY_BYTES_PER_READING + event_rows * EVENT_MEMORY_BYTES_PER_ROW
    return SizeEstimate((iot_rows + energy_rows + event_rows) * scenarios, disk * scenarios, memory)


def available_memory_bytes() -> int | None:
    """What the kernel says a new process can use without swapping, within the cgroup's limit; None when unknown."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    limit = _cgroup_headroom()
    if limit is not None:
        available = limit if available is None else min(available, limit)
    return available


def _cgroup_headroom() -> int | None:
    """memory.max minus memory.current of a cgroup v2 container (a container's MemAvailable is the host's)."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
    except OSError:
        return None
    if limit == "max" or not limit.isdigit() or not used.isdigit():
        return None
    return max(int(limit) - int(used), 0)


def free_disk_bytes(folder: Path) -> int | None:
    """Free bytes on the file system `folder` will be created on (its nearest existing parent); None when unknown."""
    for path in (folder, *folder.parents):
        try:
            # A name too long or a file in the way: the parent that exists says which file system it is on.
            usage = shutil.disk_usage(path)
        except OSError:
            continue
        # /proc, /sys and their like report no size at all: no disk to run out of.
        return usage.free if usage.total else None
    return None


def human(size: int) -> str:
    if size >= GB:
        return f"{size / GB:,.1f} GB"
    if size >= 10 * MB:
        return f"{size / MB:,.0f} MB"
    return f"{size / MB:,.1f} MB" if size >= MB else f"{size / 1024:,.0f} kB"


def rows_text(rows: int) -> str:
    return f"{rows / 1e6:,.1f} million" if rows >= 1_000_000 else f"{rows:,}"
