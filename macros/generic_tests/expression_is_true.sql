{#-
    dbt_utils.expression_is_true, same name, arguments and semantics: the rows where the expression is false.
    A null result is not a failure (`where not (expression)`); a column that must not be null needs its own
    not_null test. As a column test (column_name set), the expression is appended to the column.
    Filter rows with dbt's own `config: where:`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    select {{ '*' if should_store_failures() else '1' }}
    from {{ model }}
    {%- if column_name is none %}
    where not ({{ expression }})
    {%- else %}
    where not ({{ column_name }} {{ expression }})
    {%- endif %}
{% endtest %}
