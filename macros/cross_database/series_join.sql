{#-
    One row per value from start to stop (both included) by step, joined to each row of the relation before it:
    a day of a lot's life, a year of a scenario's horizon. PostgreSQL: a lateral generate_series. Spark: a lateral
    view of the exploded sequence() (for dates and timestamps the step is a day-time interval, as on PostgreSQL).
    It stands where the join would: after the FROM relation and its joins, before WHERE.
-#}
{% macro series_join(start, stop, alias, column, step=none) -%}
    {{ return(adapter.dispatch('series_join', 'queijaria_pcp')(start, stop, alias, column, step)) }}
{%- endmacro %}

{% macro postgres__series_join(start, stop, alias, column, step) -%}
    cross join lateral generate_series(
        {{ start }},
        {{ stop }}{% if step is not none %},
        {{ step }}{% endif %}
    ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__series_join(start, stop, alias, column, step) -%}
    lateral view explode(sequence(
        {{ start }},
        {{ stop }}{% if step is not none %},
        {{ step }}{% endif %}
    )) {{ alias }} as {{ column }}
{%- endmacro %}
