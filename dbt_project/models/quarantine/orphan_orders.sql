-- Orders whose pet_id is unknown: no pets row for it has been loaded at all.
-- Listed here (the order's latest version) and kept out of marts.fills, with
-- the reason the pet is missing:
--   pet_within_grace      the warehouse has not yet seen deliveries up to the
--                         order's first delivery day + grace: the pet may still
--                         come (it often does a day or two after the order); a
--                         pet delivered later releases its orders on the next
--                         build
--   pet_before_partitions the grace is over, and the landing zone holds pets
--                         deliveries from before the first partition that were
--                         never loaded (raw.landing_files): the pet is likely in
--                         them; start the partitions at the first delivery day
--   pet_never_delivered   the grace is over and no pets delivery was left out:
--                         the pet never arrived

with orders as (

    select * from {{ ref('int_rx_orders_latest') }}

),

known_pets as (

    select distinct pet_id from {{ ref('int_pet_versions') }}

),

pets_left_out as (

    select count(*) > 0 as any_file
    from {{ ref('stg_landing_files') }}
    where extract = 'pets' and status = 'skipped' and reason = 'before_partitions'

),

final as (

    select
        'rx_orders' as extract,
        orders._dt,
        orders._file,
        orders._line,
        case
            when {{ last_delivery_day() }} < {{ add_days('orders.first_known_dt', var('pet_grace_days')) }}
                then 'pet_within_grace'
            when pets_left_out.any_file then 'pet_before_partitions'
            else 'pet_never_delivered'
        end as reason,
        orders.order_id,
        orders.pet_id,
        orders.rx_id,
        orders.customer_id,
        orders.status,
        orders.first_known_dt,
        {{ add_days('orders.first_known_dt', var('pet_grace_days')) }} as grace_ended_on

    from orders
    cross join pets_left_out
    where not exists (select 1 from known_pets where known_pets.pet_id = orders.pet_id)

)

select * from final
