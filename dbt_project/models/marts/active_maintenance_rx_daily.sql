{{ config(materialized='view') }}

-- One row per active maintenance prescription per day, as known on that day:
-- the spans of `active_maintenance_rx_spans` expanded over a date spine. A
-- range join (not unnest), so a filter on as_of_date reaches the spine first
-- and reads only the spans covering those days. The view names its tables
-- without the database (the file's name), so it works in any copy of the file.

with spans as (

    select * from {{ ref('active_maintenance_rx_spans').include(database=False) }}

),

days as (

    -- through the last delivery day: later days are not known yet
    select period_start as as_of_date
    from ({{ calendar_spine(
        'day',
        '(select min(active_from) from spans)',
        '(select max(_dt) from ' ~ ref('int_rx_order_versions').include(database=False) ~ ')'
    ) }}) as spine

),

final as (

    select
        days.as_of_date,
        spans.rx_id,
        spans.pet_id,
        spans.customer_id,
        spans.drug_class,
        spans.last_fill_date,
        spans.last_days_supply

    from days
    inner join spans
        on spans.active_from <= days.as_of_date
        and days.as_of_date < spans.active_until

)

select * from final
