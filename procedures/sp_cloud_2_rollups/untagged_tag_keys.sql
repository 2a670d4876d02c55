-- sp_cloud_2_rollups: tag keys on rows without a team that map to no dimension, per billing day and provider.
select
    charge_day,
    provider,
    billing_currency,
    tag_key,
    count(*)                                                as rows,
    sum(effective_cost)                                     as effective_cost,
    $refreshed_at                                           as refreshed_at
from ({{tagged_rows}}) as untagged
cross join unnest(json_keys(untagged.tags)) as tag_keys(tag_key)
left join (select distinct alias from unnest($mapped::varchar[]) as aliases(alias)) as mapped_key
    on mapped_key.alias = lower(tag_key)
left join (select distinct alias from unnest($mapped::varchar[]) as aliases(alias)) as mapped_short
    on mapped_short.alias = lower(regexp_replace(tag_key, '^.*[:.]', ''))
where untagged.team = '__untagged__' and mapped_key.alias is null and mapped_short.alias is null
group by all
