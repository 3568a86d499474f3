"""Byte-level CSV assembly for the big time series (IoT, energy): `<prefix><timestamp>,<value>\n` rows.

Formatting floats one by one is what makes telemetry slow. Here the timestamps are formatted once per batch and
shared by every series, values are whole hundredths looked up in a table of their text, and each block of rows is
laid out as a byte matrix whose zero padding is squeezed out in one vectorised step.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

_ROWS_PER_BLOCK = 1 << 18


def hundredths_table(low: int, high: int, endings: tuple[str, ...] = ("\n",)) -> np.ndarray:
    """Row i·e + j is the text of (low + i) / 100 with two decimals and endings[j] (e endings), zero-padded to a
    common width."""
    values = np.arange(low, high + 1, dtype=np.int64)
    negative = values < 0
    magnitude = np.abs(values)
    integer_part = (magnitude // 100).astype(str)
    fraction = np.char.zfill((magnitude % 100).astype(str), 2)
    text = np.char.add(np.char.add(np.where(negative, "-", ""), integer_part), np.char.add(".", fraction))
    text = np.char.add(np.repeat(text, len(endings)), np.tile(np.array(endings), len(values)))
    width = int(np.char.str_len(text).max())
    return np.ascontiguousarray(text.astype(f"S{width}")).view(np.uint8).reshape(-1, width)


def write_series(
    handle: BinaryIO, prefix: bytes, timestamps: np.ndarray, hundredths: np.ndarray, flags: np.ndarray | None = None
) -> int:
    """Write one series; `timestamps` is an (n, 19) uint8 matrix, `hundredths` the values × 100 as integers and
    `flags`, when given, a boolean last column (`,true` / `,false`)."""
    rows = len(hundredths)
    if rows == 0:
        return 0
    low, high = int(hundredths.min()), int(hundredths.max())
    endings = ("\n",) if flags is None else (",false\n", ",true\n")
    table = hundredths_table(low, high, endings)
    rows_of = (hundredths - low) * len(endings)
    if flags is not None:
        rows_of += flags
    prefix_bytes = np.frombuffer(prefix, dtype=np.uint8)
    head = len(prefix_bytes) + 19 + 1
    width = head + table.shape[1]
    for first in range(0, rows, _ROWS_PER_BLOCK):
        last = min(first + _ROWS_PER_BLOCK, rows)
        block = np.empty((last - first, width), dtype=np.uint8)
        block[:, : len(prefix_bytes)] = prefix_bytes
        block[:, len(prefix_bytes) : head - 1] = timestamps[first:last]
        block[:, head - 1] = ord(",")
        np.take(table, rows_of[first:last], axis=0, out=block[:, head:])
        handle.write(block[block != 0].tobytes())
    return rows
