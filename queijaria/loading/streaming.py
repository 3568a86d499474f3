"""COPY a CSV file into a table while hashing it, so the checksum costs no second read of the file.

The same pass over the bytes watches for a time of day followed by something other than the end of the field
(`05:00:00+09`, `05:00Z`, `05:00:00 BRT`): PostgreSQL's `timestamp` type silently drops a time-zone offset, and the
CSVs hold plant-local times without one. In a CSV of the contract, the third byte after every `:` (of `HH:MM:SS`) is
the next `:` or the end of the field; anything else is only a suspicion (a free-text field may hold `10:30h`, a time
a fraction of a second): the diagnosis then reads the timestamp columns to confirm it and name the line.
Vectorized with numpy: a regular expression costs as much as the COPY itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

from queijaria.loading.errors import LoadError

CHUNK = 1 << 20
# No row of the contract comes near 4 MB (free text is at most 1,000 characters, a whole row a few hundred bytes): a
# longer line stops the COPY at once rather than hand PostgreSQL a 300 MB field; the diagnosis names its column.
LINE_LIMIT = 4 << 20
COLON = ord(":")
# What may follow `:MM` or `:SS`: the seconds' colon, or the end of the field.
AFTER_TIME = np.zeros(256, dtype=bool)
AFTER_TIME[list(b':,\r\n"')] = True


class LineTooLongError(Exception):
    """A line of the file is longer than LINE_LIMIT bytes (found while streaming it)."""


@dataclass(frozen=True)
class Copied:
    rows: int
    bytes: int
    sha256: str
    # A time followed by a suffix somewhere in the file: the diagnosis must look for a time-zone offset.
    time_suffix_seen: bool


class HashingReader:
    """File-like object for copy_expert: hands out chunks and keeps their sha256, byte count and a progress hook.

    It also keeps what interrupted a read (Ctrl-C, an I/O error): psycopg2 turns it into a COPY failure
    that says nothing of its cause.
    """

    def __init__(self, handle: BinaryIO, on_bytes: Callable[[int], None] | None = None, *, watch_times: bool = False):
        self._handle = handle
        self._on_bytes = on_bytes
        self._watch_times = watch_times
        self._tail = b""
        self._line = 0  # bytes of the current line read so far
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self.time_suffix_seen = False
        self.failure: BaseException | None = None

    def read(self, size: int = CHUNK) -> bytes:
        try:
            chunk = self._handle.read(size)
            self.sha256.update(chunk)
            self.bytes += len(chunk)
            self._measure_line(chunk)
            if self._watch_times and not self.time_suffix_seen and chunk:
                self._watch(chunk)
            if self._on_bytes is not None and chunk:
                self._on_bytes(len(chunk))
        except BaseException as failure:
            self.failure = failure
            raise
        return chunk

    def _measure_line(self, chunk: bytes) -> None:
        # Lines that start and end inside a chunk are shorter than the chunk: only the one running across chunks
        # can grow past the limit. Two memchr scans per MB.
        first = chunk.find(b"\n")
        if first < 0:
            self._line += len(chunk)
        else:
            if self._line + first > LINE_LIMIT:
                raise LineTooLongError
            self._line = len(chunk) - chunk.rfind(b"\n") - 1
        if self._line > LINE_LIMIT:
            raise LineTooLongError

    def _watch(self, chunk: bytes) -> None:
        # A colon among the previous chunk's last 3 bytes has its third next byte in this chunk.
        for window in (self._tail + chunk[:3], chunk):
            array = np.frombuffer(window, dtype=np.uint8)
            if not AFTER_TIME[array[np.flatnonzero(array[:-3] == COLON) + 3]].all():
                self.time_suffix_seen = True
        self._tail = (self._tail + chunk[-3:])[-3:]

    def readline(self, size: int = -1) -> bytes:  # part of the file protocol copy_expert may use
        return self.read(CHUNK if size < 0 else size)


def copy_csv(
    cursor: pg_cursor,
    path: Path,
    table: sql.Composable,
    columns: list[str],
    on_bytes: Callable[[int], None] | None = None,
    *,
    watch_times: bool = False,
) -> Copied:
    """COPY the file into the table (header checked by name); an interrupted read re-raises its own cause."""
    statement = sql.SQL("copy {} ({}) from stdin with (format csv, header match, encoding 'UTF8')").format(
        table, sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    with path.open("rb") as handle:
        reader = HashingReader(handle, on_bytes, watch_times=watch_times)
        try:
            cursor.copy_expert(statement.as_string(cursor), reader, size=CHUNK)
        except psycopg2.Error as error:
            if isinstance(reader.failure, OSError):
                raise LoadError(path, f"could not be read: {reader.failure}") from reader.failure
            if reader.failure is not None:
                raise reader.failure from error
            raise
    return Copied(cursor.rowcount, reader.bytes, reader.sha256.hexdigest(), reader.time_suffix_seen)
