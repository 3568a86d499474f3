{#- Rows whose value is NaN, Infinity or -Infinity (nulls are not judged); for numeric and double precision columns.
    PostgreSQL sorts NaN above every number: accepted_range with only min_value passes it, and so do sums. -#}
{% test is_finite(model, column_name, where=none) %}
    select *
    from {{ model }}
    where {{ column_name }} in ('NaN', 'Infinity', '-Infinity')
        {%- if where %} and ({{ where }}){% endif %}
{% endtest %}
