{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_rx_and_open_tails() }}",
        post_hook="{{ record_watermark_and_drop_tail() }}",
    )
}}
-- depends_on: {{ ref('int_rx_order_versions') }}
{%- set days_in_period = '(' ~ dbt.datediff('periods.period_start', 'periods.period_end', 'day') ~ ' + 1)' %}

-- Adherence per prescription (pet x drug) and calendar month.
--
-- PDC, the PQA definition: days covered / days in the measurement period,
-- where a fill covers effective_days_supply days from its fill date and a
-- fill that arrives while earlier supply remains starts the day after that
-- supply ends (overlaps shifted forward), capped at 1.
-- Measurement period of an rx: from its first fill to the earliest of the
-- data end (last fill date in the warehouse), its last run-out + 30 days (the
-- lapse horizon; a stopped rx is not counted as non-adherent for ever) and
-- the day its pet was first reported deceased or transferred. Each calendar
-- month contributes the part of that period inside it.
--
-- On-time refill rate: among the fills whose run-out falls in the month and
-- whose outcome is observable (next fill seen, or data end >= run-out + 7),
-- the share refilled by run-out + 7 days. Null when no refill was due.
--
-- A nightly run rebuilds the rx with news whole and, of the rx whose last
-- fill is still open, only the months the new data end can change
-- (macros/adherence_tail.sql).

with intervals as (

    select * from {{ ref('refill_intervals') }}
    where {{ is_changed_or_open('rx_id') }}

),

pets as (

    select pet_id, inactive_since from {{ ref('pets') }}

),

coverage_steps as (

    -- epoch day numbers make the shift a running maximum:
    -- cover_end(i) = S(i) + max over j <= i of (fill_day(j) - 1 - S(j - 1)),
    -- S = running sum of days' supply in fill order
    select
        intervals.*,
        coalesce(effective_days_supply, 0) as supply,
        {{ dbt.datediff("date '1970-01-01'", 'fill_date', 'day') }} as fill_day,
        sum(coalesce(effective_days_supply, 0)) over rx_fills as supply_through

    from intervals
    window rx_fills as (
        partition by rx_id order by fill_seq
        rows between unbounded preceding and current row
    )

),

coverage as (

    select
        *,
        supply_through + max(fill_day - 1 - (supply_through - supply)) over (
            partition by rx_id order by fill_seq
            rows between unbounded preceding and current row
        ) as cover_end_day

    from coverage_steps

),

covered_spans as (

    select
        rx_id,
        {{ add_days("date '1970-01-01'", 'cover_end_day - supply + 1') }} as cover_start,
        {{ add_days("date '1970-01-01'", 'cover_end_day') }} as cover_end

    from coverage
    where supply > 0

),

rx_fills as (

    -- each fill with the facts of its rx: the rx is described by its last
    -- fill, and its lapse deadline is that of the last fill with a known one
    select
        intervals.rx_id,
        intervals.pet_id,
        intervals.customer_id,
        intervals.ndc,
        intervals.drug_class,
        intervals.is_maintenance,
        row_number() over (
            partition by intervals.rx_id order by intervals.fill_seq desc
        ) as recency_rank,
        min(intervals.fill_date) over (partition by intervals.rx_id) as measure_start,
        max(intervals.data_end_date) over (partition by intervals.rx_id) as data_end_date,
        first_value(intervals.lapse_deadline) over (
            partition by intervals.rx_id
            order by case when intervals.lapse_deadline is null then 1 else 0 end, intervals.fill_seq desc
        ) as lapse_deadline,
        max(pets.inactive_since) over (partition by intervals.rx_id) as inactive_since

    from intervals
    left join pets
        on intervals.pet_id = pets.pet_id

),

rx_periods as (

    select
        rx_id,
        pet_id,
        customer_id,
        ndc,
        drug_class,
        is_maintenance,
        measure_start,
        -- no lapse deadline (supply unknown) or no inactive date leaves the
        -- other bounds
        {{ least_ignoring_nulls(['data_end_date', 'lapse_deadline', 'inactive_since']) }} as measure_end

    from rx_fills
    where recency_rank = 1

),

months as (

    {{ calendar_spine(
        'month',
        '(select min(measure_start) from rx_periods)',
        '(select max(measure_end) from rx_periods)'
    ) }}

),

rx_months as (

    select
        rx_periods.*,
        months.period_start as month_start

    from rx_periods
    inner join months
        on months.period_start >= {{ trunc_date('month', 'rx_periods.measure_start') }}
        and months.period_start <= rx_periods.measure_end
    where rx_periods.measure_end >= rx_periods.measure_start

),

periods as (

    select
        *,
        greatest(month_start, measure_start) as period_start,
        least({{ dbt.last_day('month_start', 'month') }}, measure_end) as period_end

    from rx_months
    where {{ is_rebuilt_month('rx_id', 'month_start') }}

),

covered_days as (

    -- the days of each month's period under each covered span (none: null)
    select
        periods.rx_id,
        periods.month_start,
        case when covered_spans.rx_id is not null then
            {{ dbt.datediff(
                'greatest(covered_spans.cover_start, periods.period_start)',
                'least(covered_spans.cover_end, periods.period_end)',
                'day'
            ) }} + 1
        end as overlap_days

    from periods
    left join covered_spans
        on periods.rx_id = covered_spans.rx_id
        and covered_spans.cover_start <= periods.period_end
        and covered_spans.cover_end >= periods.period_start

),

covered as (

    select
        rx_id,
        month_start,
        coalesce({{ sum_integers('overlap_days') }}, 0) as days_covered

    from covered_days
    group by rx_id, month_start

),

fills_per_month as (

    select
        rx_id,
        {{ trunc_date('month', 'fill_date') }} as month_start,
        count(*) as fills_in_month

    from intervals
    group by rx_id, {{ trunc_date('month', 'fill_date') }}

),

refills_due as (

    select
        rx_id,
        {{ trunc_date('month', 'runout_date') }} as month_start,
        count(*) as refills_due,
        count(*) filter (
            where next_fill_date <= {{ add_days('runout_date', var('on_time_days')) }}
        ) as refills_on_time

    from intervals
    where runout_date is not null
        and (
            next_fill_date is not null
            or data_end_date >= {{ add_days('runout_date', var('on_time_days')) }}
        )
    group by rx_id, {{ trunc_date('month', 'runout_date') }}

),

final as (

    select
        periods.rx_id,
        periods.month_start,
        periods.pet_id,
        periods.customer_id,
        periods.ndc,
        periods.drug_class,
        periods.is_maintenance,
        periods.period_start,
        periods.period_end,
        {{ days_in_period }} as days_in_period,
        covered.days_covered,
        least(1.0, {{ fraction('covered.days_covered', days_in_period) }}) as pdc,
        coalesce(fills_per_month.fills_in_month, 0) as fills_in_month,
        coalesce(refills_due.refills_due, 0) as refills_due,
        coalesce(refills_due.refills_on_time, 0) as refills_on_time,
        {{ fraction('refills_due.refills_on_time', 'nullif(refills_due.refills_due, 0)') }}
            as on_time_refill_rate

    from periods
    inner join covered
        on periods.rx_id = covered.rx_id
        and periods.month_start = covered.month_start
    left join fills_per_month
        on periods.rx_id = fills_per_month.rx_id
        and periods.month_start = fills_per_month.month_start
    left join refills_due
        on periods.rx_id = refills_due.rx_id
        and periods.month_start = refills_due.month_start

)

select * from final
