-- sp_cloud_1_focus_1_4, Billing Period: the FOCUS 1.4 Billing Period rows of the periods one (provider, billing day)
-- slice holds or held before this convert, rebuilt from every Cost and Usage row of those (account, period) pairs.
--
-- Inputs: {{focus_1_4}} (<org>_prod.cost_data_standard_1_4, the slice the same transaction just wrote),
-- {{replaced_periods}} (the keys the replaced slice held, replaced_periods.sql), {{billing_period}}
-- (<org>_prod.focus_billing_period_1_4, the rows before this rebuild), and the bound parameters
-- $provider and $billing_day. One row per provider, billing account, billing period, invoice issuer and currency.
--   BillingPeriodStatus: 'Closed' only when every row of the period carries a non-blank InvoiceId (AWS's
--   bill_invoice_id and Azure's InvoiceId appear once the period is invoiced; an empty CSV cell is not an invoice);
--   else 'Open'. GCP and OCI rows carry no InvoiceId, so their periods stay 'Open' (configs/focus_conformance.yml,
--   versions."1.4".additions, says why).
--   BillingPeriodCreated / LastUpdated: the earliest / latest landing (x_ingested_at, the delivery's landed_at)
--   of the period's rows, never the clock; a rebuild keeps an earlier Created and a later LastUpdated, so a
--   restated period does not look newly created.

with

touched as (
    select x_cloud_provider, BillingAccountId, BillingPeriodStart
    from {{focus_1_4}}
    where x_cloud_provider = $provider and x_ingestion_date = $billing_day
    union distinct
    select x_cloud_provider, BillingAccountId, BillingPeriodStart
    from {{replaced_periods}}
),

period_rows as (
    select
        c.x_cloud_provider,
        c.BillingAccountId,
        c.BillingCurrency,
        c.BillingPeriodStart,
        c.BillingPeriodEnd,
        c.InvoiceIssuerName,
        c.InvoiceId,
        c.x_ingested_at
    from {{focus_1_4}} as c
    -- a semi join (not an inner join) lets DuckDB build on the few touched keys and skip the row groups of other
    -- periods (a year of 120 M rows: one month read, not all; BENCHMARKS.md); the constant provider filter is what
    -- BigQuery prunes on (its first cluster column)
    where c.x_cloud_provider = $provider
        and exists (
            select 1
            from touched as t
            where c.x_cloud_provider = t.x_cloud_provider
                and c.BillingAccountId = t.BillingAccountId
                and c.BillingPeriodStart = t.BillingPeriodStart
        )
),

periods as (
    select
        x_cloud_provider,
        BillingAccountId,
        BillingCurrency,
        BillingPeriodStart,
        InvoiceIssuerName,
        max(BillingPeriodEnd)                                       as period_end,
        min(x_ingested_at)                                          as first_landed,
        max(x_ingested_at)                                          as last_landed,
        count(nullif(trim(InvoiceId), '')) = count(*)                 as invoiced
    from period_rows
    group by x_cloud_provider, BillingAccountId, BillingCurrency, BillingPeriodStart, InvoiceIssuerName
),

previous as (
    select
        x_cloud_provider,
        x_BillingAccountId,
        x_BillingCurrency,
        BillingPeriodStart,
        InvoiceIssuerName,
        BillingPeriodCreated,
        BillingPeriodLastUpdated
    from {{billing_period}}
    where x_cloud_provider = $provider
),

final as (
    select
        least(p.first_landed, coalesce(b.BillingPeriodCreated, p.first_landed))          as BillingPeriodCreated,
        p.period_end                                                                     as BillingPeriodEnd,
        greatest(p.last_landed, coalesce(b.BillingPeriodLastUpdated, p.last_landed))     as BillingPeriodLastUpdated,
        p.BillingPeriodStart                                                             as BillingPeriodStart,
        case when p.invoiced then 'Closed' else 'Open' end                               as BillingPeriodStatus,
        p.InvoiceIssuerName                                                              as InvoiceIssuerName,
        p.x_cloud_provider                                                               as x_cloud_provider,
        p.BillingAccountId                                                               as x_BillingAccountId,
        p.BillingCurrency                                                                as x_BillingCurrency
    from periods as p
    left join previous as b
        on b.x_cloud_provider = p.x_cloud_provider
        and b.x_BillingAccountId = p.BillingAccountId
        and b.x_BillingCurrency = p.BillingCurrency
        and b.BillingPeriodStart = p.BillingPeriodStart
        and b.InvoiceIssuerName = p.InvoiceIssuerName
)

select * from final
