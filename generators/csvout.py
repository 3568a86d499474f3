"""Generic CSV writing for the smaller datasets, driven by the column types of dataset_contract/__init__.py.

Rows arrive as tuples of plain values in contract column order: timestamps as simulated minutes, dates as day
numbers, numbers as floats, None as null. Text is quoted only when it has to be.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from dataset_contract import BY_NAME
from generators.clock import date_strings, timestamp_strings

# Decimals written per numeric column; anything not listed gets three.
DECIMALS: dict[str, int] = {
    "planned_kg": 2,
    "produced_kg": 2,
    "good_kg": 2,
    "rejected_kg": 2,
    "fat_pct": 2,
    "protein_pct": 2,
    "cbt_thousand_cfu_per_ml": 0,
    "ccs_thousand_cells_per_ml": 0,
    "unit_cost_brl": 4,
    "ambient_mean_degc": 1,
    "ambient_max_degc": 1,
    "value": 2,
    "planned_l": 0,
}

Row = Sequence[object]


def header(dataset: str) -> bytes:
    return (",".join(BY_NAME[dataset].column_names) + "\n").encode()


def _quote(text: str) -> str:
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _format_column(values: list[object], pg_type: str, decimals: int) -> list[str]:
    present = [index for index, value in enumerate(values) if value is not None]
    texts = [""] * len(values)
    if not present:
        return texts
    if pg_type in ("timestamp", "date"):
        numbers = np.array([values[index] for index in present], dtype=np.int64)
        formatted = timestamp_strings(numbers) if pg_type == "timestamp" else date_strings(numbers)
        for index, text in zip(present, formatted, strict=True):
            texts[index] = text
    elif pg_type in ("numeric", "double precision"):
        for index in present:
            text = f"{values[index]:.{decimals}f}"
            texts[index] = "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text
    elif pg_type == "boolean":
        for index in present:
            texts[index] = "true" if values[index] else "false"
    elif pg_type == "integer":
        for index in present:
            texts[index] = str(int(values[index]))  # type: ignore[call-overload]
    else:
        # Text columns repeat a lot (scenario, material, status): quote each distinct value once.
        quoted: dict[object, str] = {}
        for index in present:
            value = values[index]
            if value not in quoted:
                quoted[value] = _quote(str(value))
            texts[index] = quoted[value]
    return texts


def encode_rows(dataset: str, rows: list[Row]) -> bytes:
    if not rows:
        return b""
    columns = BY_NAME[dataset].columns
    raw_columns = list(zip(*rows, strict=True))
    texts = [
        _format_column(list(raw), column.pg_type, DECIMALS.get(column.name, 3))
        for raw, column in zip(raw_columns, columns, strict=True)
    ]
    return ("\n".join(",".join(parts) for parts in zip(*texts, strict=True)) + "\n").encode()


def write_rows(handle: BinaryIO, dataset: str, rows: list[Row]) -> int:
    handle.write(encode_rows(dataset, rows))
    return len(rows)
