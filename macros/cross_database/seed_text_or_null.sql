{#-
    A text column of a seed that may be empty. PostgreSQL's seeds load an empty cell as null. dbt-spark's `session`
    connection writes it as the text 'None' (dbt-labs/dbt-adapters#487, open: it formats the seed's values into
    the insert with Python's str()); the staging model of such a seed gives null back. No seed holds the word None.
-#}
{% macro seed_text_or_null(column) -%}
    {{ return(adapter.dispatch('seed_text_or_null', 'queijaria_pcp')(column)) }}
{%- endmacro %}

{% macro postgres__seed_text_or_null(column) -%}
    {{ column }}
{%- endmacro %}

{% macro spark__seed_text_or_null(column) -%}
    nullif({{ column }}, 'None')
{%- endmacro %}
