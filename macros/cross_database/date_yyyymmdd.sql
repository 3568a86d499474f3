{#- A date as its eight digits (20260107), for ids built from a date. -#}
{% macro date_yyyymmdd(date) -%}
    {{ return(adapter.dispatch('date_yyyymmdd', 'queijaria_pcp')(date)) }}
{%- endmacro %}

{% macro postgres__date_yyyymmdd(date) -%}
    to_char({{ date }}, 'YYYYMMDD')
{%- endmacro %}

{% macro spark__date_yyyymmdd(date) -%}
    date_format({{ date }}, 'yyyyMMdd')
{%- endmacro %}
