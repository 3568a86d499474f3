"""`python -m benchmarks` (what `make bench` runs)."""

from benchmarks.runner import bench

bench()
