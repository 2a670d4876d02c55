-- sp_cloud_2_rollups: tag keys on rows without a team that map to no dimension, per billing day and provider.
select
    charge_day,
    provider,
    billing_currency,
    tag.original                                            as tag_key,
    count(*)                                                as rows,
    sum(effective_cost)                                     as effective_cost,
    $refreshed_at                                           as refreshed_at
from (select *, unnest(tag_list) as tag from ({{tagged_rows}}) where team = '__untagged__')
where not (list_contains($mapped::varchar[], tag.key) or list_contains($mapped::varchar[], tag.short))
group by all
