"""The slow path: after PostgreSQL refused a file, find the first offending line and column and say what is wrong.

The fast path leaves all checks to PostgreSQL (COPY parses the types; NOT NULL, CHECK and primary-key constraints
judge the rows). Only when it fails does this module read the file again, in Python, to name the exact line and
column; duplicates are found in SQL, with the line numbers kept by an identity column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

from queijaria.datasets import Column, Dataset
from queijaria.loading.errors import LoadError

BOOLEANS = {"true", "false", "t", "f", "yes", "no", "y", "n", "on", "off", "1", "0"}
INTEGER = re.compile(r"\s*[+-]?\d+\s*")
PG_LINE = re.compile(r"line (\d+)")
PG_COLUMN = re.compile(r"column (\w+)")


def _type_problem(column: Column, value: str) -> str | None:
    """Why the text is not a value of the column's type (None when it is)."""
    kind = column.pg_type
    try:
        if kind in ("integer", "bigint", "smallint"):
            if not INTEGER.fullmatch(value) or abs(int(value)) >= 2**31:
                return f"{value!r} is not an integer"
        elif kind == "numeric":
            if not Decimal(value.strip()).is_finite():
                return f"{value!r} is not a finite number"
        elif kind == "double precision":
            float(value)
        elif kind == "timestamp":
            datetime.fromisoformat(value.strip())
        elif kind == "date":
            date.fromisoformat(value.strip())
        elif kind == "boolean" and value.strip().lower() not in BOOLEANS:
            return f"{value!r} is not a boolean (true/false)"
    except (ValueError, InvalidOperation):
        expected = {
            "numeric": "a number",
            "double precision": "a number",
            "timestamp": "a timestamp (YYYY-MM-DD HH:MM:SS)",
            "date": "a date (YYYY-MM-DD)",
        }.get(kind, kind)
        return f"{value!r} is not {expected}"
    return None


def _value_problem(
    column: Column, value: str, dataset: Dataset, scenario_id: str, reference_keys: Mapping[str, frozenset[str]]
) -> str | None:
    if value == "":
        return None if column.nullable else "missing value (empty field) in a column that may not be null"
    problem = _type_problem(column, value)
    if problem:
        return f"wrong type: {problem} ({column.pg_type})"
    if column.non_negative and Decimal(value.strip()) < 0:
        return f"negative quantity {value} (must be >= 0)"
    allowed = dataset.accepted_values.get(column.name)
    if allowed is not None and value not in allowed:
        return f"{value!r} is not an accepted value ({', '.join(allowed)})"
    if column.name == "scenario_id" and value != scenario_id:
        return f"scenario_id {value!r} in a batch of scenario {scenario_id!r}"
    if column.references and value not in reference_keys[column.name]:
        table, key = column.references
        return f"unknown key {value!r}: not a {key} of seeds/{table}.csv"
    return None


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every CSV record; a broken file raises LoadError at its line."""
    line = 1
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, strict=True)
            for fields in reader:
                yield line, fields
                line = reader.line_num + 1
    except csv.Error as error:
        raise LoadError(path, f"malformed row: {error}", line=line) from error
    except UnicodeDecodeError as error:
        with path.open("rb") as handle:
            bad_line = handle.read(error.start).count(b"\n") + 1 if error.start < 2**31 else None
        raise LoadError(path, f"not UTF-8: {error.reason}", line=bad_line) from error


def scan_file(
    path: Path, dataset: Dataset, scenario_id: str, reference_keys: Mapping[str, frozenset[str]]
) -> LoadError | None:
    """The first row-level problem of the file (header, shape, type, null, sign, accepted value, key)."""
    expected = dataset.column_names
    try:
        for line, fields in _records(path):
            if line == 1:
                if fields != expected:
                    at = next((i for i, (a, b) in enumerate(zip(fields, expected, strict=False)) if a != b), None)
                    at = min(len(fields), len(expected)) if at is None else at
                    column = expected[at] if at < len(expected) else fields[at]
                    return LoadError(
                        path, f"header must be {','.join(expected)}; found {','.join(fields)}", line=1, column=column
                    )
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
    if diag.message_detail:
        problem += f" ({diag.message_detail.strip()})"
    return LoadError(path, problem, line=int(line.group(1)) if line else None, column=column)
