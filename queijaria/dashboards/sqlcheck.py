"""What a card's SQL may be: one SELECT that reads the marts schema only and calls no function that reaches
past it (files, other sessions, settings, queries in strings).

This is the static layer of three (the others: a read-only transaction with a statement timeout, and the
read-only role; queries.py). It lexes like PostgreSQL with standard_conforming_strings on (queries.py sets it
for every connection): a general-purpose splitter such as sqlparse reads `'\\'` as an escaped quote, so
`select '\\'; update ...; --'` looks like one statement to it and is three to the server.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

MARTS_SCHEMA = "marts"
# The only schema a card may name a function in: pg_catalog holds the built-in ones.
FUNCTION_SCHEMA = "pg_catalog"
# Server files and programs, other sessions, locks, settings, sequences, large objects, and functions that run
# a query given as text (which would read any relation past the checks below).
FORBIDDEN_FUNCTION = re.compile(
    r"^(pg_|lo_|loread$|lowrite$|dblink|txid_|brin_|gin_|binary_upgrade_|set_config$|current_setting$|nextval$"
    r"|setval$|currval$|lastval$|ts_stat$|ts_rewrite$|.*_to_xml)"
)
# Write or create from inside a SELECT: data-modifying CTEs, SELECT INTO, row locks (FOR UPDATE).
FORBIDDEN_WORDS = frozenset({"insert", "update", "delete", "merge", "into"})
QUERY_STARTS = frozenset({"select", "with", "values"})
# Keywords that end a FROM list at their nesting level.
FROM_LIST_ENDS = frozenset(
    {"where", "group", "having", "window", "order", "limit", "offset", "fetch", "for", "union", "intersect", "except"}
)
# Words at a relation's place that introduce it rather than name it (TABLE name is SELECT * FROM name).
RELATION_PREFIXES = frozenset({"lateral", "only", "table"})
TEMPLATE_MARKERS = ("{{", "}}", "[[", "]]")
DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
NUMBER = re.compile(r"0[xXoObB][0-9A-Fa-f_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?")
# PostgreSQL's whitespace; any other non-ASCII character (a no-break space too) belongs to an identifier.
WHITESPACE = frozenset(" \t\n\r\f\v")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
STRING_PREFIXES = frozenset({"e", "b", "x", "n"})


class UnsafeSqlError(ValueError):
    """SQL a card may not run; the message says what and how to write it instead."""


@dataclass(frozen=True)
class Token:
    # word (unquoted, lowercased as PostgreSQL does), quoted (identifier), string, comment, number, or symbol
    kind: str
    value: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and (not words or self.value in words)

    def is_symbol(self, symbol: str) -> bool:
        return self.kind == "symbol" and self.value == symbol

    @property
    def is_name(self) -> bool:
        return self.kind in ("word", "quoted")


def tokens(sql: str) -> list[Token]:
    """PostgreSQL's lexical structure (chapter 4.1), comments kept as tokens."""
    return list(_lex(sql))


def _lex(sql: str) -> Iterator[Token]:
    index, length = 0, len(sql)
    while index < length:
        char = sql[index]
        if char in WHITESPACE:
            index += 1
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            end = length if end < 0 else end
            yield Token("comment", sql[index:end])
            index = end
        elif sql.startswith("/*", index):
            end = _block_comment_end(sql, index)
            yield Token("comment", sql[index:end])
            index = end
        elif char == "'":
            end = _string_end(sql, index + 1, escapes=False)
            yield Token("string", sql[index:end])
            index = end
        elif char == '"':
            end = _quoted_end(sql, index + 1)
            yield Token("quoted", sql[index + 1 : end - 1].replace('""', '"'))
            index = end
        elif char == "$" and (tag := DOLLAR_TAG.match(sql, index)):
            closing = sql.find(tag.group(0), tag.end())
            if closing < 0:
                raise UnsafeSqlError(f"has an unclosed dollar-quoted string ({tag.group(0)})")
            end = closing + len(tag.group(0))
            yield Token("string", sql[index:end])
            index = end
        elif char.isalpha() or char == "_" or ord(char) > 127:
            index = yield from _word(sql, index)
        elif number := NUMBER.match(sql, index):
            yield Token("number", number.group(0))
            index = number.end()
        else:
            yield Token("symbol", char)
            index += 1


