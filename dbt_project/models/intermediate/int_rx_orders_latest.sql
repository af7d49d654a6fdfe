{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ replace_changed_keys('order_id', changed_orders()) }}",
        post_hook="{{ record_watermark() }}",
    )
}}

-- The latest version of each order (latest updated_at; ties broken by later
-- delivery day, then file, then line): every order column, the version
-- bookkeeping stays in int_rx_order_versions.

select {{ star(ref('int_rx_order_versions'), except=version_columns()) }}
from {{ ref('int_rx_order_versions') }}
where version_rank = 1
    and {{ is_changed('order_id') }}
