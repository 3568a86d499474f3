"""`python -m benchmarks [NAME...]` (what `make bench` runs, with no name: all of them)."""

import sys

from benchmarks.runner import bench

bench(sys.argv[1:])
