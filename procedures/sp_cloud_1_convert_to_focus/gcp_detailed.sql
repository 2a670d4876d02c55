-- sp_cloud_1_convert_to_focus, GCP part: detailed billing export rows of one usage day -> FOCUS 1.3 rows.
--
-- Inputs: {{raw_table}} (<org>_prod.cloud_gcp_billing_raw_daily), lookups {{gcp_services}},
-- {{gcp_regions}} and {{gcp_pricing_units}}, and the bound parameter $billing_day. Choices, where Google's
-- own FOCUS view differs:
--   BilledCost is `cost` as exported (what usage is invoiced at); credits (sustained-use, committed-use,
--   promotions, free tier) net into EffectiveCost only, and stay visible in x_Credits;
--   the billing period is keyed on invoice.month, with an exclusive end (first day of the next month);
--   ChargeCategory comes from cost_type; rows carrying adjustment_info are ChargeClass 'Correction';
--   values are case-exact FOCUS values ('Usage', not 'usage').
-- Prices: a usage or purchase row's SKU price is its SKU's (SkuPriceId = SkuId = sku.id; the tier is not
-- landed). `cost` is at the account's contract price before credits, so it is ContractedCost, and
-- ContractedUnitPrice is price.effective_price (per usage.pricing_unit). Exports without the price record
-- (before 2023) get cost / usage.amount_in_pricing_units instead (rounded to 10 decimals), the price of a
-- row billed at one rate.
-- List unit prices live in the separate pricing export, which is not landed: ListUnitPrice stays NULL.

with

source as (
    select *
    from {{raw_table}}
    where ingestion_date = $billing_day
),

renamed as (
    select
        -- accounts and projects
        billing_account_id,
        project_id,
        project_name,
        -- periods
        strptime(invoice_month, '%Y%m')::timestamptz                                as billing_period_start,
        (strptime(invoice_month, '%Y%m') + interval 1 month)::timestamptz           as billing_period_end,
        usage_start_time                                                            as charge_period_start,
        usage_end_time                                                              as charge_period_end,
        -- what was charged
        service_id,
        service_description,
        sku_id,
        sku_description,
        cost_type,
        adjustment_info,
        transaction_type,
        seller_name,
        resource_name,
        resource_global_name,
        location_region,
        location_zone,
        -- money and quantities
        currency,
        cost,
        cost_at_list,
        coalesce(list_sum(cast(json_extract_string(credits, '$[*].amount') as decimal(38, 10)[])), 0) as credits_total,
        coalesce(list_bool_or(list_transform(
            json_extract_string(credits, '$[*].type'), lambda t: t like 'COMMITTED_USAGE_DISCOUNT%'
        )), false)                                                                  as is_commitment_covered,
        credits,
        price_effective_price,
        usage_amount,
        usage_unit,
        usage_amount_in_pricing_units,
        usage_pricing_unit,
        -- labels: project labels, overridden by the resource's own
        map_concat(
            coalesce(map_from_entries(from_json(project_labels, '[{"key": "VARCHAR", "value": "VARCHAR"}]')), map()),
            coalesce(map_from_entries(from_json(labels, '[{"key": "VARCHAR", "value": "VARCHAR"}]')), map())
        )                                                                           as label_map,
        -- lineage
        ingestion_date, x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from source
),

classified as (
    select
        *,
        case
            when cost_type = 'tax' then 'Tax'
            when cost_type in ('adjustment', 'rounding_error') then 'Adjustment'
            when sku_description ilike 'Commitment%' then 'Purchase'
            else 'Usage'
        end                                                                         as charge_category,
        seller_name is not null and transaction_type ilike 'THIRD_PARTY%'           as is_marketplace
    from renamed
),

priced as (
    select
        *,
        -- a SKU price applies to usage and purchases, not to corrections
        case
            when charge_category in ('Usage', 'Purchase') and adjustment_info is null then sku_id
        end                                                                         as sku_price_id
    from classified
),

enriched as (
    select
        priced.*,
        services.service_category                                                   as lookup_service_category,
        services.service_subcategory                                                as lookup_service_subcategory,
        regions.region_name                                                         as lookup_region_name,
        coalesce(pricing_units.focus_unit, priced.usage_pricing_unit)               as focus_pricing_unit,
        coalesce(usage_units.focus_unit, priced.usage_unit)                         as focus_usage_unit,
        cast(
            coalesce(priced.price_effective_price, priced.cost / nullif(priced.usage_amount_in_pricing_units, 0))
            as decimal(38, 10)
        )                                                                           as contracted_unit_price
    from priced
    left join {{gcp_services}} as services on services.service_description = priced.service_description
    left join {{gcp_regions}} as regions on regions.region_code = lower(priced.location_region)
    left join {{gcp_pricing_units}} as pricing_units on pricing_units.gcp_unit = priced.usage_pricing_unit
    left join {{gcp_pricing_units}} as usage_units on usage_units.gcp_unit = priced.usage_unit
),

