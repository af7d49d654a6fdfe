-- The latest version of each reauthorization request (latest updated_at; ties
-- by later delivery day, file, line).

{{ latest_versions(ref('stg_vet_reauth'), 'reauth_id', 'updated_at') }}
