"""The slow path: after PostgreSQL refused a file, find the first offending line and column and say what is wrong.

The fast path leaves all checks to PostgreSQL (COPY parses the types; NOT NULL, CHECK and primary-key constraints
judge the rows). Only when it fails does this module read the file again, in Python, to name the exact line and
column; duplicates are found in SQL, with the line numbers kept by an identity column. Values are quoted shortened,
and nothing of a file's header is echoed (a file that is not a dataset's CSV is not ours to print).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

from dataset_contract import (
    BLANK,
    FIRST_PLAUSIBLE_DATE,
    LAST_PLAUSIBLE_DATE,
    MAX_IDENTIFIER_LENGTH,
    Column,
    Dataset,
)
from queijaria.loading.errors import LoadError
from queijaria.loading.raw_schema import MAX_FREE_TEXT_LENGTH, is_free_text
from queijaria.loading.streaming import LINE_LIMIT

BOOLEANS = {"true", "false", "t", "f", "yes", "no", "y", "n", "on", "off", "1", "0"}
INTEGER_TYPES = ("integer", "bigint", "smallint")
INTEGER = re.compile(r"\s*[+-]?\d+\s*")
# The CSV layout of dates and times (ISO, plant-local): what follows it in a timestamp is an offset or a zone.
DATE_TIME = re.compile(r"(\d{4,})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?")
PG_LINE = re.compile(r"line (\d+)")
PG_COLUMN = re.compile(r"column (\w+)")
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# No value of the contract comes near these (free text is at most MAX_FREE_TEXT_LENGTH characters, a whole row a
# few hundred bytes): a longer field or line is named as such, and the file is never read into memory whole.
FIELD_LIMIT = 1 << 20
SHOWN_CHARACTERS = 40
TIME_RANGE = f"{FIRST_PLAUSIBLE_DATE.year}..{LAST_PLAUSIBLE_DATE.year}"
RULES = {
    "range": "out of range",
    "plausible": f"a date or time outside the years {TIME_RANGE}",
    "identifier": f"a blank identifier or one longer than {MAX_IDENTIFIER_LENGTH} characters",
    "accepted": "not an accepted value",
    "partition": "a row of another scenario",
    "length": f"a free text longer than {MAX_FREE_TEXT_LENGTH:,} characters",
}


def shown(value: str, limit: int = SHOWN_CHARACTERS) -> str:
    """The value quoted for a message, cut short: a 200 KB field must not become a 200 KB message."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def _plain(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,}"


def _number_problem(column: Column, value: str) -> str | None:
    text = value.strip()
    if column.pg_type in INTEGER_TYPES:
        if not INTEGER.fullmatch(value):
            return f"wrong type: {shown(value)} is not an integer ({column.pg_type})"
        number = Decimal(int(text))
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return f"wrong type: {shown(value)} is not a number ({column.pg_type})"
        if not number.is_finite():
            return f"{shown(value)} is not a finite number (NaN and infinities are refused)"
    bounds = column.bounds
    if bounds is not None and not bounds.low <= number <= bounds.high:
        if number < 0 <= bounds.low:
            return f"negative value {shown(value)}: {bounds.what} must be >= {_plain(bounds.low)}"
        return (
            f"{shown(value)} is out of range: {bounds.what} lies between {_plain(bounds.low)} and {_plain(bounds.high)}"
        )
    return None


def _time_problem(column: Column, value: str) -> str | None:
    layout = "a date (YYYY-MM-DD)" if column.pg_type == "date" else "a timestamp (YYYY-MM-DD HH:MM:SS)"
    text = value.strip()
    match = DATE_TIME.match(text)
    if match is None or (column.pg_type == "date" and match[4] is not None):
        return f"wrong type: {shown(value)} is not {layout}"
    rest = text[match.end() :]
    if rest and column.pg_type == "timestamp" and match[4] is not None:
        return (
            f"{shown(value)} has a time-zone offset or suffix {shown(rest)}: the CSVs hold plant-local times "
            "without offset (YYYY-MM-DD HH:MM:SS)"
        )
    if rest:
        return f"wrong type: {shown(value)} is not {layout}"
    year, month, day, hour, minute, second, fraction = match.groups()
    if not FIRST_PLAUSIBLE_DATE.year <= int(year) <= LAST_PLAUSIBLE_DATE.year:
        return f"year {int(year)} of {shown(value)} is out of range: plant data lies in the years {TIME_RANGE}"
    try:
        datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return f"wrong type: {shown(value)} is not {layout}"
    return None


