-- sp_cloud_1_convert_to_focus, Azure part: cost-details exports of one billing day -> FOCUS 1.3 rows.
--
-- Inputs: {{raw_table}} (<org>_prod.cloud_azure_billing_raw_daily, holding both the amortized and the
-- actual export, told apart by x_cost_dataset), lookups {{azure_services}}, {{azure_regions}},
-- {{azure_pricing_units}} (the FinOps toolkit's open data), and $billing_day. As the FinOps toolkit
-- documents the conversion:
--   * every amortized row becomes a FOCUS row, EffectiveCost = its (amortized) cost; usage covered by a
--     reservation or savings plan, and unused commitment, have BilledCost 0: they were paid by the purchase;
--   * commitment purchases and refunds come from the actual export: BilledCost = cost, EffectiveCost 0;
--     the amortized export's own copies of them (if any) are dropped, so nothing counts twice;
--   * every other actual row is already represented by its amortized twin and is not used;
--   * end dates are exclusive: a daily row's ChargePeriodEnd is its date + 1 day.
-- The day's BilledCost therefore equals the actual export's invoiced cost (what `check` reconciles).
-- Prices and quantities: Quantity counts blocks of UnitOfMeasure ("10K": cost = EffectivePrice x Quantity),
-- so PricingQuantity = Quantity with PricingUnit "<block size> <distinct unit>" ("10000 Units"), and
-- ConsumedQuantity = Quantity x block size in the distinct unit. The meter's price is the SKU price
-- (SkuId = SkuPriceId = MeterId; a commitment purchase is priced per pricing model and term);
-- ContractedUnitPrice = UnitPrice, ListUnitPrice = PayGPrice (EA writes PayGPrice 0 on commitment
-- rows: the contract price stands in), costs = unit price x quantity. A row without a meter, and a
-- correction, has no SKU price, and so no quantity or unit price (FOCUS 1.3).

with

source as (
    select *
    from {{raw_table}}
    where ingestion_date = $billing_day
),

renamed as (
    select
        x_cost_dataset                                                      as dataset,
        billing_account_id,
        billing_account_name,
        billing_profile_id,
        invoice_id,
        subscription_id,
        subscription_name,
        resource_group,
        billing_period_start_date                                           as billing_period_start,
        billing_period_end_date + interval 1 day                            as billing_period_end,
        date                                                                as charge_period_start,
        date + interval 1 day                                               as charge_period_end,
        charge_type,
        frequency,
        pricing_model,
        term,
        coalesce(benefit_id, reservation_id)                                as commitment_id,
        coalesce(benefit_name, reservation_name)                            as commitment_name,
        consumed_service,
        lower(regexp_extract(resource_id, '/providers/([^/]+/[^/]+)', 1))   as resource_type,
        resource_id,
        resource_name,
        resource_location,
        availability_zone,
        meter_id,
        meter_name,
        meter_category,
        meter_sub_category,
        product,
        publisher_name,
        publisher_type,
        unit_of_measure,
        quantity,
        effective_price,
        unit_price,
        payg_price,
        billing_currency,
        cost_in_billing_currency                                            as cost,
        tags,
        ingestion_date, x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from source
),

selected as (
    -- amortized rows, except commitment purchases/refunds; plus those purchases/refunds from actual
    select
        *,
        charge_type in ('Purchase', 'Refund') and commitment_id is not null as is_commitment_purchase
    from renamed
    where (dataset = 'amortized' and not (charge_type in ('Purchase', 'Refund') and commitment_id is not null))
       or (dataset = 'actual' and charge_type in ('Purchase', 'Refund') and commitment_id is not null)
),

services as (
    select *
    from {{azure_services}}
    qualify row_number() over (partition by lower(ResourceType) order by ConsumedService) = 1
),

services_by_name as (
    -- for rows without a resource type: the service the consumed service offers under the meter category
    select *
    from {{azure_services}}
    qualify row_number() over (partition by lower(ConsumedService), ServiceName order by ResourceType) = 1
),

enriched as (
    select
        selected.*,
        regions.RegionId                                                    as lookup_region_id,
        regions.RegionName                                                  as lookup_region_name,
        coalesce(services.ServiceName, named.ServiceName)                   as lookup_service_name,
        coalesce(services.ServiceCategory, named.ServiceCategory)           as lookup_service_category,
        coalesce(services.ServiceSubcategory, named.ServiceSubcategory)     as lookup_service_subcategory,
        units.DistinctUnits                                                 as lookup_pricing_unit,
        cast(units.PricingBlockSize as decimal(38, 10))                     as pricing_block_size
    from selected
    -- a commitment row without a resource (purchase, unused) takes the commitment's resource type
    left join services on lower(services.ResourceType) = coalesce(
        selected.resource_type, lower(regexp_extract(selected.commitment_id, '/providers/([^/]+/[^/]+)', 1))
    )
    left join services_by_name as named
        on lower(named.ConsumedService) = lower(selected.consumed_service) and named.ServiceName = selected.meter_category
    left join {{azure_regions}} as regions on regions.OriginalValue = lower(selected.resource_location)
    left join {{azure_pricing_units}} as units on units.UnitOfMeasure = selected.unit_of_measure
),

classified as (
    select
        *,
        case
            when charge_type = 'Purchase' then 'Purchase'
            when charge_type = 'Tax' then 'Tax'
            when charge_type = 'Refund' and is_commitment_purchase then 'Purchase'
            when charge_type = 'Refund' then 'Adjustment'
            when charge_type in ('Credit') then 'Credit'
            else 'Usage'
        end                                                                 as charge_category,
        pricing_model in ('Reservation', 'SavingsPlan')
            and charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') as is_commitment_usage,
        charge_type in ('UnusedReservation', 'UnusedSavingsPlan')           as is_unused_commitment
    from enriched
),

priced as (
    select
        *,
        case
            when meter_id is null or charge_category not in ('Usage', 'Purchase') or charge_type = 'Refund' then null
            when is_commitment_purchase then meter_id || '_' || coalesce(pricing_model, 'Purchase') || coalesce('_' || term, '')
            else meter_id
        end                                                                 as sku_price_id,
        case
            when pricing_block_size > 1 then cast(cast(pricing_block_size as bigint) as varchar) || ' ' || lookup_pricing_unit
            else coalesce(lookup_pricing_unit, unit_of_measure)
        end                                                                 as focus_pricing_unit,
        coalesce(nullif(payg_price, 0), unit_price)                         as list_unit_price
    from classified
),

final as (
    select
        cast(null as varchar)                                       as AllocatedMethodId,
        cast(null as json)                                          as AllocatedMethodDetails,
        cast(null as varchar)                                       as AllocatedResourceId,
        cast(null as varchar)                                       as AllocatedResourceName,
        cast(null as json)                                          as AllocatedTags,
        availability_zone                                           as AvailabilityZone,
        case when is_commitment_usage then 0 else cost end          as BilledCost,
        billing_account_id                                          as BillingAccountId,
        billing_account_name                                        as BillingAccountName,
        cast(null as varchar)                                       as BillingAccountType,
        billing_currency                                            as BillingCurrency,
        billing_period_end                                          as BillingPeriodEnd,
        billing_period_start                                        as BillingPeriodStart,
        cast(null as varchar)                                       as CapacityReservationId,
        cast(null as varchar)                                       as CapacityReservationStatus,
        charge_category                                             as ChargeCategory,
        case when charge_type = 'Refund' then 'Correction' end      as ChargeClass,
        coalesce(meter_name, product)                               as ChargeDescription,
        case
            when frequency = 'UsageBased' then 'Usage-Based'
            when frequency = 'OneTime' then 'One-Time'
            when frequency = 'Recurring' then 'Recurring'
            when charge_category = 'Usage' then 'Usage-Based'
            else 'One-Time'
        end                                                         as ChargeFrequency,
        charge_period_end                                           as ChargePeriodEnd,
        charge_period_start                                         as ChargePeriodStart,
        case
            when commitment_id is null then null
            when pricing_model = 'SavingsPlan' or commitment_id ilike '%savingsplan%' then 'Spend'
            else 'Usage'
        end                                                         as CommitmentDiscountCategory,
        commitment_id                                               as CommitmentDiscountId,
        commitment_name                                             as CommitmentDiscountName,
        -- reservations count hours of the covered meter (size flexibility ratios are not exported),
        -- savings plans the amount of commitment (the row's cost) in the billing currency
        case
            when sku_price_id is null or commitment_id is null then null
            when pricing_model = 'SavingsPlan' or commitment_id ilike '%savingsplan%' then cost
            else quantity * coalesce(pricing_block_size, 1)
        end                                                         as CommitmentDiscountQuantity,
        case
            when charge_type in ('UnusedReservation', 'UnusedSavingsPlan') then 'Unused'
            when is_commitment_usage then 'Used'
        end                                                         as CommitmentDiscountStatus,
        case
            when commitment_id is null then null
            when pricing_model = 'SavingsPlan' or commitment_id ilike '%savingsplan%' then 'Savings Plan'
            else 'Reservation'
        end                                                         as CommitmentDiscountType,
        case
            when sku_price_id is null or commitment_id is null then null
            when pricing_model = 'SavingsPlan' or commitment_id ilike '%savingsplan%' then billing_currency
            else coalesce(lookup_pricing_unit, unit_of_measure)
        end                                                         as CommitmentDiscountUnit,
        case when charge_category = 'Usage' and sku_price_id is not null and not is_unused_commitment
            then quantity * coalesce(pricing_block_size, 1) end     as ConsumedQuantity,
        case when charge_category = 'Usage' and sku_price_id is not null and not is_unused_commitment
            then coalesce(lookup_pricing_unit, unit_of_measure) end as ConsumedUnit,
        cast(null as json)                                          as ContractApplied,
        case
            when sku_price_id is not null and unit_price is not null then cast(unit_price * quantity as decimal(38, 10))
            else cost
        end                                                         as ContractedCost,
        case when sku_price_id is not null then unit_price end      as ContractedUnitPrice,
        case when is_commitment_purchase then 0 else cost end       as EffectiveCost,
        'Microsoft'                                                 as HostProviderName,
        invoice_id                                                  as InvoiceId,
        'Microsoft'                                                 as InvoiceIssuerName,
        case
            when sku_price_id is not null and list_unit_price is not null
                then cast(list_unit_price * quantity as decimal(38, 10))
            else cost
        end                                                         as ListCost,
        case when sku_price_id is not null then list_unit_price end as ListUnitPrice,
        case
            when sku_price_id is null then null
            when charge_category = 'Purchase' then 'Standard'
            when pricing_model in ('Reservation', 'SavingsPlan') then 'Committed'
            when pricing_model = 'Spot' then 'Dynamic'
            when pricing_model = 'OnDemand' then 'Standard'
            else 'Other'
        end                                                         as PricingCategory,
        cast(null as varchar)                                       as PricingCurrency,
        cast(null as decimal(38, 10))                               as PricingCurrencyContractedUnitPrice,
        cast(null as decimal(38, 10))                               as PricingCurrencyEffectiveCost,
        cast(null as decimal(38, 10))                               as PricingCurrencyListUnitPrice,
        case when sku_price_id is not null then quantity end        as PricingQuantity,
        case when sku_price_id is not null then focus_pricing_unit end as PricingUnit,
        'Microsoft'                                                 as ProviderName,
        coalesce(publisher_name, 'Microsoft')                       as PublisherName,
        coalesce(lookup_region_id, lower(resource_location))        as RegionId,
        coalesce(lookup_region_name, resource_location)             as RegionName,
        resource_id                                                 as ResourceId,
        resource_name                                               as ResourceName,
        resource_type                                               as ResourceType,
        case when publisher_type = 'Marketplace' then publisher_name else 'Microsoft' end as ServiceProviderName,
        coalesce(lookup_service_category, 'Other')                  as ServiceCategory,
        coalesce(lookup_service_name, meter_category, consumed_service, 'Unknown') as ServiceName,
        coalesce(lookup_service_subcategory, 'Other (Other)')       as ServiceSubcategory,
        case when charge_category <> 'Tax' then meter_id end        as SkuId,
        case when charge_category <> 'Tax' and meter_id is not null then meter_name end as SkuMeter,
        cast(null as json)                                          as SkuPriceDetails,
        sku_price_id                                                as SkuPriceId,
        subscription_id                                             as SubAccountId,
        subscription_name                                           as SubAccountName,
        cast(null as varchar)                                       as SubAccountType,
        case when cast(tags as varchar) in ('{}', 'null') then null else tags end as Tags,
        -- cloudcost extensions
        consumed_service                                            as x_ServiceCode,
        meter_sub_category                                          as x_UsageType,
        charge_type                                                 as x_Operation,
        cast(null as json)                                          as x_Credits,
        'azure'                                                     as x_cloud_provider,
        ingestion_date                                              as x_ingestion_date,
        'cost_details'                                              as x_source_format,
        cast(null as varchar)                                       as x_source_line_item_id,
        x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from priced
)

select * from final
