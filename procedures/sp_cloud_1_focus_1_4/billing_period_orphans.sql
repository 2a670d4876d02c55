-- sp_cloud_1_focus_1_4, Billing Period: remove the provider's Billing Period rows that no Cost and Usage row holds
-- any more (a restated slice took away the last rows of an account, issuer or period).
--
-- Inputs: {{billing_period}}, {{focus_1_4}}, the bound parameter $provider. Runs after billing_period.sql, in the
-- same transaction.

delete from {{billing_period}} as bp
where bp.x_cloud_provider = $provider
    and not exists (
        select 1
        from {{focus_1_4}} as c
        where c.x_cloud_provider = bp.x_cloud_provider
            and c.BillingAccountId = bp.x_BillingAccountId
            and c.BillingCurrency = bp.x_BillingCurrency
            and c.BillingPeriodStart = bp.BillingPeriodStart
            and c.InvoiceIssuerName = bp.InvoiceIssuerName
    )
