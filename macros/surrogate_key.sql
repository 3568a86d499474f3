{#-
    dbt_utils.generate_surrogate_key, same recipe and result: md5 of the columns cast to the string type, a null
    replaced by '_dbt_utils_surrogate_key_null_', joined with '-'. (dbt_utils' var
    surrogate_key_treat_nulls_as_empty_strings is not offered: its default, false, is what this does.)
-#}
{% macro surrogate_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '_dbt_utils_surrogate_key_null_'){% if not loop.last %} || '-' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
