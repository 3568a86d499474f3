{#-
    A time of day of a seed (a shift's start, a tariff period's end). PostgreSQL keeps it as `time`. Spark has no
    time type: the seed holds its 'HH:MM' text, given back as 'HH:MM:SS', the text of PostgreSQL's time.
-#}
{% macro seed_time_of_day(column) -%}
    {{ return(adapter.dispatch('seed_time_of_day', 'queijaria_pcp')(column)) }}
{%- endmacro %}

{% macro postgres__seed_time_of_day(column) -%}
    {{ column }}
{%- endmacro %}

{% macro spark__seed_time_of_day(column) -%}
    date_format(to_timestamp({{ column }}, 'H:mm'), 'HH:mm:ss')
{%- endmacro %}
