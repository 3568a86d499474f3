"""COPY a CSV file into a table while hashing it, so the checksum costs no second read of the file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

CHUNK = 1 << 20


class HashingReader:
    """File-like object for copy_expert: hands out chunks and keeps their sha256, byte count and a progress hook."""

    def __init__(self, handle: BinaryIO, on_bytes: Callable[[int], None] | None = None):
        self._handle = handle
        self._on_bytes = on_bytes
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self._handle.read(size)
        self.sha256.update(chunk)
        self.bytes += len(chunk)
        if self._on_bytes is not None and chunk:
            self._on_bytes(len(chunk))
        return chunk

    def readline(self, size: int = -1) -> bytes:  # part of the file protocol copy_expert may use
        return self.read(CHUNK if size < 0 else size)


def copy_csv(
    cursor: pg_cursor,
    path: Path,
    table: sql.Composable,
    columns: list[str],
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[int, int, str]:
    """COPY the file into the table (header checked by name); returns (rows, bytes, sha256 hex)."""
    statement = sql.SQL("copy {} ({}) from stdin with (format csv, header match, encoding 'UTF8')").format(
        table, sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    with path.open("rb") as handle:
        reader = HashingReader(handle, on_bytes)
        cursor.copy_expert(statement.as_string(cursor), reader, size=CHUNK)
    return cursor.rowcount, reader.bytes, reader.sha256.hexdigest()