final as (
    select
        cast(null as varchar)                                       as AllocatedMethodId,
        cast(null as json)                                          as AllocatedMethodDetails,
        cast(null as varchar)                                       as AllocatedResourceId,
        cast(null as varchar)                                       as AllocatedResourceName,
        cast(null as json)                                          as AllocatedTags,
        location_zone                                               as AvailabilityZone,
        cost                                                        as BilledCost,
        billing_account_id                                          as BillingAccountId,
        cast(null as varchar)                                       as BillingAccountName,
        cast(null as varchar)                                       as BillingAccountType,
        currency                                                    as BillingCurrency,
        billing_period_end                                          as BillingPeriodEnd,
        billing_period_start                                        as BillingPeriodStart,
        cast(null as varchar)                                       as CapacityReservationId,
        cast(null as varchar)                                       as CapacityReservationStatus,
        charge_category                                             as ChargeCategory,
        case when adjustment_info is not null then 'Correction' end as ChargeClass,
        sku_description                                             as ChargeDescription,
        case
            when charge_category = 'Usage' then 'Usage-Based'
            when charge_category in ('Purchase', 'Tax') then 'Recurring'
            else 'One-Time'
        end                                                         as ChargeFrequency,
        charge_period_end                                           as ChargePeriodEnd,
        charge_period_start                                         as ChargePeriodStart,
        cast(null as varchar)                                       as CommitmentDiscountCategory,
        cast(null as varchar)                                       as CommitmentDiscountId,
        cast(null as varchar)                                       as CommitmentDiscountName,
        cast(null as decimal(38, 10))                               as CommitmentDiscountQuantity,
        cast(null as varchar)                                       as CommitmentDiscountStatus,
        cast(null as varchar)                                       as CommitmentDiscountType,
        cast(null as varchar)                                       as CommitmentDiscountUnit,
        case when charge_category = 'Usage' and sku_price_id is not null then usage_amount end as ConsumedQuantity,
        case when charge_category = 'Usage' and sku_price_id is not null then focus_usage_unit end as ConsumedUnit,
        cast(null as json)                                          as ContractApplied,
        cost                                                        as ContractedCost,
        case when sku_price_id is not null then contracted_unit_price end as ContractedUnitPrice,
        cost + credits_total                                        as EffectiveCost,
        'Google Cloud'                                              as HostProviderName,
        cast(null as varchar)                                       as InvoiceId,
        'Google'                                                    as InvoiceIssuerName,
        coalesce(cost_at_list, cost)                                as ListCost,
        cast(null as decimal(38, 10))                               as ListUnitPrice,
        case
            when sku_price_id is null then null
            when charge_category = 'Purchase' then 'Standard'
            when is_commitment_covered then 'Committed'  -- usage a committed use discount applied to
            when sku_description ilike '%Spot%' or sku_description ilike '%Preemptible%' then 'Dynamic'
            else 'Standard'
        end                                                         as PricingCategory,
        cast(null as varchar)                                       as PricingCurrency,
        cast(null as decimal(38, 10))                               as PricingCurrencyContractedUnitPrice,
        cast(null as decimal(38, 10))                               as PricingCurrencyEffectiveCost,
        cast(null as decimal(38, 10))                               as PricingCurrencyListUnitPrice,
        case when sku_price_id is not null then usage_amount_in_pricing_units end as PricingQuantity,
        case when sku_price_id is not null then focus_pricing_unit end as PricingUnit,
        'Google Cloud'                                              as ProviderName,
        case when is_marketplace then seller_name else 'Google Cloud' end as PublisherName,
        lower(location_region)                                      as RegionId,
        lookup_region_name                                          as RegionName,
        resource_global_name                                        as ResourceId,
        resource_name                                               as ResourceName,
        -- the API host and collection of the resource's full name: //compute.googleapis.com/…/instances/vm-1
        -- -> compute.googleapis.com/instances
        case when resource_global_name is not null then coalesce(
            nullif(regexp_extract(resource_global_name, '^//([^/]+)/', 1), '') || '/'
                || nullif(regexp_extract(resource_global_name, '/([^/]+)/[^/]+$', 1), ''),
            nullif(regexp_extract(resource_global_name, '^//([^/]+)', 1), ''),
            service_description
        ) end                                                       as ResourceType,
        case when is_marketplace then seller_name else 'Google Cloud' end as ServiceProviderName,
        coalesce(lookup_service_category, 'Other')                  as ServiceCategory,
        service_description                                         as ServiceName,
        coalesce(lookup_service_subcategory, 'Other (Other)')       as ServiceSubcategory,
        case when charge_category <> 'Tax' then sku_id end          as SkuId,
        case when charge_category <> 'Tax' and sku_id is not null then sku_description end as SkuMeter,
        cast(null as json)                                          as SkuPriceDetails,
        sku_price_id                                                as SkuPriceId,
        project_id                                                  as SubAccountId,
        project_name                                                as SubAccountName,
        cast(null as varchar)                                       as SubAccountType,
        case when cardinality(label_map) = 0 then null else to_json(label_map) end as Tags,
        -- cloudcost extensions
        service_id                                                  as x_ServiceCode,
        sku_id                                                      as x_UsageType,
        cast(null as varchar)                                       as x_Operation,
        case when json_array_length(credits) > 0 then credits end   as x_Credits,
        'gcp'                                                       as x_cloud_provider,
        ingestion_date                                              as x_ingestion_date,
        'detailed'                                                  as x_source_format,
        cast(null as varchar)                                       as x_source_line_item_id,
        x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from enriched
)

select * from final
