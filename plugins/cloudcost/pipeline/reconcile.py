"""Stage ``check``: raw and FOCUS must agree exactly (so to the cent), per billing account, for the run's day."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.money_format import cents
from cloudcost.schemas import focus_1_4_schema, focus_schema, quote_column
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
    with warehouse.session(dataset) as session:
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


FOCUS_1_4_SUMS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def reconcile_focus_1_4(warehouse: Warehouse, dataset: str, run: RunContext) -> int:
    """The day's FOCUS 1.4 slice must equal its 1.3 slice per billing account: row count and the sums of
    BilledCost, EffectiveCost, ListCost and ContractedCost, exactly (DECIMAL on both sides). Both are written in one
    transaction, so a gap means the 1.3 -> 1.4 statement lost or changed rows; raise naming each account. Returns
    the number of billing accounts compared."""
    sums = ", ".join(f"sum({quote_column(c)}) as {quote_column(c)}" for c in FOCUS_1_4_SUMS)
    pairs = ", ".join(f"a.{quote_column(c)}, b.{quote_column(c)}" for c in FOCUS_1_4_SUMS)
    sides = {
        side: f"""
            select BillingAccountId as account, count(*) as n, {sums}
            from {qualified(dataset, schema.table)}
            where x_cloud_provider = $provider and x_ingestion_date = $day group by 1"""
        for side, schema in (("v13", focus_schema()), ("v14", focus_1_4_schema()))
    }
    sql = f"""
        with v13 as ({sides["v13"]}), v14 as ({sides["v14"]})
        select coalesce(a.account, b.account), a.n, b.n, {pairs}
        from v13 a full outer join v14 b on a.account = b.account
        order by 1
    """
    with warehouse.session(dataset) as session:
        rows = session.fetchall(sql, {"provider": run.provider, "day": run.billing_day})
    gaps = []
    for account, n13, n14, *amounts in rows:
        differ = [
            f"{name} {amounts[2 * i]} vs {amounts[2 * i + 1]}"
            for i, name in enumerate(FOCUS_1_4_SUMS)
            if (amounts[2 * i] or 0) != (amounts[2 * i + 1] or 0)
        ]
        if (n13 or 0) != (n14 or 0):
            differ.insert(0, f"rows {n13 or 0} vs {n14 or 0}")
        if differ:
            gaps.append(f"{account}: {', '.join(differ)}")
    if gaps:
        raise ReconciliationFailed(
            f"{run.org}/{run.provider} {run.billing_day}: the FOCUS 1.4 slice differs from the 1.3 slice (1.3 vs 1.4) "
            f"for {len(gaps)} billing account(s): {'; '.join(gaps[:20])}"
        )
    log.info(
        "focus_1_4 %s/%s %s: the FOCUS 1.4 slice equals the 1.3 slice for %d billing account(s) (rows, Billed/"
        "Effective/List/ContractedCost, exactly).",
        run.org,
        run.provider,
        run.billing_day,
        len(rows),
    )
    return len(rows)
