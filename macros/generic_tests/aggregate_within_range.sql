{#-
    Groups whose aggregate lies outside [min_value, max_value] (bounds optional), one row per failing group.

    `expression` is an aggregate over the group's rows, e.g. `sum(apt_min) / nullif(sum(pbt_min), 0)`: ratios are
    judged as Σ numerator / Σ denominator, never as an average of daily ratios. A null aggregate fails (a KPI that
    cannot be computed is not within a range). `judged_when` is an optional aggregate condition a group must meet
    to be judged, e.g. `count(distinct production_date) >= 365` for the realistic ranges of DOMAIN.md §4, which
    hold over a plant-year and not over a week; a group not judged returns no row. The model's `where` config
    selects the rows (e.g. the baseline scenario).
-#}
{% test aggregate_within_range(model, expression, group_by=[], min_value=none, max_value=none, judged_when=none) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("aggregate_within_range needs min_value, max_value or both") }}
    {%- endif -%}

    with

    groups as (

        select
            {%- for column in group_by %}
            {{ column }},
            {%- endfor %}
            {{ expression }} as aggregate_value
        from {{ model }}
        {%- if group_by %}
        group by {{ group_by | join(', ') }}
        {%- endif %}
        {%- if judged_when %}
        having {{ judged_when }}
        {%- endif %}

    ),

    final as (

        select * from groups
        where
            aggregate_value is null
            {%- if min_value is not none %}
            or aggregate_value < {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            or aggregate_value > {{ max_value }}
            {%- endif %}

    )

    select * from final
{% endtest %}
