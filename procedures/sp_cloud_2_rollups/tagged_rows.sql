-- sp_cloud_2_rollups, shared step: the FOCUS rows of one billing day with their attribution dimensions.
--
-- Inputs: {{focus_table}} (<org>_prod.cost_data_standard_1_3), $billing_day, and one lower-cased alias list
-- per dimension ($department, $team, $environment, $cost_center) from the org's attribution config.
-- A tag key matches an alias case-insensitively, whole or without its provider prefix (everything up to the
-- last ':' or '.': AWS "user:team", OCI "free-form.team"); the lowest alias position wins (a tag's rank is its
-- whole key's position, else its prefix-less key's; on a tie the smaller value), values are trimmed and
-- lower-cased; an empty value does not count. billing_currency (FOCUS BillingCurrency) goes with every amount:
-- a sum over these rows must group by it, never add two currencies. tags is the row's FOCUS Tags.
--
-- Written so that it also runs on BigQuery (warehouse/bigquery_sql.py translates it), set-based: each row gets
-- a key, its tags become rows (json_keys), each tag's rank per dimension comes from a join with the alias list,
-- and the row is put back together by its key, each dimension the minimum of "rank, value" (rank zero-padded).
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
    any_value(tags)                                         as tags,
    coalesce(substr(min(case when department_rank is not null and tag_value <> ''
        then lpad(cast(department_rank as varchar), 4, '0') || tag_value end), 5), '__untagged__') as department,
    coalesce(substr(min(case when team_rank is not null and tag_value <> ''
        then lpad(cast(team_rank as varchar), 4, '0') || tag_value end), 5), '__untagged__') as team,
    coalesce(substr(min(case when environment_rank is not null and tag_value <> ''
        then lpad(cast(environment_rank as varchar), 4, '0') || tag_value end), 5), '__unknown__') as environment,
    coalesce(substr(min(case when cost_center_rank is not null and tag_value <> ''
        then lpad(cast(cost_center_rank as varchar), 4, '0') || tag_value end), 5), '__untagged__') as cost_center
from (
    select
        focus_tags.*,
        coalesce(department_key.position, department_short.position) as department_rank,
        coalesce(team_key.position, team_short.position)             as team_rank,
        coalesce(environment_key.position, environment_short.position) as environment_rank,
        coalesce(cost_center_key.position, cost_center_short.position) as cost_center_rank
    from (
        select
            focus_rows.*,
            lower(tag_key)                                  as tag_lower,
            lower(regexp_replace(tag_key, '^.*[:.]', ''))   as tag_short,
            -- the key as a JSON Pointer (RFC 6901: '~' -> '~0', '/' -> '~1'), the one form DuckDB's ->> reads
            -- literally: a bare key starting with '$' would be a JSONPath, one starting with '/' a pointer
            lower(trim(coalesce(focus_rows.tags ->> ('/' || replace(replace(tag_key, '~', '~0'), '/', '~1')), '')))
                                                            as tag_value
        from (
            select
                uuid()                                      as row_key,
                x_ingestion_date                            as charge_day,
                x_cloud_provider                            as provider,
                BillingCurrency                             as billing_currency,
                ServiceCategory                             as service_category,
                BilledCost                                  as billed_cost,
                EffectiveCost                               as effective_cost,
                ResourceId                                  as resource_id,
                ResourceName                                as resource_name,
                SubAccountId                                as sub_account_id,
                CommitmentDiscountStatus                    as commitment_status,
                Tags                                        as tags
            from {{focus_table}}
            where x_ingestion_date = $billing_day
        ) as focus_rows
        left join unnest(json_keys(focus_rows.tags)) as tag_keys(tag_key) on true
    ) as focus_tags
    left join (select alias, min(position) as position from unnest($department::varchar[]) with ordinality as aliases(alias, position) group by alias) as department_key on department_key.alias = tag_lower
    left join (select alias, min(position) as position from unnest($department::varchar[]) with ordinality as aliases(alias, position) group by alias) as department_short on department_short.alias = tag_short
    left join (select alias, min(position) as position from unnest($team::varchar[]) with ordinality as aliases(alias, position) group by alias) as team_key on team_key.alias = tag_lower
    left join (select alias, min(position) as position from unnest($team::varchar[]) with ordinality as aliases(alias, position) group by alias) as team_short on team_short.alias = tag_short
    left join (select alias, min(position) as position from unnest($environment::varchar[]) with ordinality as aliases(alias, position) group by alias) as environment_key on environment_key.alias = tag_lower
    left join (select alias, min(position) as position from unnest($environment::varchar[]) with ordinality as aliases(alias, position) group by alias) as environment_short on environment_short.alias = tag_short
    left join (select alias, min(position) as position from unnest($cost_center::varchar[]) with ordinality as aliases(alias, position) group by alias) as cost_center_key on cost_center_key.alias = tag_lower
    left join (select alias, min(position) as position from unnest($cost_center::varchar[]) with ordinality as aliases(alias, position) group by alias) as cost_center_short on cost_center_short.alias = tag_short
) as ranked_tags
group by row_key, charge_day, provider, billing_currency, service_category, billed_cost, effective_cost, resource_id,
    resource_name, sub_account_id, commitment_status
