{#-
    The incremental materialization on PostgreSQL, with a lean path for the common incremental run.

    dbt's own materialization spends about 0.25 s of Python and catalog round trips on every incremental run
    (four information_schema reads for the schema checks, a temporary table, then the strategy's statements),
    whatever the size of the new data: more than the whole one-day run of the stock reservation model
    (measured in `make bench`). For an incremental run of a delete+insert model with on_schema_change='fail'
    and nothing else configured, this does the same work in one round trip:

    1. the model's rows into a temporary table;
    2. the schema check of on_schema_change='fail', done by the server: the columns (names, order and types)
       of the new rows must equal the table's, otherwise the run fails with dbt's advice (full refresh);
    3. delete the table's rows whose unique key comes again, insert the new rows (dbt's delete+insert).

    Everything else (first build, --full-refresh, other strategies or schema-change policies, hooks, grants,
    persist_docs, contracts, incremental predicates, composite keys) is dbt's own materialization, unchanged.
-#}
{% materialization incremental, adapter='postgres' -%}

    {#- Python calls, not dbt's macros: each macro a run calls is compiled first, and on a run of one model that
        costs more than the SQL below. Same logic as load_cached_relation() and should_full_refresh(). -#}
    {%- set existing_relation = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set full_refresh = config.get('full_refresh') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set contract_config = config.get('contract') -%}
    {%- set lean = (
        existing_relation is not none
        and not existing_relation.is_view
        and not (flags.FULL_REFRESH if full_refresh is none else full_refresh)
        and config.get('incremental_strategy') == 'delete+insert'
        and config.get('on_schema_change') == 'fail'
        and unique_key is string
        and not pre_hooks
        and not post_hooks
        and not config.get('grants')
        and not config.get('persist_docs')
        and not (config.get('incremental_predicates') or config.get('predicates'))
        and not (contract_config and contract_config.enforced)
    ) -%}
    {%- if not lean -%}
        {{ return(dbt.materialization_incremental_default()) }}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {#- Temporary tables live in the session and this one goes at commit: a fixed name cannot collide. -#}
    {%- set temp_relation = api.Relation.create(identifier=this.identifier ~ '__dbt_tmp', type='table') -%}

    {% call statement('main') %}
        create temporary table {{ temp_relation }} on commit drop as (
            {{ sql }}
        );

        do $check_schema$
        declare
            new_columns text;
            table_columns text;
        begin
            select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' order by attnum)
            into new_columns
            from pg_attribute
            where attrelid = '{{ temp_relation }}'::regclass and attnum > 0 and not attisdropped;

            select string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' order by attnum)
            into table_columns
            from pg_attribute
            where attrelid = '{{ target_relation }}'::regclass and attnum > 0 and not attisdropped;

            if new_columns is distinct from table_columns then
                raise exception using
                    message = 'The source and target schemas on this incremental model are out of sync '
                        || '(on_schema_change=''fail''). New rows: (' || new_columns || '); '
                        || '{{ target_relation }}: (' || table_columns || ').',
                    hint = 'Re-run it with --full-refresh: dbt build --full-refresh -s {{ model.name }}';
            end if;
        end
        $check_schema$;

        delete from {{ target_relation }} as target
        using {{ temp_relation }} as new_rows
        where target.{{ unique_key }} = new_rows.{{ unique_key }};

        -- Same columns in the same order (checked above).
        insert into {{ target_relation }}
        select * from {{ temp_relation }};
    {% endcall %}

    {% do adapter.commit() %}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}
