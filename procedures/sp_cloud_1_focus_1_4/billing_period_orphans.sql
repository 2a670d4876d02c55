-- sp_cloud_1_focus_1_4, Billing Period: remove the Billing Period rows whose last Cost and Usage row the restated
-- slice took away (an account, issuer, currency or period it no longer holds).
--
-- Only the keys the replaced slice held ({{replaced_periods}}, replaced_periods.sql) can have lost their last row,
-- so only they are checked, against the Cost and Usage rows of their own (account, period) pairs: a daily convert
-- reads what billing_period.sql reads, never the provider's whole history.
--
-- Inputs: {{billing_period}}, {{focus_1_4}}, {{replaced_periods}}, the bound parameter $provider. Runs after
-- billing_period.sql, in the same transaction.

delete from {{billing_period}} as bp
where bp.x_cloud_provider = $provider
    and exists (
        select 1
        from {{replaced_periods}} as r
        where r.x_cloud_provider = bp.x_cloud_provider
            and r.BillingAccountId = bp.x_BillingAccountId
            and r.BillingCurrency = bp.x_BillingCurrency
            and r.BillingPeriodStart = bp.BillingPeriodStart
            and r.InvoiceIssuerName = bp.InvoiceIssuerName
    )
    and not exists (
        select 1
        from {{focus_1_4}} as c
        where c.x_cloud_provider = bp.x_cloud_provider
            and c.BillingAccountId = bp.x_BillingAccountId
            and c.BillingCurrency = bp.x_BillingCurrency
            and c.BillingPeriodStart = bp.BillingPeriodStart
            and c.InvoiceIssuerName = bp.InvoiceIssuerName
    )
