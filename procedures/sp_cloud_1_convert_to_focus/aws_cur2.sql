-- sp_cloud_1_convert_to_focus, AWS part: CUR 2.0 raw rows of one billing day -> FOCUS 1.3 rows.
--
-- Inputs: {{raw_table}} (<org>_prod.cloud_aws_billing_raw_daily), lookups {{aws_services}},
-- {{aws_regions}} and {{aws_pricing_units}} (configs/lookups/), and the bound parameter $billing_day
-- (the run's data interval).
-- The caller deletes the (aws, billing day) slice of the FOCUS table and inserts this SELECT in one
-- transaction. Conventions (FOCUS spec examples): commitment-covered usage has BilledCost 0 and its
-- amortised cost in EffectiveCost; commitment purchases have EffectiveCost 0, and the unused part of a
-- recurring commitment fee is its own Usage row (status Unused); SavingsPlanNegation rows only cancel the on-demand
-- cost of covered usage, so they are folded away (their BilledCost and the covered rows' on-demand
-- BilledCost sum to zero per day).

with

source as (
    select *
    from {{raw_table}}
    where ingestion_date = $billing_day
),

renamed as (
    select
        -- keys and accounts
        identity_line_item_id                                   as line_item_id,
        bill_payer_account_id                                   as billing_account_id,
        bill_payer_account_name                                 as billing_account_name,
        line_item_usage_account_id                              as sub_account_id,
        line_item_usage_account_name                            as sub_account_name,
        bill_invoice_id                                         as invoice_id,
        bill_invoicing_entity                                   as invoicing_entity,
        bill_billing_entity                                     as billing_entity,
        bill_bill_type                                          as bill_type,
        line_item_legal_entity                                  as legal_entity,
        -- periods
        bill_billing_period_start_date                          as billing_period_start,
        bill_billing_period_end_date                            as billing_period_end,
        line_item_usage_start_date                              as charge_period_start,
        line_item_usage_end_date                                as charge_period_end,
        -- what was charged
        line_item_line_item_type                                as line_item_type,
        line_item_line_item_description                         as description,
        line_item_product_code                                  as product_code,
        line_item_usage_type                                    as usage_type,
        line_item_operation                                     as operation,
        line_item_resource_id                                   as resource_id,
        line_item_availability_zone                             as availability_zone,
        product_region_code                                     as region_code,
        product_sku                                             as sku_id,
        coalesce(pricing_rate_code, pricing_rate_id)            as sku_price_id,
        pricing_term                                            as pricing_term,
        pricing_purchase_option                                 as purchase_option,
        pricing_unit                                            as pricing_unit,
        product_product_family                                  as product_family,
        product ->> 'product_name'                              as product_name,
        resource_tags                                           as resource_tags,
        -- money and quantities (all DECIMAL(38,10) in raw)
        line_item_currency_code                                 as billing_currency,
        line_item_unblended_cost                                as unblended_cost,
        try_cast(line_item_unblended_rate as decimal(38, 10))   as unblended_rate,
        pricing_public_on_demand_cost                           as public_on_demand_cost,
        try_cast(pricing_public_on_demand_rate as decimal(38, 10)) as public_on_demand_rate,
        line_item_usage_amount                                  as usage_amount,
        reservation_effective_cost                              as ri_effective_cost,
        reservation_unused_amortized_upfront_fee_for_billing_period as ri_unused_upfront_fee,
        reservation_unused_recurring_fee                        as ri_unused_recurring_fee,
        reservation_unused_quantity                             as ri_unused_quantity,
        nullif(reservation_reservation_a_r_n, '')               as ri_arn,
        savings_plan_savings_plan_effective_cost                as sp_effective_cost,
        savings_plan_total_commitment_to_date                   as sp_total_commitment,
        savings_plan_used_commitment                            as sp_used_commitment,
        nullif(savings_plan_savings_plan_a_r_n, '')             as sp_arn,
        -- lineage
        ingestion_date, x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from source
    where line_item_line_item_type <> 'SavingsPlanNegation'
),

classified as (
    select
        *,
        case
            when line_item_type = 'Tax' then 'Tax'
            when line_item_type in ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') then 'Purchase'
            -- negotiated and bundled discounts are credits against usage, not usage
            when line_item_type in ('Credit', 'EdpDiscount', 'BundledDiscount', 'PrivateRateDiscount', 'SppDiscount', 'Discount')
                then 'Credit'
            when line_item_type = 'Refund' then 'Adjustment'
            else 'Usage'
        end as charge_category,
        line_item_type in ('SavingsPlanCoveredUsage', 'DiscountedUsage') as is_commitment_covered,
        -- the line item type says which commitment a row belongs to even when the ARN column is absent
        case
            when sp_arn is not null or line_item_type like 'SavingsPlan%' then 'Savings Plan'
            when ri_arn is not null or line_item_type in ('DiscountedUsage', 'RIFee') then 'Reserved Instance'
        end as commitment_type,
        coalesce(sp_arn, ri_arn) as commitment_id,
        case
            when line_item_type = 'SavingsPlanRecurringFee'
                then coalesce(sp_total_commitment, 0) - coalesce(sp_used_commitment, 0)
            when line_item_type = 'RIFee' then coalesce(ri_unused_upfront_fee, 0) + coalesce(ri_unused_recurring_fee, 0)
            else 0
        end as unused_commitment_cost
    from renamed
),

enriched as (
    select
        classified.*,
        services.service_name                                   as lookup_service_name,
        services.service_category                               as lookup_service_category,
        services.service_subcategory                            as lookup_service_subcategory,
        regions.region_name                                     as lookup_region_name,
        coalesce(units.focus_unit, classified.pricing_unit)     as focus_unit
    from classified
    left join {{aws_services}} as services on services.product_code = classified.product_code
    left join {{aws_regions}} as regions on regions.region_code = classified.region_code
    left join {{aws_pricing_units}} as units on units.aws_unit = classified.pricing_unit
),

split as (
    -- A recurring commitment fee becomes two FOCUS rows: the purchase (billed, EffectiveCost 0) and, when
    -- part of the commitment went unused, a Usage row with status Unused carrying that part as its
    -- EffectiveCost and billed 0 (the spec's unused-commitment example).
    select *
    from enriched
    union all
    select * exclude (unused_quantity) replace (
        'UnusedCommitment'                                      as line_item_type,
        'Usage'                                                 as charge_category,
        'Unused commitment: ' || coalesce(description, commitment_id) as description,
        line_item_id || '#unused'                               as line_item_id,
        commitment_id                                           as resource_id,
        cast(0 as decimal(38, 10))                              as unblended_cost,
        -- the unused hours, priced at the commitment's own hourly rate
        unused_quantity * unblended_rate                        as public_on_demand_cost,
        unblended_rate                                          as public_on_demand_rate,
        unused_quantity                                         as usage_amount
    )
    from (
        select
            *,
            cast(
                case
                    when commitment_type = 'Reserved Instance' and ri_unused_quantity is not null then ri_unused_quantity
                    else unused_commitment_cost / nullif(unblended_rate, 0)
                end as decimal(38, 10)
            ) as unused_quantity
        from enriched
    )
    where line_item_type in ('RIFee', 'SavingsPlanRecurringFee') and unused_commitment_cost > 0
),

final as (
    select
        -- FOCUS 1.3 columns, alphabetical as in the spec
        cast(null as varchar)                                   as AllocatedMethodId,
        cast(null as json)                                      as AllocatedMethodDetails,
        cast(null as varchar)                                   as AllocatedResourceId,
        cast(null as varchar)                                   as AllocatedResourceName,
        cast(null as json)                                      as AllocatedTags,
        availability_zone                                       as AvailabilityZone,
        case when line_item_type = 'SavingsPlanCoveredUsage' then 0 else unblended_cost end as BilledCost,
        billing_account_id                                      as BillingAccountId,
        billing_account_name                                    as BillingAccountName,
        cast(null as varchar)                                   as BillingAccountType,
        billing_currency                                        as BillingCurrency,
        billing_period_end                                      as BillingPeriodEnd,
        billing_period_start                                    as BillingPeriodStart,
        cast(null as varchar)                                   as CapacityReservationId,
        cast(null as varchar)                                   as CapacityReservationStatus,
        charge_category                                         as ChargeCategory,
        case when charge_period_start < billing_period_start then 'Correction' end as ChargeClass,
        description                                             as ChargeDescription,
        case
            when charge_category = 'Usage' then 'Usage-Based'
            when line_item_type in ('RIFee', 'SavingsPlanRecurringFee') then 'Recurring'
            when charge_category = 'Tax' then 'Recurring'
            else 'One-Time'
        end                                                     as ChargeFrequency,
        charge_period_end                                       as ChargePeriodEnd,
        charge_period_start                                     as ChargePeriodStart,
        case commitment_type when 'Savings Plan' then 'Spend' when 'Reserved Instance' then 'Usage' end
                                                                as CommitmentDiscountCategory,
        commitment_id                                           as CommitmentDiscountId,
        cast(null as varchar)                                   as CommitmentDiscountName,
        case
            when sku_price_id is null or commitment_id is null or charge_category not in ('Usage', 'Purchase') then null
            when line_item_type = 'SavingsPlanCoveredUsage' then coalesce(sp_effective_cost, 0)
            -- a Savings Plan purchase row buys the dollars it bills (spec purchase scenarios 1-3: upfront and
            -- recurring parts each carry their own amount, not the plan's hourly total)
            when line_item_type in ('SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') then unblended_cost
            when line_item_type in ('DiscountedUsage', 'RIFee') then usage_amount
            when line_item_type = 'UnusedCommitment' and commitment_type = 'Savings Plan' then unused_commitment_cost
            when line_item_type = 'UnusedCommitment' then ri_unused_quantity
        end                                                     as CommitmentDiscountQuantity,
        case when is_commitment_covered then 'Used' when line_item_type = 'UnusedCommitment' then 'Unused' end
                                                                as CommitmentDiscountStatus,
        commitment_type                                         as CommitmentDiscountType,
        case
            when sku_price_id is null or commitment_id is null or charge_category not in ('Usage', 'Purchase') then null
            when commitment_type = 'Savings Plan' then billing_currency
            else 'Hours'
        end                                                     as CommitmentDiscountUnit,
        -- quantities and unit prices only where a SKU price identifies them (FOCUS: null without SkuPriceId)
        case when charge_category = 'Usage' and sku_price_id is not null and line_item_type <> 'UnusedCommitment'
            then usage_amount end                               as ConsumedQuantity,
        case when charge_category = 'Usage' and sku_price_id is not null and line_item_type <> 'UnusedCommitment'
            then focus_unit end                                 as ConsumedUnit,
        cast(null as json)                                      as ContractApplied,
        case
            when line_item_type in ('DiscountedUsage', 'UnusedCommitment') then coalesce(public_on_demand_cost, 0)
            else unblended_cost
        end                                                     as ContractedCost,
        case
            when sku_price_id is null then null
            when line_item_type = 'DiscountedUsage' then public_on_demand_rate  -- the RI's rate is 0: price before it
            when charge_category in ('Usage', 'Purchase') then unblended_rate
        end                                                     as ContractedUnitPrice,
        case
            when line_item_type = 'SavingsPlanCoveredUsage' then coalesce(sp_effective_cost, 0)
            when line_item_type = 'DiscountedUsage' then coalesce(ri_effective_cost, 0)
            when line_item_type = 'UnusedCommitment' then unused_commitment_cost
            when line_item_type in ('SavingsPlanRecurringFee', 'RIFee', 'SavingsPlanUpfrontFee') then 0
            when line_item_type = 'Fee' and ri_arn is not null then 0
            else unblended_cost
        end                                                     as EffectiveCost,
        'AWS'                                                   as HostProviderName,
        invoice_id                                              as InvoiceId,
        coalesce(invoicing_entity, legal_entity)                as InvoiceIssuerName,
        coalesce(public_on_demand_cost, unblended_cost)         as ListCost,
        case
            when sku_price_id is null then null
            when charge_category = 'Usage' then public_on_demand_rate
            when charge_category = 'Purchase' then unblended_rate
        end                                                     as ListUnitPrice,
        case
            when sku_price_id is null then null
            when charge_category = 'Purchase' then 'Standard'
            when charge_category <> 'Usage' then null
            when is_commitment_covered or pricing_term = 'Reserved' or line_item_type = 'UnusedCommitment' then 'Committed'
            when pricing_term = 'Spot' or purchase_option = 'Spot' then 'Dynamic'
            when pricing_term = 'OnDemand' then 'Standard'
            else 'Other'
        end                                                     as PricingCategory,
        cast(null as varchar)                                   as PricingCurrency,
        cast(null as decimal(38, 10))                           as PricingCurrencyContractedUnitPrice,
        cast(null as decimal(38, 10))                           as PricingCurrencyEffectiveCost,
        cast(null as decimal(38, 10))                           as PricingCurrencyListUnitPrice,
        case when charge_category in ('Usage', 'Purchase') and sku_price_id is not null then usage_amount end
                                                                as PricingQuantity,
        case when charge_category in ('Usage', 'Purchase') and sku_price_id is not null then focus_unit end
                                                                as PricingUnit,
        'AWS'                                                   as ProviderName,
        case when billing_entity = 'AWS Marketplace' then legal_entity else 'AWS' end as PublisherName,
        region_code                                             as RegionId,
        lookup_region_name                                      as RegionName,
        -- a commitment purchase whose line names no resource is the purchase of the commitment itself
        case when charge_category = 'Purchase' then coalesce(nullif(resource_id, ''), commitment_id)
            else nullif(resource_id, '') end                    as ResourceId,
        cast(null as varchar)                                   as ResourceName,
        case when nullif(resource_id, '') is not null or (charge_category = 'Purchase' and commitment_id is not null)
            then coalesce(product_family, commitment_type) end
                                                                as ResourceType,
        case when billing_entity = 'AWS Marketplace' then legal_entity else 'AWS' end as ServiceProviderName,
        coalesce(lookup_service_category, 'Other')              as ServiceCategory,
        coalesce(lookup_service_name, product_name, product_code) as ServiceName,
        coalesce(lookup_service_subcategory, 'Other (Other)') as ServiceSubcategory,
        sku_id                                                  as SkuId,
        case when sku_id is not null then usage_type end        as SkuMeter,
        cast(null as json)                                      as SkuPriceDetails,
        sku_price_id                                            as SkuPriceId,
        sub_account_id                                          as SubAccountId,
        sub_account_name                                        as SubAccountName,
        cast(null as varchar)                                   as SubAccountType,
        case when cast(resource_tags as varchar) in ('{}', 'null') then null else resource_tags end as Tags,
        -- cloudcost extensions
        product_code                                            as x_ServiceCode,
        usage_type                                              as x_UsageType,
        operation                                               as x_Operation,
        cast(null as json)                                      as x_Credits,
        'aws'                                                   as x_cloud_provider,
        ingestion_date                                          as x_ingestion_date,
        'cur2'                                                  as x_source_format,
        line_item_id                                            as x_source_line_item_id,
        x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from split
)

select * from final
