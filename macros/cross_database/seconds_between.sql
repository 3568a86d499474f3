{#-
    Seconds from one timestamp to another, with their fraction. PostgreSQL: the epoch of the interval between
    them. Spark has no epoch of an interval: the difference of their microseconds since the epoch.
-#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'queijaria_pcp')(start_at, end_at)) }}
{%- endmacro %}

{% macro postgres__seconds_between(start_at, end_at) -%}
    extract(epoch from ({{ end_at }} - {{ start_at }}))
{%- endmacro %}

{% macro spark__seconds_between(start_at, end_at) -%}
    ((unix_micros({{ end_at }}) - unix_micros({{ start_at }})) / 1000000.0)
{%- endmacro %}
