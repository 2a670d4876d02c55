-- sp_cloud_1_focus_1_4, catch-up: the (provider, billing day) slices the org's FOCUS 1.3 table holds and its 1.4
-- table does not; an org upgraded from a build without 1.4 has 1.3 history that no convert will revisit.
--
-- Inputs: {{focus_1_3}}, {{focus_1_4}}. Oldest day first (the order the slices are written in; a period's Created is
-- the earliest landing of its rows whatever the order). Also what the 1.4 export and referee refuse to read past.

with

converted as (
    select distinct x_cloud_provider, x_ingestion_date
    from {{focus_1_3}}
),

final as (
    select c.x_cloud_provider, c.x_ingestion_date
    from converted as c
    where not exists (
        select 1
        from {{focus_1_4}} as f
        where f.x_cloud_provider = c.x_cloud_provider
            and f.x_ingestion_date = c.x_ingestion_date
    )
)

select x_cloud_provider, x_ingestion_date from final
order by x_ingestion_date, x_cloud_provider
