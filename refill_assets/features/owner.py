"""CTEs of the feature query: the pet, its owner and the owner's engagement (``frame``).

The pet through its version spans in intermediate.int_pet_versions; customers and
engagement events from the staging models' rows (``staging.stg_*``, every delivered row,
as in the raw zone) delivered by D, each at its first delivery.
"""

from __future__ import annotations

OWNER_CTES = """
pet_now as (
    -- the pet's version current on D
    select s._k, p.species, p.weight_kg, p.birth_date,
        p.species in ('dog', 'cat') and p.status not in ('deceased', 'transferred') as in_scope
    from rx_state as s
    inner join intermediate.int_pet_versions as p
        on p.pet_id = s.pet_id and p.valid_from <= s.as_of_date
        and s.as_of_date < coalesce(p.valid_to, date '9999-12-31')
    qualify row_number() over (partition by s._k order by p.valid_from desc, p.updated_at desc) = 1
),

customer_first as (
    select customer_id, cast(created_at as date) as created_date, _dt as known_from
    from staging.stg_customers
    qualify row_number() over (partition by customer_id order by _dt, updated_at, _file, _line) = 1
),

key_customers as materialized (
    select distinct customer_id from rx_state
),

engagement_running as materialized (
    -- messages per customer counted on the delivery day of each event's first
    -- delivery, summed up over the days; valid until the customer's next such day
    select customer_id, day,
        lead(day, 1, date '9999-12-31') over w as next_day,
        sum(sum(cast(event_type = 'sent' as int))) over w as sent,
        sum(sum(cast(event_type = 'open' as int))) over w as opened,
        sum(sum(cast(event_type = 'click' as int))) over w as clicked
    from (
        select any_value(customer_id) as customer_id,
            any_value(event_type) as event_type,
            min(_dt) as day
        from (
            select event_id, customer_id, lower(trim(event_type)) as event_type, _dt
            from staging.stg_engagement
            where _dt <= (select max(as_of_date) from _feature_keys)
        )
        semi join key_customers using (customer_id)
        where event_type in ('sent', 'open', 'click')
        group by event_id
    )
    group by customer_id, day
    window w as (partition by customer_id order by day)
),

engagement as (
    -- messages in the last 30 / 90 days: the running counts on D less those on D - 30, D - 90
    select s._k,
        coalesce(e0.sent, 0) - coalesce(e90.sent, 0) as eng_sent_90d,
        coalesce(e0.opened, 0) - coalesce(e30.opened, 0) as eng_open_30d,
        coalesce(e0.opened, 0) - coalesce(e90.opened, 0) as eng_open_90d,
        coalesce(e0.clicked, 0) - coalesce(e30.clicked, 0) as eng_click_30d,
        coalesce(e0.clicked, 0) - coalesce(e90.clicked, 0) as eng_click_90d
    from rx_state as s
    left join engagement_running as e0
        on e0.customer_id = s.customer_id and e0.day <= s.as_of_date and s.as_of_date < e0.next_day
    left join engagement_running as e30
        on e30.customer_id = s.customer_id and e30.day <= s.d30 and s.d30 < e30.next_day
    left join engagement_running as e90
        on e90.customer_id = s.customer_id and e90.day <= s.d90 and s.d90 < e90.next_day
    where s.customer_id is not null
)
"""
