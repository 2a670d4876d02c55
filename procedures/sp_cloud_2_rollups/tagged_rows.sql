-- sp_cloud_2_rollups, shared step: the FOCUS rows of one billing day with their attribution dimensions.
--
-- Inputs: {{focus_table}} (<org>_prod.cost_data_standard_1_3), $billing_day, and one lower-cased alias list
-- per dimension ($department, $team, $environment, $cost_center) from the org's attribution config.
-- A tag key matches an alias case-insensitively, whole or without its provider prefix (everything up to the
-- last ':' or '.': AWS "user:team", OCI "free-form.team"); the lowest alias position wins (a tag's rank is its
-- whole key's position, else its prefix-less key's; on a tie the smaller value), values are trimmed and
-- lower-cased; an empty value does not count. billing_currency (FOCUS BillingCurrency) goes with every amount: a sum over these rows must group
-- by it, never add two currencies.
--
-- Written so that it also runs on BigQuery (warehouse/bigquery_sql.py translates it): correlated subqueries
-- over unnest() instead of DuckDB's list lambdas, tag keys from json_keys() and values by key.
select
    charge_day,
    provider,
    billing_currency,
    service_category,
    billed_cost,
    effective_cost,
    resource_id,
    resource_name,
    sub_account_id,
    commitment_status,
    tag_list,
    coalesce((
        select value from (
            select tag.value as value, coalesce(
                (select min(position) from unnest($department::varchar[]) with ordinality as aliases(alias, position) where alias = tag.key),
                (select min(position) from unnest($department::varchar[]) with ordinality as aliases(alias, position) where alias = tag.short)
            ) as alias_rank
            from unnest(tag_list) as tags(tag)
        ) as ranked
        where value <> '' and alias_rank is not null
        order by alias_rank, value
        limit 1), '__untagged__') as department,
    coalesce((
        select value from (
            select tag.value as value, coalesce(
                (select min(position) from unnest($team::varchar[]) with ordinality as aliases(alias, position) where alias = tag.key),
                (select min(position) from unnest($team::varchar[]) with ordinality as aliases(alias, position) where alias = tag.short)
            ) as alias_rank
            from unnest(tag_list) as tags(tag)
        ) as ranked
        where value <> '' and alias_rank is not null
        order by alias_rank, value
        limit 1), '__untagged__') as team,
    coalesce((
        select value from (
            select tag.value as value, coalesce(
                (select min(position) from unnest($environment::varchar[]) with ordinality as aliases(alias, position) where alias = tag.key),
                (select min(position) from unnest($environment::varchar[]) with ordinality as aliases(alias, position) where alias = tag.short)
            ) as alias_rank
            from unnest(tag_list) as tags(tag)
        ) as ranked
        where value <> '' and alias_rank is not null
        order by alias_rank, value
        limit 1), '__unknown__') as environment,
    coalesce((
        select value from (
            select tag.value as value, coalesce(
                (select min(position) from unnest($cost_center::varchar[]) with ordinality as aliases(alias, position) where alias = tag.key),
                (select min(position) from unnest($cost_center::varchar[]) with ordinality as aliases(alias, position) where alias = tag.short)
            ) as alias_rank
            from unnest(tag_list) as tags(tag)
        ) as ranked
        where value <> '' and alias_rank is not null
        order by alias_rank, value
        limit 1), '__untagged__') as cost_center
from (
    select
        x_ingestion_date                                    as charge_day,
        x_cloud_provider                                    as provider,
        BillingCurrency                                     as billing_currency,
        ServiceCategory                                     as service_category,
        BilledCost                                          as billed_cost,
        EffectiveCost                                       as effective_cost,
        ResourceId                                          as resource_id,
        ResourceName                                        as resource_name,
        SubAccountId                                        as sub_account_id,
        CommitmentDiscountStatus                            as commitment_status,
        array(
            select {
                'key': lower(tag_key),
                'short': lower(regexp_replace(tag_key, '^.*[:.]', '')),
                'original': tag_key,
                'value': lower(trim(coalesce(Tags ->> tag_key, '')))
            }
            from unnest(json_keys(Tags)) as tag_keys(tag_key)
        )                                                   as tag_list
    from {{focus_table}}
    where x_ingestion_date = $billing_day
) as focus_rows
