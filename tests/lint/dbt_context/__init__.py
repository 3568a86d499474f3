"""What sqlfluff's jinja templater needs to lint models that call dbt's cross-database macros (`dbt.type_string()`)
and the project's `adapter.dispatch` macros, without compiling the project or reaching a database.

.sqlfluff loads this package as its `library_path`: its submodules `dbt` and `adapter` become the names `dbt` and
`adapter` of the lint context. Linting reads the PostgreSQL SQL, the implementation the project's style rules are
written for.
"""