def _word(sql: str, start: int) -> Generator[Token, None, int]:
    """An identifier or keyword, or the prefix of E'...', B'...', X'...', N'...' (U&... is refused)."""
    index = start
    while index < len(sql) and (sql[index].isalnum() or sql[index] in "_$" or ord(sql[index]) > 127):
        index += 1
    word = sql[start:index].translate(ASCII_LOWER)
    following = sql[index : index + 2]
    if word == "u" and following in ("&'", '&"'):
        raise UnsafeSqlError("has a U& (Unicode escape) string or name; write the characters themselves")
    if word in STRING_PREFIXES and following[:1] == "'":
        end = _string_end(sql, index + 1, escapes=word == "e")
        yield Token("string", sql[start:end])
        return end
    yield Token("word", word)
    return index


def _string_end(sql: str, index: int, escapes: bool) -> int:
    """The index after the closing quote: '' is a quote inside; a backslash escapes only in E'...'."""
    while index < len(sql):
        char = sql[index]
        if (escapes and char == "\\") or sql.startswith("''", index):
            index += 2
        elif char == "'":
            return index + 1
        else:
            index += 1
    raise UnsafeSqlError("has an unclosed string literal ('...')")


def _quoted_end(sql: str, index: int) -> int:
    while index < len(sql):
        if sql.startswith('""', index):
            index += 2
        elif sql[index] == '"':
            return index + 1
        else:
            index += 1
    raise UnsafeSqlError('has an unclosed quoted name ("...")')


def _block_comment_end(sql: str, index: int) -> int:
    """Block comments nest in PostgreSQL."""
    depth = 0
    while index < len(sql):
        if sql.startswith("/*", index):
            depth, index = depth + 1, index + 2
        elif sql.startswith("*/", index):
            depth, index = depth - 1, index + 2
            if depth == 0:
                return index
        else:
            index += 1
    raise UnsafeSqlError("has an unclosed /* comment")


def statements(sql: str) -> list[list[Token]]:
    """The statements, split at semicolons outside strings, identifiers and comments; comments dropped."""
    found: list[list[Token]] = [[]]
    for token in tokens(sql):
        if token.is_symbol(";"):
            found.append([])
        elif token.kind != "comment":
            found[-1].append(token)
    return [statement for statement in found if statement]


def check_card_sql(sql: str) -> tuple[str, ...]:
    """The marts tables the SQL reads (sorted), or UnsafeSqlError when it is not one marts-only SELECT."""
    found = statements(sql)
    if len(found) != 1:
        raise UnsafeSqlError(
            f"has {len(found)} statements; a card is exactly one SELECT (no `;` between statements)"
            if found
            else "has no statement"
        )
    statement = found[0]
    first = statement[0]
    if not (first.is_word(*QUERY_STARTS) or first.is_symbol("(")):
        raise UnsafeSqlError(f"starts with {first.value!r}; a card is one SELECT (or WITH ... SELECT) query")
    forbidden = next((token.value for token in statement if token.is_word(*FORBIDDEN_WORDS)), None)
    if forbidden:
        raise UnsafeSqlError(f"uses {forbidden.upper()}; a card only reads (no writes, SELECT INTO or row locks)")
    _check_functions(statement)
    return _check_relations(statement)


def check_template_markers(sql: str) -> None:
    """{{tag}} and [[...]] outside strings and comments only: removing an optional clause must not change
    where a string or comment ends, or the SQL that runs would differ from the SQL checked."""
    for token in tokens(sql):
        if token.kind in ("string", "comment", "quoted") and any(mark in token.value for mark in TEMPLATE_MARKERS):
            raise UnsafeSqlError(
                f"has a {{{{tag}}}} or [[...]] marker inside a {token.kind if token.kind != 'quoted' else 'name'} "
                f"({token.value[:40]!r}); put filters and optional clauses outside strings and comments"
            )


def _qualified_name(statement: list[Token], index: int) -> tuple[list[str], int]:
    """The parts of a dotted name starting at index (empty when none), and the index after it."""
    parts: list[str] = []
    while index < len(statement) and statement[index].is_name:
        parts.append(statement[index].value)
        index += 1
        if index + 1 < len(statement) and statement[index].is_symbol(".") and statement[index + 1].is_name:
            index += 1
            continue
        break
    return parts, index