def _type_problem(column: Column, value: str) -> str | None:
    """Why the text is not a plausible value of the column's type (None when it is)."""
    kind = column.pg_type
    if kind in (*INTEGER_TYPES, "numeric", "double precision"):
        return _number_problem(column, value)
    if kind in ("timestamp", "date"):
        return _time_problem(column, value)
    if kind == "boolean" and value.strip().lower() not in BOOLEANS:
        return f"wrong type: {shown(value)} is not a boolean (true/false)"
    if column.is_identifier:
        if value.strip(BLANK) == "":
            return f"blank identifier {shown(value)}"
        if len(value) > MAX_IDENTIFIER_LENGTH:
            return f"identifier {shown(value)} is longer than {MAX_IDENTIFIER_LENGTH} characters"
    return None


def _value_problem(
    column: Column, value: str, dataset: Dataset, scenario_id: str, reference_keys: Mapping[str, frozenset[str]]
) -> str | None:
    if value == "":
        return None if column.nullable else "missing value (empty field) in a column that may not be null"
    problem = _type_problem(column, value)
    if problem:
        return problem
    if is_free_text(dataset, column) and len(value) > MAX_FREE_TEXT_LENGTH:
        return (
            f"{shown(value)}: {column.name} is free text of at most {MAX_FREE_TEXT_LENGTH:,} characters (a name, a "
            "note), not a document"
        )
    allowed = dataset.accepted_values.get(column.name)
    if allowed is not None and value not in allowed:
        return f"{shown(value)} is not an accepted value ({', '.join(allowed)})"
    if column.name == "scenario_id" and value != scenario_id:
        return f"scenario_id {shown(value)} in a batch of scenario {scenario_id!r}"
    if column.references and value not in reference_keys[column.name]:
        table, key = column.references
        return f"unknown key {shown(value)}: not a {key} of seeds/{table}.csv"
    return None


class _LineTooLongError(Exception):
    """A physical line longer than LINE_LIMIT bytes: no record of the contract comes near."""

    def __init__(self, number: int, head: bytes):
        self.number = number
        self.head = head  # the line's first LINE_LIMIT bytes
        super().__init__(number)


class _Lines:
    """The file's lines, decoded, read at most LINE_LIMIT bytes at a time (a 300 MB line is never held whole);
    keeps the lines of the record the csv reader is reading, to find the column of a field too long."""

    def __init__(self, path: Path, handle: BinaryIO):
        self.path = path
        self.handle = handle
        self.record: list[str] = []

    def __iter__(self) -> Iterator[str]:
        number = 0
        while raw := self.handle.readline(LINE_LIMIT + 1):
            number += 1
            if len(raw) > LINE_LIMIT:
                raise _LineTooLongError(number, raw[:LINE_LIMIT])
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise LoadError(
                    self.path,
                    f"not UTF-8: byte 0x{raw[error.start]:02x} (character {error.start + 1} of the line) cannot be "
                    "decoded",
                    line=number,
                ) from error
            self.record.append(text)
            yield text


