{#-
    dbt_utils.safe_divide, same name and semantics: the quotient, or null when the denominator is zero or null
    (DOMAIN.md §4: a ratio with a zero denominator is undefined, neither 0 nor an error).
-#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
