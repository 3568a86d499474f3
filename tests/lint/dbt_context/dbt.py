"""dbt's cross-database type macros as dbt-postgres renders them."""


def type_string() -> str:
    return "text"


def type_timestamp() -> str:
    return "timestamp"


def type_int() -> str:
    return "integer"


def type_bigint() -> str:
    return "bigint"


def type_float() -> str:
    return "float"


def type_boolean() -> str:
    return "boolean"
