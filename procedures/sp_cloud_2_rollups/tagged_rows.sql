-- sp_cloud_2_rollups, shared step: the FOCUS rows of one billing day with their attribution dimensions.
--
-- Inputs: {{focus_table}} (<org>_prod.cost_data_standard_1_3), $billing_day, and one lower-cased alias list
-- per dimension ($department, $team, $environment, $cost_center) from the org's attribution config.
-- A tag key matches an alias case-insensitively, whole or without its provider prefix (everything up to the
-- last ':' or '.': AWS "user:team", OCI "free-form.team"); the lowest alias position wins, values are
-- trimmed and lower-cased; an empty value does not count. billing_currency (FOCUS BillingCurrency) goes with
-- every amount: a sum over these rows must group by it, never add two currencies.
select
    x_ingestion_date                                        as charge_day,
    x_cloud_provider                                        as provider,
    BillingCurrency                                         as billing_currency,
    ServiceCategory                                         as service_category,
    BilledCost                                              as billed_cost,
    EffectiveCost                                           as effective_cost,
    ResourceId                                              as resource_id,
    ResourceName                                            as resource_name,
    SubAccountId                                            as sub_account_id,
    CommitmentDiscountStatus                                as commitment_status,
    tag_list,
    coalesce(list_sort(list_filter(list_transform(tag_list, lambda t: {
        'rank': coalesce(list_position($department::varchar[], t.key), list_position($department::varchar[], t.short)),
        'value': t.value}), lambda x: x.rank is not null and x.value <> ''))[1].value, '__untagged__') as department,
    coalesce(list_sort(list_filter(list_transform(tag_list, lambda t: {
        'rank': coalesce(list_position($team::varchar[], t.key), list_position($team::varchar[], t.short)),
        'value': t.value}), lambda x: x.rank is not null and x.value <> ''))[1].value, '__untagged__') as team,
    coalesce(list_sort(list_filter(list_transform(tag_list, lambda t: {
        'rank': coalesce(list_position($environment::varchar[], t.key), list_position($environment::varchar[], t.short)),
        'value': t.value}), lambda x: x.rank is not null and x.value <> ''))[1].value, '__unknown__') as environment,
    coalesce(list_sort(list_filter(list_transform(tag_list, lambda t: {
        'rank': coalesce(list_position($cost_center::varchar[], t.key), list_position($cost_center::varchar[], t.short)),
        'value': t.value}), lambda x: x.rank is not null and x.value <> ''))[1].value, '__untagged__') as cost_center
from (
    select
        *,
        list_transform(
            map_entries(coalesce(cast(Tags as map(varchar, varchar)), map())),
            lambda e: {
                'key': lower(e.key),
                'short': lower(regexp_replace(e.key, '^.*[:.]', '')),
                'original': e.key,
                'value': lower(trim(coalesce(e.value, '')))
            }
        ) as tag_list
    from {{focus_table}}
    where x_ingestion_date = $billing_day
)
