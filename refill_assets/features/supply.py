"""CTEs of the feature query: shipments, stock and vet reauthorizations (``frame``).

Every extract read from the staging models' rows (``staging.stg_*``: every delivered
row, as in the raw zone) delivered by D (``_dt <= D``), each row at its first
delivery. Lookups that depend only on (NDC or clinic, D) are made once per distinct
pair, not once per key.
"""

from __future__ import annotations

SUPPLY_CTES = """
shipping as (
    -- every event of the latest fill's shipments delivered by D
    select
        s._k,
        min(sh.promised_ship_date) as promised_ship_date,
        -- a shipped event without shipped_at still says it left: date it by the event
        min(coalesce(
            cast(sh.shipped_at as date),
            case when lower(trim(sh.status)) in ('shipped', 'delivered', 'returned', 'lost')
                then cast(sh.event_ts as date) end
        )) as shipped_date,
        bool_or(lower(trim(sh.status)) = 'backordered') as backordered
    from rx_state as s
    inner join staging.stg_shipments as sh
        on sh.order_id = s.last_order_id and sh._dt <= s.as_of_date
    group by s._k
),

inventory_rows as (
    -- a snapshot row at its first delivery (a re-delivery never rewrites the past)
    select ndc, snapshot_date, warehouse_id, on_hand_units, backordered,
        expected_restock_date, _dt
    from staging.stg_inventory
    qualify row_number() over (
        partition by snapshot_date, warehouse_id, ndc order by _dt, _file, _line
    ) = 1
),

inventory_snapshots as (
    -- per NDC and snapshot day over warehouses, known once all its rows are
    select
        ndc, snapshot_date,
        max(_dt) as known_from,
        sum(on_hand_units) as on_hand_units,
        bool_or(backordered) as backordered,
        coalesce(
            min(expected_restock_date) filter (backordered), min(expected_restock_date)
        ) as expected_restock_date
    from inventory_rows
    group by ndc, snapshot_date
),

inventory_known as (
    -- from each delivery day on, the newest snapshot known; an older snapshot
    -- delivered late never replaces a newer one
    select * from inventory_snapshots
    qualify row_number() over (partition by ndc, known_from order by snapshot_date desc) = 1
        and snapshot_date > coalesce(
            max(snapshot_date) over (
                partition by ndc order by known_from
                rows between unbounded preceding and 1 preceding
            ),
            date '0001-01-01'
        )
),

inventory_at as (
    -- the NDC's stock as known on D
    select p.ndc, p.as_of_date, inv.backordered, inv.on_hand_units, inv.expected_restock_date
    from (select distinct ndc, as_of_date from rx_state) as p
    asof inner join inventory_known as inv
        on inv.ndc = p.ndc and inv.known_from <= p.as_of_date
),

reauth_known as (
    -- the version of each reauthorization of the rx that is the latest delivered by D
    select k._k, lower(trim(r.status)) as status, r.requested_at, r.expires_on
    from _feature_keys as k
    inner join staging.stg_vet_reauth as r on r.rx_id = k.rx_id and r._dt <= k.as_of_date
    qualify row_number() over (
        partition by k._k, r.reauth_id
        order by r.updated_at desc, r._dt desc, r._file desc, r._line desc
    ) = 1
),

reauth as (
    select
        _k,
        bool_or(status = 'pending') as reauth_pending,
        cast(max(requested_at) filter (status = 'pending') as date) as pending_since,
        arg_max(expires_on, requested_at) filter (status = 'approved') as auth_expires_on
    from reauth_known
    group by _k
),

clinic_answers as (
    -- each request at the first delivery of its answer
    select clinic_id, _dt as known_from,
        date_diff('second', requested_at, responded_at) / 86400.0 as lead_days
    from staging.stg_vet_reauth
    where responded_at is not null
    qualify row_number() over (partition by reauth_id order by _dt, updated_at, _file, _line) = 1
),

clinic_lead as (
    -- running mean lead time of each clinic, from each delivery day on
    select clinic_id, known_from,
        sum(sum(lead_days)) over w / sum(count(*)) over w as lead_days
    from clinic_answers
    where clinic_id is not null
    group by clinic_id, known_from
    window w as (partition by clinic_id order by known_from)
),

clinic_at as (
    -- the clinic's running mean lead time as known on D
    select p.clinic_id, p.as_of_date, cl.lead_days
    from (select distinct clinic_id, as_of_date from rx_state) as p
    asof inner join clinic_lead as cl
        on cl.clinic_id = p.clinic_id and cl.known_from <= p.as_of_date
)
"""
