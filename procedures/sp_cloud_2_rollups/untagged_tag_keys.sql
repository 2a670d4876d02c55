-- sp_cloud_2_rollups: tag keys on rows without a team that map to no dimension, per billing day and provider.
select
    charge_day,
    provider,
    billing_currency,
    tag.original                                            as tag_key,
    count(*)                                                as rows,
    sum(effective_cost)                                     as effective_cost,
    $refreshed_at                                           as refreshed_at
from ({{tagged_rows}}) as untagged, unnest(untagged.tag_list) as tags(tag)
where untagged.team = '__untagged__'
  and not exists (
      select 1 from unnest($mapped::varchar[]) as mapped(mapped_key) where mapped_key in (tag.key, tag.short)
  )
group by all