def _check_functions(statement: list[Token]) -> None:
    index = 0
    while index < len(statement):
        parts, after = _qualified_name(statement, index)
        if not parts:
            index += 1
            continue
        if after < len(statement) and statement[after].is_symbol("("):
            name = parts[-1].translate(ASCII_LOWER)
            if len(parts) > 1 and parts[0] != FUNCTION_SCHEMA:
                raise UnsafeSqlError(
                    f"calls {'.'.join(parts)}(); cards call built-in functions only (no schema, or pg_catalog)"
                )
            if FORBIDDEN_FUNCTION.match(name):
                raise UnsafeSqlError(
                    f"calls {name}(), which reaches past the marts (server files, sessions, settings, or a query "
                    "in a string); cards may not call it"
                )
        index = after


@dataclass
class _Level:
    """One parenthesis level: is it a query (FROM is a FROM clause), inside its FROM list, at a relation's place?"""

    query: bool
    in_from: bool = False
    expecting: bool = False


def _check_relations(statement: list[Token]) -> tuple[str, ...]:
    ctes = _cte_names(statement)
    marts: set[str] = set()
    levels = [_Level(query=True)]
    index = 0
    while index < len(statement):
        token, level = statement[index], levels[-1]
        if token.is_symbol("("):
            # A parenthesis at a relation's place holds a subquery or a join of relations.
            levels.append(_Level(query=False, in_from=level.expecting, expecting=level.expecting))
            level.expecting = False
        elif token.is_symbol(")"):
            if len(levels) > 1:
                levels.pop()
        elif level.expecting and token.is_word(*RELATION_PREFIXES):
            pass
        elif level.expecting and token.is_word(*QUERY_STARTS):
            level.query, level.in_from, level.expecting = True, False, False
        elif level.expecting:
            level.expecting = False
            parts, after = _qualified_name(statement, index)
            if parts and not (after < len(statement) and statement[after].is_symbol("(")):
                marts.add(_mart(parts, ctes))
            index = max(after, index + 1)
            continue
        else:
            _follow_keyword(statement, index, level)
        index += 1
    marts.discard("")
    if not marts:
        raise UnsafeSqlError(f"reads no {MARTS_SCHEMA}.<table>")
    return tuple(sorted(marts))


def _follow_keyword(statement: list[Token], index: int, level: _Level) -> None:
    token = statement[index]
    if token.is_word("select"):
        level.query, level.in_from = True, False
    elif token.is_word("join") or (token.is_word("from") and level.query and not _is_distinct_from(statement, index)):
        level.in_from = level.expecting = True
    elif token.is_word("table"):
        level.expecting = True
    elif token.is_word(*FROM_LIST_ENDS):
        level.in_from = False
    elif token.is_symbol(",") and level.in_from:
        level.expecting = True


def _is_distinct_from(statement: list[Token], index: int) -> bool:
    """`a IS [NOT] DISTINCT FROM b` compares; its FROM starts no FROM clause."""
    return index >= 2 and statement[index - 1].is_word("distinct") and statement[index - 2].is_word("is", "not")


def _cte_names(statement: list[Token]) -> set[str]:
    """Names declared as `name [(columns)] AS [[NOT] MATERIALIZED] (`: the only relations a card may leave
    unqualified (an unqualified name that is no CTE would be looked up on the search_path)."""
    names = set()
    for index, token in enumerate(statement):
        if not token.is_name:
            continue
        after = index + 1
        if after < len(statement) and statement[after].is_symbol("("):
            after = _closing(statement, after) + 1
        if after < len(statement) and statement[after].is_word("as"):
            after += 1
            while after < len(statement) and statement[after].is_word("not", "materialized"):
                after += 1
            if after < len(statement) and statement[after].is_symbol("("):
                names.add(token.value)
    return names


def _closing(statement: list[Token], index: int) -> int:
    depth = 0
    for position in range(index, len(statement)):
        if statement[position].is_symbol("("):
            depth += 1
        elif statement[position].is_symbol(")"):
            depth -= 1
            if depth == 0:
                return position
    return len(statement)


def _mart(parts: list[str], ctes: set[str]) -> str:
    """The mart a relation reference names ("" for a CTE), or UnsafeSqlError for anything else."""
    if len(parts) == 1 and parts[0] in ctes:
        return ""
    if len(parts) == 2 and parts[0] == MARTS_SCHEMA:
        return parts[1]
    raise UnsafeSqlError(
        f"reads {'.'.join(parts)}; cards read the {MARTS_SCHEMA} schema only (write {MARTS_SCHEMA}.<table>)"
    )
