{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ delete_partition_window('snapshot_date', ref('int_inventory_deduped')) }}",
    )
}}

-- Per snapshot day and NDC: stock summed over warehouses. A run rebuilds the
-- snapshot days of the window and the snapshot days of rows delivered in it.

with inventory as (

    select * from {{ ref('int_inventory_deduped') }}

),

days_to_build as (

    select distinct snapshot_date
    from inventory
    where {{ in_partition_window('snapshot_date') }}
        or {{ in_partition_window('_dt') }}

),

final as (

    select
        inventory.snapshot_date,
        inventory.ndc,
        count(*) as warehouse_count,
        {{ sum_integers('inventory.on_hand_units') }} as on_hand_units,
        {{ dbt.bool_or('inventory.backordered') }} as any_backordered,
        count(*) filter (where inventory.backordered) as backordered_warehouse_count,
        coalesce(
            min(inventory.expected_restock_date) filter (where inventory.backordered),
            min(inventory.expected_restock_date)
        ) as expected_restock_date

    from inventory
    where exists (
        select 1 from days_to_build where days_to_build.snapshot_date = inventory.snapshot_date
    )
    group by inventory.snapshot_date, inventory.ndc

)

select * from final
