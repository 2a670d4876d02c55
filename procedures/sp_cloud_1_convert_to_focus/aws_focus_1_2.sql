-- sp_cloud_1_convert_to_focus, AWS part: the AWS FOCUS 1.2 export of one billing day -> FOCUS 1.3 rows.
--
-- Inputs: {{raw_table}} (<org>_prod.cloud_aws_focus_billing_raw_daily) and the bound parameter
-- $billing_day. AWS already applies the FOCUS conventions; this part carries the 1.2 columns over
-- unchanged and fills what 1.3 adds:
--   ServiceProviderName and HostProviderName: the 1.2 ProviderName (AWS is both seller and host);
--   Allocated* and ContractApplied: NULL (the export has no split-cost allocation or contract data);
--   InvoiceIssuerName: AWS leaves it empty on some rows (a documented conformance gap of its 1.2
--   export); PublisherName, the entity that sold the charge, stands in for it there.
-- The AWS columns x_ServiceCode and x_Operation keep their names; SkuMeter is AWS's usage type.

with

source as (
    select *
    from {{raw_table}}
    where ingestion_date = $billing_day
),

final as (
    select
        -- added in FOCUS 1.3
        cast(null as varchar)                               as AllocatedMethodId,
        cast(null as json)                                  as AllocatedMethodDetails,
        cast(null as varchar)                               as AllocatedResourceId,
        cast(null as varchar)                               as AllocatedResourceName,
        cast(null as json)                                  as AllocatedTags,
        cast(null as json)                                  as ContractApplied,
        ProviderName                                        as ServiceProviderName,
        ProviderName                                        as HostProviderName,
        coalesce(InvoiceIssuerName, PublisherName)          as InvoiceIssuerName,
        -- carried over from FOCUS 1.2
        AvailabilityZone                                    as AvailabilityZone,
        BilledCost                                          as BilledCost,
        BillingAccountId                                    as BillingAccountId,
        BillingAccountName                                  as BillingAccountName,
        BillingAccountType                                  as BillingAccountType,
        BillingCurrency                                     as BillingCurrency,
        BillingPeriodEnd                                    as BillingPeriodEnd,
        BillingPeriodStart                                  as BillingPeriodStart,
        CapacityReservationId                               as CapacityReservationId,
        CapacityReservationStatus                           as CapacityReservationStatus,
        ChargeCategory                                      as ChargeCategory,
        ChargeClass                                         as ChargeClass,
        ChargeDescription                                   as ChargeDescription,
        ChargeFrequency                                     as ChargeFrequency,
        ChargePeriodEnd                                     as ChargePeriodEnd,
        ChargePeriodStart                                   as ChargePeriodStart,
        CommitmentDiscountCategory                          as CommitmentDiscountCategory,
        CommitmentDiscountId                                as CommitmentDiscountId,
        CommitmentDiscountName                              as CommitmentDiscountName,
        CommitmentDiscountQuantity                          as CommitmentDiscountQuantity,
        CommitmentDiscountStatus                            as CommitmentDiscountStatus,
        CommitmentDiscountType                              as CommitmentDiscountType,
        CommitmentDiscountUnit                              as CommitmentDiscountUnit,
        ConsumedQuantity                                    as ConsumedQuantity,
        ConsumedUnit                                        as ConsumedUnit,
        ContractedCost                                      as ContractedCost,
        ContractedUnitPrice                                 as ContractedUnitPrice,
        EffectiveCost                                       as EffectiveCost,
        InvoiceId                                           as InvoiceId,
        ListCost                                            as ListCost,
        ListUnitPrice                                       as ListUnitPrice,
        PricingCategory                                     as PricingCategory,
        PricingCurrency                                     as PricingCurrency,
        PricingCurrencyContractedUnitPrice                  as PricingCurrencyContractedUnitPrice,
        PricingCurrencyEffectiveCost                        as PricingCurrencyEffectiveCost,
        PricingCurrencyListUnitPrice                        as PricingCurrencyListUnitPrice,
        PricingQuantity                                     as PricingQuantity,
        PricingUnit                                         as PricingUnit,
        ProviderName                                        as ProviderName,
        PublisherName                                       as PublisherName,
        RegionId                                            as RegionId,
        RegionName                                          as RegionName,
        ResourceId                                          as ResourceId,
        ResourceName                                        as ResourceName,
        ResourceType                                        as ResourceType,
        ServiceCategory                                     as ServiceCategory,
        ServiceName                                         as ServiceName,
        ServiceSubcategory                                  as ServiceSubcategory,
        SkuId                                               as SkuId,
        SkuMeter                                            as SkuMeter,
        SkuPriceDetails                                     as SkuPriceDetails,
        SkuPriceId                                          as SkuPriceId,
        SubAccountId                                        as SubAccountId,
        SubAccountName                                      as SubAccountName,
        SubAccountType                                      as SubAccountType,
        Tags                                                as Tags,
        -- cloudcost extensions
        x_ServiceCode                                       as x_ServiceCode,
        SkuMeter                                            as x_UsageType,
        x_Operation                                         as x_Operation,
        cast(null as json)                                      as x_Credits,
        'aws'                                               as x_cloud_provider,
        ingestion_date                                      as x_ingestion_date,
        'focus_1_2'                                         as x_source_format,
        cast(null as varchar)                               as x_source_line_item_id,
        x_pipeline_id, x_credential_id, x_run_id, x_ingested_at, x_pipeline_run_date
    from source
)

select * from final
