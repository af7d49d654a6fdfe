{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('rx_id', changed_rx()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- The days on which each prescription is an active maintenance prescription,
-- as spans [active_from, active_until): one row per span, not per day (a day
-- per row is ~57M rows for a large world; `active_maintenance_rx_daily`
-- expands spans on read). Day D is in a span when, as known on D (only rows
-- delivered with _dt <= D):
--   * the version of an order current on D is `filled` or `partial`, its drug
--     is maintenance (class `other` counts) and its fill date is in
--     (D - 180 days, D];
--   * the pet, in its version current on D, is a dog or a cat and not
--     deceased or transferred (a pet not yet delivered by D does not qualify).
-- The latest such fill per rx gives last_fill_date / last_days_supply.
-- Spans are not cut at the data end: the last span of an rx still active
-- runs to its fill date + 180 days, which only a later delivery can shorten
-- (the daily view stops at the last delivery day).
--
-- One set-based query, no per-day loop. Rather than joining every day with
-- every fill (rx x days x ~6 fills in 180 days), it works on spans of days:
-- each fill version qualifies on one span [span_start, span_end); those
-- spans cut each rx's timeline into segments with a fixed latest fill; the
-- segments are cut again by the pet's versions; only then are the surviving
-- spans written.

with fill_spans as (

    -- days D on which this version is current and its fill in (D - 180, D];
    -- end exclusive (least/greatest here and below see no nulls, where
    -- engines disagree)
    select
        versions.rx_id,
        versions.order_id,
        versions.pet_id,
        versions.customer_id,
        versions.drug_class,
        versions.fill_date,
        versions.order_ts,
        versions.days_supply,
        greatest(versions.valid_from, versions.fill_date) as span_start,
        least(
            coalesce(versions.valid_to, date '9999-12-31'),
            {{ add_days('versions.fill_date', var('active_lookback_days')) }}
        ) as span_end

    from {{ ref('int_rx_order_versions') }} as versions
    where versions.is_fill
        and {{ is_changed('rx_id') }}
        and versions.is_maintenance
        and not versions.is_never_current

),

qualifying_spans as (

    select * from fill_spans where span_start < span_end

),

cut_points as (

    select rx_id, span_start as cut from qualifying_spans
    union
    select rx_id, span_end as cut from qualifying_spans

),

segments as (

    select
        rx_id,
        cut as segment_start,
        lead(cut) over (partition by rx_id order by cut nulls last) as segment_end
    from cut_points

),

segment_fills as (

    -- the fills qualifying over the whole segment, latest first
    select
        segments.rx_id,
        segments.segment_start,
        segments.segment_end,
        qualifying_spans.pet_id,
        qualifying_spans.customer_id,
        qualifying_spans.drug_class,
        qualifying_spans.fill_date,
        qualifying_spans.days_supply,
        row_number() over (
            partition by segments.rx_id, segments.segment_start
            order by
                qualifying_spans.fill_date desc nulls last,
                qualifying_spans.order_ts desc nulls last,
                qualifying_spans.order_id desc nulls last
        ) as recency_rank

    from segments
    inner join qualifying_spans
        on segments.rx_id = qualifying_spans.rx_id
        and qualifying_spans.span_start <= segments.segment_start
        and qualifying_spans.span_end >= segments.segment_end
    where segments.segment_end is not null

),

segment_latest_fill as (

    select
        rx_id,
        segment_start,
        segment_end,
        pet_id,
        customer_id,
        drug_class,
        fill_date,
        days_supply

    from segment_fills
    where recency_rank = 1

),

pet_spans as (

    -- days on which the pet's current version is an in-scope, living, kept pet
    select
        pet_id,
        valid_from,
        coalesce(valid_to, date '9999-12-31') as valid_until

    from {{ ref('int_pet_versions') }}
    where not is_never_current
        and species in ('dog', 'cat')
        and status not in ('deceased', 'transferred')

),

active_spans as (

    select
        segment_latest_fill.rx_id,
        segment_latest_fill.pet_id,
        segment_latest_fill.customer_id,
        segment_latest_fill.drug_class,
        segment_latest_fill.fill_date,
        segment_latest_fill.days_supply,
        greatest(segment_latest_fill.segment_start, pet_spans.valid_from) as active_start,
        least(segment_latest_fill.segment_end, pet_spans.valid_until) as active_end

    from segment_latest_fill
    inner join pet_spans
        on segment_latest_fill.pet_id = pet_spans.pet_id
        and pet_spans.valid_from < segment_latest_fill.segment_end
        and pet_spans.valid_until > segment_latest_fill.segment_start

),

final as (

    select
        rx_id,
        pet_id,
        customer_id,
        drug_class,
        fill_date as last_fill_date,
        days_supply as last_days_supply,
        active_start as active_from,
        active_end as active_until

    from active_spans

)

select * from final
