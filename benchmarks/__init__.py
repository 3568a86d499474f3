"""Benchmarks behind `make bench`; `runner` runs them all side by side (or the ones named on the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from queijaria import PROJECT_ROOT

# One plant-year of the baseline: what the plant-year benchmark generates and loads.
# A plant-year as DOMAIN.md sizes it (1-minute IoT sampling, ~16 M readings), not the demo's 15 minutes.
PLANT_YEAR_ARGS = ("--scenario", "baseline", "--days", "365", "--start-date", "2025-01-01", "--iot-interval", "1")


def run_tool(tool: str, *args: str, env: dict[str, str]) -> None:
    """Run `queijaria` or `dbt` from this environment; on failure, raise with the end of its output."""
    command = [str(Path(sys.executable).with_name(tool)), *args]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
