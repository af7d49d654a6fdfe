-- Orders whose pet_id is still unknown once the grace period has passed: no
-- pets row for the pet_id has been delivered at all, and the warehouse has
-- seen deliveries up to at least the order's first delivery day + grace.
-- Listed here (the order's latest version) and kept out of marts.fills.
-- Orders still inside the grace window are in neither (they wait); a pet
-- delivered later releases its orders on the next build.

with orders as (

    select * from {{ ref('int_rx_orders_latest') }}

),

known_pets as (

    select distinct pet_id from {{ ref('int_pet_versions') }}

),

final as (

    select
        'rx_orders' as extract,
        orders._dt,
        orders._file,
        orders._line,
        'pet_id unknown after {{ var("pet_grace_days") }}-day grace' as reason,
        orders.order_id,
        orders.pet_id,
        orders.rx_id,
        orders.customer_id,
        orders.status,
        orders.first_known_dt,
        orders.first_known_dt + {{ var("pet_grace_days") }} as grace_ended_on

    from orders
    anti join known_pets
        on orders.pet_id = known_pets.pet_id
    where {{ last_delivery_day() }} >= orders.first_known_dt + {{ var("pet_grace_days") }}

)

select * from final
