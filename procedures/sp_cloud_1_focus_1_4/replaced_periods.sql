-- sp_cloud_1_focus_1_4, Billing Period: the billing-period keys the (provider, billing day) slice held before this
-- convert replaces it. Only these keys can lose their last Cost and Usage row, so billing_period.sql rebuilds them
-- too and billing_period_orphans.sql checks only them (not the provider's whole history).
--
-- Inputs: {{focus_1_4}} before the 1.4 slice is deleted, the bound parameters $provider and $billing_day. Each
-- engine keeps the result in a temporary table of the convert's transaction ({{replaced_periods}}).

select distinct
    x_cloud_provider,
    BillingAccountId,
    BillingCurrency,
    BillingPeriodStart,
    InvoiceIssuerName
from {{focus_1_4}}
where x_cloud_provider = $provider and x_ingestion_date = $billing_day
