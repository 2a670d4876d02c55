-- sp_cloud_1_focus_1_4, Billing Period: remove the Billing Period rows whose last Cost and Usage row the restated
-- slice took away (an account, issuer, currency or period it no longer holds).
--
-- Only the keys the replaced slice held ({{replaced_periods}}, replaced_periods.sql) can have lost their last row,
-- so only they are checked: a key is gone when the join of the kept keys with the Cost and Usage rows finds no row
-- for it. The join (not a NOT EXISTS over every row of the provider) lets DuckDB skip the row groups of other
-- periods, as billing_period.sql does; the constant provider filter lets BigQuery prune on its first cluster column.
--
-- Inputs: {{billing_period}}, {{focus_1_4}}, {{replaced_periods}}, the bound parameter $provider. Runs after
-- billing_period.sql, in the same transaction.

delete from {{billing_period}} as bp
where bp.x_cloud_provider = $provider
    and exists (
        select 1
        from (
            select x_cloud_provider, BillingAccountId, BillingCurrency, BillingPeriodStart, InvoiceIssuerName
            from {{replaced_periods}}
            except distinct
            select distinct
                c.x_cloud_provider, c.BillingAccountId, c.BillingCurrency, c.BillingPeriodStart, c.InvoiceIssuerName
            from {{focus_1_4}} as c
            inner join {{replaced_periods}} as r
                on c.x_cloud_provider = r.x_cloud_provider
                and c.BillingAccountId = r.BillingAccountId
                and c.BillingCurrency = r.BillingCurrency
                and c.BillingPeriodStart = r.BillingPeriodStart
                and c.InvoiceIssuerName = r.InvoiceIssuerName
            where c.x_cloud_provider = $provider
        ) as gone
        where gone.x_cloud_provider = bp.x_cloud_provider
            and gone.BillingAccountId = bp.x_BillingAccountId
            and gone.BillingCurrency = bp.x_BillingCurrency
            and gone.BillingPeriodStart = bp.BillingPeriodStart
            and gone.InvoiceIssuerName = bp.InvoiceIssuerName
    )
