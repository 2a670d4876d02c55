"""Daily in-warehouse rules for the FOCUS 1.4 Billing Period rows one (provider, billing day) slice touched.

The referee judges the Billing Period dataset weekly on a sample; these row-level checks gate every run, on the
periods the day's 1.4 Cost and Usage slice holds (the ones its convert just rebuilt). A period is keyed by
provider, billing account, currency, period start and invoice issuer, and each key the slice holds must have
exactly one Billing Period row: none means the rebuild missed it, two mean it appended instead of replacing.
"""

from __future__ import annotations

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.schemas import billing_period_1_4_schema, focus_1_4_schema
from cloudcost.warehouse.base import Session

BILLING_PERIOD_VERSION = "1.4"  # the FOCUS version whose Billing Period dataset we produce
_KEY = (  # (Billing Period column, Cost and Usage column)
    ("x_cloud_provider", "x_cloud_provider"),
    ("x_BillingAccountId", "BillingAccountId"),
    ("x_BillingCurrency", "BillingCurrency"),
    ("BillingPeriodStart", "BillingPeriodStart"),
    ("InvoiceIssuerName", "InvoiceIssuerName"),
)
# rule id -> SQL predicate true for an offending Billing Period row of a touched period
ROW_RULES = {
    "BillingPeriodDataset-start-before-end": "not (BillingPeriodStart < BillingPeriodEnd)",
    "BillingPeriodDataset-status-allowed": (
        "BillingPeriodStatus is null or BillingPeriodStatus not in ('Open', 'Closed')"
    ),
    "BillingPeriodDataset-created-not-after-updated": "not (BillingPeriodCreated <= BillingPeriodLastUpdated)",
}
ONE_ROW_PER_PERIOD = "BillingPeriodDataset-one-row-per-period"


def _counts_sql(dataset: str) -> str:
    periods = qualified(dataset, billing_period_1_4_schema().table)
    cost_and_usage = qualified(dataset, focus_1_4_schema().table)
    on = " and ".join(f"p.{bp} = t.{cau}" for bp, cau in _KEY)
    keys = ", ".join(f"t.{cau}" for _, cau in _KEY)
    row_counts = ", ".join(f"(select count(*) from touched_rows where {rule})" for rule in ROW_RULES.values())
    return (
        f"with touched as (select distinct {', '.join(cau for _, cau in _KEY)} from {cost_and_usage} "
        "where x_cloud_provider = ? and x_ingestion_date = ?), "
        f"touched_rows as (select p.* from {periods} as p inner join touched as t on {on}), "
        f"copies as (select count(p.x_cloud_provider) as n from touched as t left join {periods} as p on {on} "
        f"group by {keys}) "
        f"select {row_counts}, (select count(*) from copies where n <> 1)"
    )


def billing_period_violations(session: Session, dataset: str, run: RunContext) -> dict[str, int]:
    """Rule id -> offending rows (for the one-row rule: periods without exactly one row) among the Billing Period
    rows of the periods the run's 1.4 Cost and Usage slice holds, in the caller's session."""
    row = session.fetchall(_counts_sql(dataset), [run.provider, run.billing_day])[0]
    return {rule_id: int(n) for rule_id, n in zip([*ROW_RULES, ONE_ROW_PER_PERIOD], row, strict=True)}
