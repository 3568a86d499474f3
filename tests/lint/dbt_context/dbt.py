"""dbt's cross-database macros that the models call, as dbt-postgres renders them."""


def type_string() -> str:
    return "text"
