{#-
    Column types that PostgreSQL and Spark spell differently, where dbt's own macros (dbt.type_string() for text)
    do not say the same thing on both.

    type_decimal(): an exact decimal. On PostgreSQL `numeric`, unconstrained, as the raw tables keep it. Spark's
    `numeric` without precision is decimal(10,0), which would round every quantity to a whole number; there, every
    decimal is decimal(18,6), the type of Spark's raw tables (queijaria/spark/loader.py): exact to 6 decimals (the
    data has at most 4), below 10^12. Not wider: Spark keeps the product of two decimal(18,6) exact (decimal(37,12));
    that of two decimal(24,6) exceeds its 38 digits, and Spark rounds it to 6 places (a cost summed over an order's
    issues then differed from PostgreSQL's in the sixth decimal).
-#}
{% macro type_decimal() -%}
    {{ return(adapter.dispatch('type_decimal', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro postgres__type_decimal() -%}numeric{%- endmacro %}

{% macro spark__type_decimal() -%}decimal(18,6){%- endmacro %}


{#- A load's id: a uuid column on PostgreSQL, its text on Spark (which has no uuid type). -#}
{% macro type_uuid() -%}
    {{ return(adapter.dispatch('type_uuid', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro postgres__type_uuid() -%}uuid{%- endmacro %}

{% macro spark__type_uuid() -%}string{%- endmacro %}


{#- A double-precision float. dbt's dbt.type_float() is `float`: double precision on PostgreSQL, but 32 bits on
    Spark (89.42 comes back as 89.419998). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'queijaria_pcp')()) }}
{%- endmacro %}

{% macro postgres__type_double() -%}double precision{%- endmacro %}

{% macro spark__type_double() -%}double{%- endmacro %}
