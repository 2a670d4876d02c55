-- sp_cloud_1_focus_1_4, Cost and Usage: one (provider, billing day) slice of the org's FOCUS 1.3 table -> FOCUS 1.4.
--
-- Inputs: {{focus_1_3}} (<org>_prod.cost_data_standard_1_3, the slice the same transaction just wrote) and the
-- bound parameters $provider and $billing_day. One statement for every provider: the per-provider mapping stays
-- the 1.3 procedure (procedures/sp_cloud_1_convert_to_focus/), so 1.4 can never disagree with 1.3 on a shared column.
-- What 1.4 changes (FOCUS_Spec v1.4, model-1.4.json):
--   ProviderName and PublisherName are removed (ServiceProviderName, HostProviderName and InvoiceIssuerName
--   carry what they said);
--   InvoiceDetailId and CommitmentProgramEligibilityDetails are new, and NULL for every provider: no landed
--   export carries an invoice line identity or the commitment programs a charge is eligible for
--   (configs/focus_conformance.yml, focus_1_4:, says why per provider).

with

source as (
    select *
    from {{focus_1_3}}
    where x_cloud_provider = $provider and x_ingestion_date = $billing_day
),

final as (
    select
        AllocatedMethodId,
        AllocatedMethodDetails,
        AllocatedResourceId,
        AllocatedResourceName,
        AllocatedTags,
        AvailabilityZone,
        BilledCost,
        BillingAccountId,
        BillingAccountName,
        BillingAccountType,
        BillingCurrency,
        BillingPeriodEnd,
        BillingPeriodStart,
        CapacityReservationId,
        CapacityReservationStatus,
        ChargeCategory,
        ChargeClass,
        ChargeDescription,
        ChargeFrequency,
        ChargePeriodEnd,
        ChargePeriodStart,
        CommitmentDiscountCategory,
        CommitmentDiscountId,
        CommitmentDiscountName,
        CommitmentDiscountQuantity,
        CommitmentDiscountStatus,
        CommitmentDiscountType,
        CommitmentDiscountUnit,
        cast(null as json)                       as CommitmentProgramEligibilityDetails,
        ConsumedQuantity,
        ConsumedUnit,
        ContractApplied,
        ContractedCost,
        ContractedUnitPrice,
        EffectiveCost,
        HostProviderName,
        cast(null as varchar)                    as InvoiceDetailId,
        InvoiceId,
        InvoiceIssuerName,
        ListCost,
        ListUnitPrice,
        PricingCategory,
        PricingCurrency,
        PricingCurrencyContractedUnitPrice,
        PricingCurrencyEffectiveCost,
        PricingCurrencyListUnitPrice,
        PricingQuantity,
        PricingUnit,
        RegionId,
        RegionName,
        ResourceId,
        ResourceName,
        ResourceType,
        ServiceProviderName,
        ServiceCategory,
        ServiceName,
        ServiceSubcategory,
        SkuId,
        SkuMeter,
        SkuPriceDetails,
        SkuPriceId,
        SubAccountId,
        SubAccountName,
        SubAccountType,
        Tags,
        x_ServiceCode,
        x_UsageType,
        x_Operation,
        x_Credits,
        x_cloud_provider,
        x_ingestion_date,
        x_source_format,
        x_source_line_item_id,
        x_pipeline_id,
        x_credential_id,
        x_run_id,
        x_ingested_at,
        x_pipeline_run_date
    from source
)

select * from final
