{#-
    Whole days from one date to another (0 on the same day). PostgreSQL subtracts dates into an integer; Spark's
    date difference is an interval, and datediff() its days.
-#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'queijaria_pcp')(start_date, end_date)) }}
{%- endmacro %}

{% macro postgres__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
