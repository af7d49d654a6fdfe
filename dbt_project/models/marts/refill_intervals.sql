{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('rx_id', changed_rx()) }}",
        post_hook=["{{ move_data_end() }}", "{{ record_watermark() }}"],
    )
}}
-- depends_on: {{ ref('int_rx_order_versions') }}

-- Per fill: the next fill of the same prescription and the refill labels.
-- The label logic is written down in marts/schema.yml (model description).

with fills as (

    select * from {{ ref('fills') }}
    where {{ is_changed('rx_id') }}

),

data_end as (

    -- the data ends at the last fill date in the warehouse
    select max(fill_date) as data_end_date from {{ ref('fills') }}

),

sequenced as (

    select
        fills.*,
        row_number() over rx_fills as fill_seq,
        lead(fills.order_id) over rx_fills as next_order_id,
        lead(fills.fill_date) over rx_fills as next_fill_date

    from fills
    window rx_fills as (
        partition by fills.rx_id
        order by fills.fill_date nulls last, fills.order_ts nulls last, fills.order_id nulls last
    )

),

labelled as (

    select
        sequenced.*,
        data_end.data_end_date,
        {{ add_days('sequenced.fill_date', 'sequenced.effective_days_supply') }} as runout_date,
        {{ dbt.datediff('sequenced.fill_date', 'sequenced.next_fill_date', 'day') }} as days_to_next_fill

    from sequenced
    cross join data_end

),

final as (

    select
        order_id,
        rx_id,
        pet_id,
        customer_id,
        ndc,
        drug_class,
        is_maintenance,
        is_partial,
        fill_seq,
        fill_date,
        known_from,
        effective_days_supply,
        next_order_id,
        next_fill_date,
        days_to_next_fill,
        {{ fraction('days_to_next_fill', 'nullif(effective_days_supply, 0)') }} as gap_ratio,
        next_fill_date is null as is_censored,
        case when next_fill_date is null then data_end_date end as data_end_date,
        {{ duration_days('fill_date', 'days_to_next_fill', 'data_end_date') }} as duration_days,
        runout_date,
        {{ dbt.datediff('fill_date', 'runout_date', 'day') }} as days_to_runout,
        {{ dbt.datediff('runout_date', 'next_fill_date', 'day') }} as days_from_runout_to_next_fill,
        {{ add_days('runout_date', var('lapse_days')) }} as lapse_deadline,
        {{ is_lapse('runout_date', 'next_fill_date', 'data_end_date') }} as is_lapse

    from labelled

)

select * from final
