-- sp_cloud_1_convert_to_focus, OCI part: cost-report rows of one usage day -> FOCUS 1.3 rows.
--
-- Inputs: {{raw_table}} (<org>_prod.cloud_oci_billing_raw_daily), lookups {{oci_services}},
-- {{oci_regions}} and {{oci_pricing_units}}, and
-- $billing_day. OCI reports carry no billing period: it is the calendar month of the usage, with an
-- exclusive end. myCost is what is invoiced (BilledCost) and, with no amortised commitments in the
-- report, also EffectiveCost. Rows flagged isCorrection are ChargeClass 'Correction'. A zero-cost row
-- may leave its currency empty: it takes the currency of the tenancy's other rows that day.
-- Prices: cost/unitPrice is the tenancy's (contract) price of the SKU, so it is ContractedUnitPrice and
-- myCost = unitPrice x billedQuantity is ContractedCost; the report has no list price, so ListUnitPrice
-- stays NULL and ListCost falls back to myCost. The SKU price is the part number's price (SkuPriceId =
-- SkuId = cost/productSku). A correction restates only the cost (it may carry the corrected row's
-- quantity and price, which do not multiply to it): corrections get no SKU price, quantities or prices.

with

source as (
    select *
    from {{raw_table}}
    where ingestion_date = $billing_day
),

renamed as (
    select
        reference_no,
        tenant_id,
        compartment_id,
        compartment_name,
        date_trunc('month', interval_usage_start)                          as billing_period_start,
        date_trunc('month', interval_usage_start) + interval 1 month       as billing_period_end,
        interval_usage_start                                               as charge_period_start,
        interval_usage_end                                                 as charge_period_end,
        lower(coalesce(is_correction, 'false')) = 'true'                   as is_correction,
        service,
        region,
        availability_domain,
        resource_id,
        product_description,
        product_sku,
        billed_quantity,
        unit_price,
        my_cost,
        coalesce(currency_code, max(currency_code) over (partition by tenant_id)) as currency,
        sku_unit_description,
        tags,
        ingestion_date, x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from source
),

enriched as (
    select
        renamed.*,
        services.service_name                                              as lookup_service_name,
        services.service_category                                          as lookup_service_category,
        services.service_subcategory                                       as lookup_service_subcategory,
        regions.region_name                                                as lookup_region_name,
        coalesce(units.focus_unit, renamed.sku_unit_description)           as focus_unit,
        -- the SKU's price applies to the row unless it is a correction (see above)
        case when not renamed.is_correction then renamed.product_sku end   as sku_price_id
    from renamed
    left join {{oci_services}} as services on services.service = renamed.service
    left join {{oci_regions}} as regions on regions.region_code = renamed.region
    left join {{oci_pricing_units}} as units on units.oci_unit = renamed.sku_unit_description
),

final as (
    select
        cast(null as varchar)                                       as AllocatedMethodId,
        cast(null as json)                                          as AllocatedMethodDetails,
        cast(null as varchar)                                       as AllocatedResourceId,
        cast(null as varchar)                                       as AllocatedResourceName,
        cast(null as json)                                          as AllocatedTags,
        availability_domain                                         as AvailabilityZone,
        my_cost                                                     as BilledCost,
        tenant_id                                                   as BillingAccountId,
        cast(null as varchar)                                       as BillingAccountName,
        cast(null as varchar)                                       as BillingAccountType,
        currency                                                    as BillingCurrency,
        billing_period_end                                          as BillingPeriodEnd,
        billing_period_start                                        as BillingPeriodStart,
        cast(null as varchar)                                       as CapacityReservationId,
        cast(null as varchar)                                       as CapacityReservationStatus,
        'Usage'                                                     as ChargeCategory,
        case when is_correction then 'Correction' end               as ChargeClass,
        product_description                                         as ChargeDescription,
        'Usage-Based'                                               as ChargeFrequency,
        charge_period_end                                           as ChargePeriodEnd,
        charge_period_start                                         as ChargePeriodStart,
        cast(null as varchar)                                       as CommitmentDiscountCategory,
        cast(null as varchar)                                       as CommitmentDiscountId,
        cast(null as varchar)                                       as CommitmentDiscountName,
        cast(null as decimal(38, 10))                               as CommitmentDiscountQuantity,
        cast(null as varchar)                                       as CommitmentDiscountStatus,
        cast(null as varchar)                                       as CommitmentDiscountType,
        cast(null as varchar)                                       as CommitmentDiscountUnit,
        case when sku_price_id is not null then billed_quantity end as ConsumedQuantity,
        case when sku_price_id is not null then focus_unit end      as ConsumedUnit,
        cast(null as json)                                          as ContractApplied,
        my_cost                                                     as ContractedCost,
        case when sku_price_id is not null then unit_price end      as ContractedUnitPrice,
        my_cost                                                     as EffectiveCost,
        'Oracle'                                                    as HostProviderName,
        cast(null as varchar)                                       as InvoiceId,
        'Oracle'                                                    as InvoiceIssuerName,
        my_cost                                                     as ListCost,
        cast(null as decimal(38, 10))                               as ListUnitPrice,
        case when sku_price_id is not null then 'Standard' end      as PricingCategory,
        cast(null as varchar)                                       as PricingCurrency,
        cast(null as decimal(38, 10))                               as PricingCurrencyContractedUnitPrice,
        cast(null as decimal(38, 10))                               as PricingCurrencyEffectiveCost,
        cast(null as decimal(38, 10))                               as PricingCurrencyListUnitPrice,
        case when sku_price_id is not null then billed_quantity end as PricingQuantity,
        case when sku_price_id is not null then focus_unit end      as PricingUnit,
        'Oracle'                                                    as ProviderName,
        'Oracle'                                                    as PublisherName,
        region                                                      as RegionId,
        lookup_region_name                                          as RegionName,
        resource_id                                                 as ResourceId,
        cast(null as varchar)                                       as ResourceName,
        -- an OCID names its resource type (ocid1.<type>.<realm>...); other ids (bucket names) take the service
        case
            when resource_id like 'ocid1.%' then split_part(resource_id, '.', 2)
            when resource_id is not null then lower(service)
        end                                                         as ResourceType,
        'Oracle'                                                    as ServiceProviderName,
        coalesce(lookup_service_category, 'Other')                  as ServiceCategory,
        coalesce(lookup_service_name, service)                      as ServiceName,
        coalesce(lookup_service_subcategory, 'Other (Other)')       as ServiceSubcategory,
        product_sku                                                 as SkuId,
        case when product_sku is not null then product_description end as SkuMeter,
        cast(null as json)                                          as SkuPriceDetails,
        sku_price_id                                                as SkuPriceId,
        compartment_id                                              as SubAccountId,
        compartment_name                                            as SubAccountName,
        cast(null as varchar)                                       as SubAccountType,
        tags                                                        as Tags,
        -- cloudcost extensions
        service                                                     as x_ServiceCode,
        product_sku                                                 as x_UsageType,
        cast(null as varchar)                                       as x_Operation,
        cast(null as json)                                          as x_Credits,
        'oci'                                                       as x_cloud_provider,
        ingestion_date                                              as x_ingestion_date,
        'cost_report'                                               as x_source_format,
        reference_no                                                as x_source_line_item_id,
        x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from enriched
)

select * from final
