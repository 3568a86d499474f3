"""`adapter.dispatch` resolved as dbt resolves it on PostgreSQL: the project's `postgres__` macro, else `default__`."""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    for prefix in ("postgres__", "default__"):
        macro = context.get(f"{prefix}{macro_name}")
        if macro is not None:
            return macro
    raise LookupError(f"no postgres__{macro_name} or default__{macro_name} macro in macros/")