def _lenient_fields(lines: list[str]) -> list[str]:
    """The fields of a record that the strict reader could not finish (cut short, or a quote never closed)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, sum(len(line) for line in lines) + 1))
    try:
        return next(csv.reader(lines, strict=False), None) or [""]
    finally:
        csv.field_size_limit(limit)


def _field_place(columns: Sequence[str], first_line: int, fields: list[str], index: int) -> tuple[int, str | None, str]:
    """(line, column, note) of the record's field at index: the line it starts on, and its column when the header
    has one there."""
    line = first_line + sum(field.count("\n") for field in fields[:index])
    if index < len(columns):
        return line, columns[index], ""
    return line, None, f" (field {index + 1}, beyond the {len(columns)} columns of the header)"


def _too_long(path: Path, columns: Sequence[str], first_line: int, lines: list[str]) -> LoadError:
    """The field of a record that is longer than any value of the contract, named by its line and column.

    `lines` are the record's lines as far as they were read (the last one possibly cut short): parsed leniently,
    the culprit is the first field longer than free text may be, else the last one (where reading stopped).
    """
    fields = _lenient_fields(lines)
    index = next((i for i, field in enumerate(fields) if len(field) > MAX_FREE_TEXT_LENGTH), len(fields) - 1)
    line, column, note = _field_place(columns, first_line, fields, index)
    return LoadError(
        path,
        f"a field of at least {len(fields[index]):,} characters{note}: no value of the data contract comes near "
        f'(free text is at most {MAX_FREE_TEXT_LENGTH:,} characters); if a quote (") opens it, it is probably '
        "never closed",
        line=line,
        column=column,
    )


def _never_closed(path: Path, columns: Sequence[str], first_line: int, lines: list[str]) -> LoadError:
    """The field whose quote runs to the end of the file: the record's last field."""
    fields = _lenient_fields(lines)
    line, column, note = _field_place(columns, first_line, fields, len(fields) - 1)
    return LoadError(
        path, f'a quoted field starts here{note} and its quote (") is never closed', line=line, column=column
    )


