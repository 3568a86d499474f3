"""Metabase's native-query templates: `{{tag}}` variables and `[[ ... ]]` clauses kept only when every tag in
them has a value. The same text runs in Metabase and, rendered here to bind parameters, in the preview and tests."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

TAG_PATTERN = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
OPTIONAL_PATTERN = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


class TemplateError(ValueError):
    """A query that needs a filter value it was not given."""


def template_tags(sql: str) -> tuple[str, ...]:
    """The tags in the order they first appear."""
    return tuple(dict.fromkeys(TAG_PATTERN.findall(sql)))


def render(sql: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SQL with `:tag` bind parameters (SQLAlchemy text()) and the parameters it uses."""

    def optional(match: re.Match[str]) -> str:
        clause = match.group(1)
        return clause if all(values.get(tag) is not None for tag in template_tags(clause)) else ""

    text = OPTIONAL_PATTERN.sub(optional, sql)
    used = template_tags(text)
    missing = [tag for tag in used if values.get(tag) is None]
    if missing:
        raise TemplateError(f"the query needs a value for {{{{{missing[0]}}}}}")
    return _bind(text), {tag: values[tag] for tag in used}


def extremes(sql: str) -> tuple[str, str]:
    """The SQL with every optional clause kept and with every one dropped, tags as bind parameters: what a
    static check reads besides the template itself (dropping a clause must not turn text into statements)."""
    kept = OPTIONAL_PATTERN.sub(lambda match: match.group(1), sql)
    dropped = OPTIONAL_PATTERN.sub("", sql)
    return _bind(kept), _bind(dropped)


def _bind(sql: str) -> str:
    return TAG_PATTERN.sub(lambda match: f":{match.group(1)}", sql)


def parse_value(kind: str, value: str) -> Any:
    """A filter value as text from the command line or a spec default, typed for its filter."""
    return dt.date.fromisoformat(value) if kind == "date" else value
