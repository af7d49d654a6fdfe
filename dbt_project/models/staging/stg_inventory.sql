-- inventory: one row per snapshot day, warehouse and NDC (a snapshot
-- delivered twice keeps its latest delivery).

with source as (

    select * from {{ source('raw', 'inventory') }}

),

ranked as (

    select
        *,
        {{ version_rank("snapshot_date, warehouse_id, " ~ normalise_ndc('ndc')) }} as version_rank

    from source

),

final as (

    select
        snapshot_date,
        warehouse_id,
        {{ normalise_ndc('ndc') }} as ndc,
        on_hand_units,
        backordered,
        expected_restock_date,
        _dt,
        _file,
        _line

    from ranked
    where version_rank = 1

)

select * from final
