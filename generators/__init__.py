"""Queijaria PCP: plant simulator, COPY loader and the tooling around the dbt project."""

import warnings
from pathlib import Path

# pgserver asks platformdirs for a runtime folder at import; its fallback to /tmp is fine for this project.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
