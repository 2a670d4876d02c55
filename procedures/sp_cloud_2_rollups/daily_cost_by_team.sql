-- sp_cloud_2_rollups: daily_cost_by_team for one org and billing day, over the rows of tagged_rows.sql.
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
    count(*) filter (where team = '__untagged__')           as untagged_rows,
    count(*) filter (where commitment_status = 'Used')      as commitment_covered_rows,
    $refreshed_at                                           as refreshed_at
from ({{tagged_rows}})
group by all
