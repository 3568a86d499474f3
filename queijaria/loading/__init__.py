"""The COPY loader: generated CSV batches into the partitioned `raw` schema, in one transaction per load.

Modules: `manifest` (find batches on disk, confined to their folder), `reference_keys` (valid keys from the seed
CSVs), `errors` (the error that names file, line and column; the interrupt), `streaming` (COPY with a running
checksum and a watch for time-zone offsets), `diagnosis` (the slow pass that finds the offending line after
PostgreSQL refused a file), `failures` (what else stops a load, as one clear error), `audit` (raw.load_audit, the
loaded state and the check that loaded files are unchanged), `loader` (plan and run a load), `command` (the
`queijaria load` command).
"""

from queijaria.loading.errors import LoadError
from queijaria.loading.loader import LoadResult, load

__all__ = ["LoadError", "LoadResult", "load"]
