{#-
    Layers get plain schema names (staging, intermediate, marts, reference) so that Metabase and
    psql users find `marts.fct_...` without a target prefix; a model without a custom schema lands
    in the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
