-- sp_cloud_2_rollups: daily_cost_by_team for one org and billing day, over the rows of tagged_rows.sql.
-- Conditional counts are count(case ...), not count(*) filter: that one becomes COUNTIF, which is NULL, not 0,
-- on DuckDB when every row's condition is NULL.
select
    charge_day,
    provider,
    billing_currency,
    department,
    team,
    environment,
    cost_center,
    coalesce(service_category, 'Other')                     as service_category,
    sum(billed_cost)                                        as billed_cost,
    sum(effective_cost)                                     as effective_cost,
    count(distinct resource_id)                             as resources,
    count(*)                                                as rows,
    count(case when team = '__untagged__' then 1 end)       as untagged_rows,
    count(case when commitment_status = 'Used' then 1 end)  as commitment_covered_rows,
    $refreshed_at                                           as refreshed_at
from ({{tagged_rows}})
group by all
