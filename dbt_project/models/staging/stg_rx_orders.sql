-- rx_orders: the latest version of each order (latest updated_at; ties broken
-- by later delivery day, then file, then line).

with versions as (

    select * from {{ ref('stg_rx_order_versions') }}

),

final as (

    -- every order column; the version bookkeeping stays in stg_rx_order_versions
    select * exclude (version_rank, valid_from, valid_to, is_never_current)
    from versions
    where version_rank = 1

)

select * from final
