"""The COPY loader: generated CSV batches into the partitioned `raw` schema, in one transaction per load.

Modules: `manifest` (find batches on disk), `reference_keys` (valid keys from the seed CSVs), `errors` (the error
that names file, line and column), `streaming` (COPY with a running checksum), `diagnosis` (the slow pass that finds
the offending line after PostgreSQL refused a file), `audit` (raw.load_audit and the loaded state), `loader` (plan
and run a load), `command` (the `queijaria load` command).
"""

from queijaria.loading.errors import LoadError
from queijaria.loading.loader import LoadResult, load

__all__ = ["LoadError", "LoadResult", "load"]