def _records(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every CSV record; a broken file raises LoadError at its line."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    line = 1
    with path.open("rb") as handle:
        if handle.read(len(BYTE_ORDER_MARK)) == BYTE_ORDER_MARK:
            raise LoadError(
                path, "the file starts with a UTF-8 byte-order mark (BOM): save it as UTF-8 without BOM", line=1
            )
        handle.seek(0)
        lines = _Lines(path, handle)
        reader = csv.reader(lines, strict=True)
        try:
            for fields in reader:
                lines.record.clear()
                yield line, fields
                line = reader.line_num + 1
        except _LineTooLongError as error:
            head = error.head.decode("utf-8", errors="replace")
            raise _too_long(path, columns, line, [*lines.record, head]) from error
        except csv.Error as error:
            if "field limit" in str(error):
                raise _too_long(path, columns, line, lines.record) from error
            if "unexpected end of data" in str(error):
                raise _never_closed(path, columns, line, lines.record) from error
            raise LoadError(path, f"malformed row: {error}", line=line) from error


def header_problem(path: Path, fields: list[str], expected: list[str]) -> LoadError | None:
    """The header must be the dataset's columns, in order; the file's own first line is not echoed."""
    if fields == expected:
        return None
    at = next((i for i, (a, b) in enumerate(zip(fields, expected, strict=False)) if a != b), None)
    at = min(len(fields), len(expected)) if at is None else at
    if at < len(expected) and at < len(fields):
        detail = f"its field {at + 1} is not {expected[at]}"
    else:
        detail = f"it has {len(fields)} fields"
    return LoadError(
        path,
        f"the first line must be the header {','.join(expected)}; {detail}",
        line=1,
        column=expected[min(at, len(expected) - 1)],
    )


def scan_file(
    path: Path, dataset: Dataset, scenario_id: str, reference_keys: Mapping[str, frozenset[str]]
) -> LoadError | None:
    """The first row-level problem of the file (header, shape, type, range, null, identifier, value, key)."""
    expected = dataset.column_names
    try:
        for line, fields in _records(path, dataset.column_names):
            if line == 1:
                header = header_problem(path, fields, expected)
                if header is not None:
                    return header
                continue
            if len(fields) != len(expected):
                return LoadError(
                    path,
                    f"malformed row: {len(fields)} fields, expected {len(expected)} ({','.join(expected)})",
                    line=line,
                )
            for column, value in zip(dataset.columns, fields, strict=True):
                problem = _value_problem(column, value, dataset, scenario_id, reference_keys)
                if problem:
                    return LoadError(path, problem, line=line, column=column.name)
    except LoadError as error:
        return error
    return None


def find_time_zone(path: Path, dataset: Dataset) -> LoadError | None:
    """The first timestamp of the file written with a time-zone offset or suffix (the fast path only suspects it)."""
    positions = [(i, column) for i, column in enumerate(dataset.columns) if column.pg_type == "timestamp"]
    try:
        for line, fields in _records(path, dataset.column_names):
            if line == 1 or len(fields) != len(dataset.columns):
                continue
            for i, column in positions:
                value = fields[i]
                problem = _time_problem(column, value) if value else None
                if problem and "time-zone" in problem:
                    return LoadError(path, problem, line=line, column=column.name)
    except LoadError as error:
        return error
    return None


def find_value(path: Path, dataset: Dataset, column: str, value: str) -> int | None:
    """The line of the first record whose column holds the value."""
    index = dataset.column_names.index(column)
    for line, fields in _records(path, dataset.column_names):
        if line > 1 and len(fields) > index and fields[index] == value:
            return line
    return None


def find_duplicate(
    cursor: pg_cursor, path: Path, dataset: Dataset, existing: sql.Composable | None = None
) -> LoadError | None:
    """First line whose primary key repeats an earlier line of the file, or (with `existing`) a row already there."""
    scratch = sql.Identifier(f"diagnose__{dataset.name}")
    key = sql.SQL(", ").join(sql.Identifier(name) for name in dataset.primary_key)
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in dataset.column_names)
    cursor.execute(sql.SQL("drop table if exists {}").format(scratch))
    cursor.execute(
        sql.SQL("create temporary table {} as select {} from {} with no data").format(
            scratch, columns, sql.Identifier("raw", dataset.name)
        )
    )
    cursor.execute(sql.SQL("alter table {} add column record bigint generated always as identity").format(scratch))
    with path.open("rb") as handle:
        copy = sql.SQL("copy {} ({}) from stdin with (format csv, header true)").format(scratch, columns)
        cursor.copy_expert(copy.as_string(cursor), handle, size=1 << 20)
    cursor.execute(
        sql.SQL(
            "select record, first_record, {key} from ("
            " select record, {key}, min(record) over (partition by {key}) as first_record,"
            " row_number() over (partition by {key} order by record) as occurrence from {scratch}"
            ") as numbered where occurrence = 2 order by record limit 1"
        ).format(key=key, scratch=scratch)
    )
    row = cursor.fetchone()
    key_text = ", ".join(dataset.primary_key)
    if row is not None:
        values = ", ".join(map(str, row[2:]))
        return LoadError(
            path,
            f"duplicate id: ({key_text}) = ({values}) already on line {row[1] + 1}",
            line=row[0] + 1,
            column=dataset.primary_key[-1],
        )
    if existing is not None:
        cursor.execute(
            sql.SQL(
                "select s.record, {s_key} from {scratch} as s join {existing} as e using ({key}) "
                "order by s.record limit 1"
            ).format(
                s_key=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(n)) for n in dataset.primary_key),
                scratch=scratch,
                existing=existing,
                key=key,
            )
        )
        row = cursor.fetchone()
        if row is not None:
            values = ", ".join(map(str, row[1:]))
            return LoadError(
                path,
                f"duplicate id: ({key_text}) = ({values}) was loaded by an earlier batch of the scenario",
                line=row[0] + 1,
                column=dataset.primary_key[-1],
            )
    return None


def from_postgres(path: Path, error: psycopg2.Error) -> LoadError:
    """Last resort: PostgreSQL's own message, whose context names the COPY line (and column for type errors)."""
    diag = error.diag
    context = diag.context or ""
    line = PG_LINE.search(context)
    column = diag.column_name or (PG_COLUMN.search(context).group(1) if PG_COLUMN.search(context) else None)
    problem = (diag.message_primary or str(error)).strip()
    # The loader's CHECK constraints are named <dataset>__<column>__<rule>.
    parts = (diag.constraint_name or "").split("__")
    if len(parts) == 3 and parts[2] in RULES:
        column = column or parts[1]
        problem = f"{RULES[parts[2]]} ({problem})"
    elif diag.message_detail:
        problem += f" ({diag.message_detail.strip()})"
    return LoadError(path, problem, line=int(line.group(1)) if line else None, column=column)
