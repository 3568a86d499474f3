{#-
    The production day starts with the plant's first shift (06:00 in seeds/shifts.csv; the shifts run 06-14,
    14-22 and 22-06) and lasts 24 hours: the offset from midnight to that start, as one row. A model that dates events to production
    days selects it as a CTE from its import of the shifts; this is the only place the rule is written.
-#}
{% macro production_day_start(shifts) -%}
    {{ return(adapter.dispatch('production_day_start', 'queijaria_pcp')(shifts)) }}
{%- endmacro %}

{% macro postgres__production_day_start(shifts) -%}
    select min({{ shifts }}.start_time) - time '00:00' as day_start_offset
    from {{ shifts }}
{%- endmacro %}

{#- Spark has no time type: the shift's start is its 'HH:MM:SS' text (stg_reference__shifts), made an interval. -#}
{% macro spark__production_day_start(shifts) -%}
    select
        make_dt_interval(
            0,
            cast(substr(min({{ shifts }}.start_time), 1, 2) as int),
            cast(substr(min({{ shifts }}.start_time), 4, 2) as int),
            0
        ) as day_start_offset
    from {{ shifts }}
{%- endmacro %}
