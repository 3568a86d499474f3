"""Queijaria PCP: the command line, the database, the COPY loader and the reports around the dbt project.

The plant simulation itself is the sibling package `generators`; the benchmarks are `benchmarks`.
"""

import warnings
from pathlib import Path

# pgserver asks platformdirs for a runtime folder at import; its fallback to /tmp is fine for this project.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
