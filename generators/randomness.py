"""Named, counter-based random streams.

Every random draw comes from a stream keyed by (seed, component, keys...), never from a shared sequence. Keys are
things like a calendar day, an order id or a sensor: two scenarios that simulate the same day, order or sensor draw
exactly the same numbers, so the differences between scenarios come from the scenario effects alone, and a batch
continued from a saved state draws what the same day would have drawn in one long run.
"""

from __future__ import annotations

import zlib

import numpy as np


def _word(key: int | str) -> int:
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8"))
    if key < 0:
        raise ValueError(f"random stream keys must be non-negative, got {key}")
    return key


def stream(seed: int, component: str, *keys: int | str) -> np.random.Generator:
    """A fresh generator for one component and key; the same arguments always give the same numbers."""
    return np.random.default_rng(np.random.SeedSequence([seed, _word(component), *(_word(key) for key in keys)]))
