{#-
    Post-hook of every model: ANALYZE the table it just built, so that the models built on it in the same run are
    planned on its statistics.

    PostgreSQL gathers a table's statistics when autovacuum comes round to it, seconds to minutes after a bulk
    write: a model that reads a table built a moment before is planned blind (no row counts, no distributions).
    Measured on the plant-year of five scenarios: fct_maintenance_events' insert took 9.9 s in `dbt build` and
    0.1 s run alone a minute later, on the same rows, because int_line_days_scheduled had no statistics yet.
    Sampling is bounded (default_statistics_target: 30,000 rows a table), so it costs milliseconds to a fraction of
    a second, also after an incremental run. Views have no statistics of their own: nothing to do for them.
-#}
{% macro postgres__analyze_built_table() %}
    {%- if execute and model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}


{#- Spark plans from the files' own footers (row counts, column ranges); nothing to gather after a build. -#}
{% macro analyze_built_table() -%}
    {{ return(adapter.dispatch('analyze_built_table', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro spark__analyze_built_table() -%}{%- endmacro %}
