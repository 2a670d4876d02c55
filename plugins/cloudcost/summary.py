"""What landed: rows and cost per day and service category, and raw vs FOCUS per account and day.

Every FOCUS sum is grouped by BillingCurrency too, so no line adds amounts in two currencies.
"""

from __future__ import annotations

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.identifiers import qualified
from cloudcost.schemas import focus_schema, quote_column
from cloudcost.warehouse import open_warehouse


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [headers, *[[("" if v is None else str(v)) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summarize(org_slug: str) -> str:
    """A plain-text report of the org's FOCUS table and its reconciliation with each raw table."""
    org = load_org_by_slug(org_slug)
    focus = qualified(org.dataset, focus_schema().table)
    with open_warehouse().session() as session:
        by_category = session.fetchall(
            f"""select x_ingestion_date, x_cloud_provider, ServiceCategory, BillingCurrency,
                       count(*), sum(BilledCost), sum(EffectiveCost)
                from {focus} group by all order by 1, 2, 3, 4"""
        )
        by_day = session.fetchall(
            f"""select x_ingestion_date, x_cloud_provider, BillingAccountId, BillingCurrency, count(*), sum(BilledCost)
                from {focus} group by all order by 1, 2, 3, 4"""
        )
        raw = {}
        for provider, entry in org.providers.items():
            if not entry.enabled:
                continue
            fmt = load_billing_config(provider).formats[entry.export.format]
            table = qualified(org.dataset, fmt.table)
            account, billed = quote_column(fmt.reconcile.billing_account), quote_column(fmt.reconcile.billed_cost)
            if not session.fetchall(
                "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                [org.dataset, fmt.table],
            ):
                continue
            filters = sorted(fmt.reconcile.only_where.items())
            where = " and ".join(f"{quote_column(c)} = ?" for c, _ in filters) or "true"
            for day, acct, rows, cost in session.fetchall(
                f"select ingestion_date, {account}, count(*), sum({billed}) from {table} where {where} group by all",
                [v for _, v in filters],
            ):
                raw[(day, provider, acct)] = (rows, cost)
    recon = [
        (
            d,
            p,
            a,
            cur,
            raw.get((d, p, a), (None, None))[0],
            n,
            raw.get((d, p, a), (None, None))[1],
            c,
            "OK" if raw.get((d, p, a), (None, None))[1] == c else "MISMATCH",
        )
        for d, p, a, cur, n, c in by_day
    ]
    return "\n\n".join(
        [
            f"FOCUS 1.3 rows in {focus}, per billing day and ServiceCategory:",
            _table(
                ["day", "provider", "ServiceCategory", "currency", "rows", "BilledCost", "EffectiveCost"], by_category
            ),
            "Reconciliation, raw export vs FOCUS, per billing account and day (BilledCost to the cent):",
            _table(
                ["day", "provider", "account", "currency", "raw rows", "FOCUS rows", "raw billed", "FOCUS billed", ""],
                recon,
            ),
        ]
    )
