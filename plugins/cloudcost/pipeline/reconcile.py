"""Stage ``check``: raw and FOCUS must agree exactly (so to the cent), per billing account, for the run's day."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.money_format import cents
from cloudcost.schemas import focus_schema, quote_column
from cloudcost.warehouse.base import Warehouse

log = logging.getLogger(__name__)


class ReconciliationFailed(AssertionError):
    """Raw and FOCUS totals differ; the message lists every account that does not match."""


@dataclass(frozen=True)
class ReconcileResult:
    accounts: int
    raw_rows: int
    focus_rows: int
    billed_cost: str
    mismatches: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def reconcile(
    warehouse: Warehouse,
    dataset: str,
    raw_table: str,
    account_column: str,
    billed_cost_column: str,
    run: RunContext,
    only_where: dict[str, str] | None = None,
) -> ReconcileResult:
    """Compare sum(BilledCost) per BillingAccountId with the raw table's billed cost, exactly (both are DECIMAL
    sums of the same stored values, so to the last stored decimal, finer than the cent); raise on any gap. An
    account with no rows on one side (Azure: amortized rows but no actual ones) counts as 0 there."""
    raw = qualified(dataset, raw_table)
    filters = sorted((only_where or {}).items())
    raw_filter = "".join(f" and {quote_column(column)} = $only_{i}" for i, (column, _) in enumerate(filters))
    focus = qualified(dataset, focus_schema().table)
    sql = f"""
        with raw_side as (
            select {quote_column(account_column)} as account, count(*) as n,
                   sum({quote_column(billed_cost_column)}) as cost
            from {raw} where ingestion_date = $day {raw_filter} group by 1
        ),
        focus_side as (
            select BillingAccountId as account, count(*) as n, sum(BilledCost) as cost
            from {focus} where x_cloud_provider = $provider and x_ingestion_date = $day group by 1
        )
        select coalesce(r.account, f.account) as account, r.n, f.n, r.cost, f.cost
        from raw_side r full outer join focus_side f on r.account = f.account
        order by 1
    """
    with warehouse.session() as session:
        params: dict[str, object] = {"day": run.billing_day, "provider": run.provider}
        params.update({f"only_{i}": value for i, (_, value) in enumerate(filters)})
        rows = session.fetchall(sql, params)
    mismatches = [
        {"account": account, "raw_cost": str(raw_cost), "focus_cost": str(focus_cost)}
        for account, _, _, raw_cost, focus_cost in rows
        if (raw_cost or 0) != (focus_cost or 0)  # an account absent on one side has a sum of 0 there
    ]
    result = ReconcileResult(
        accounts=len(rows),
        raw_rows=sum(r[1] or 0 for r in rows),
        focus_rows=sum(r[2] or 0 for r in rows),
        billed_cost=str(sum((r[3] or 0) for r in rows)),
        mismatches=mismatches,
    )
    if mismatches:
        detail = "; ".join(f"{m['account']}: raw {m['raw_cost']} vs FOCUS {m['focus_cost']}" for m in mismatches[:20])
        raise ReconciliationFailed(
            f"{run.org}/{run.provider} {run.billing_day}: BilledCost does not reconcile for "
            f"{len(mismatches)} billing account(s): {detail}"
        )
    log.info(
        "reconcile %s/%s %s: raw and FOCUS BilledCost agree exactly for %d billing account(s): %s raw rows, "
        "%s FOCUS rows, BilledCost %s (billing currency, to the cent).",
        run.org,
        run.provider,
        run.billing_day,
        result.accounts,
        f"{result.raw_rows:,}",
        f"{result.focus_rows:,}",
        cents(result.billed_cost),
    )
    return result
