"""What landed: rows and cost per provider, and raw vs FOCUS reconciliation; ``full`` lists every day and
ServiceCategory, and every account and day.

Every FOCUS sum is grouped by BillingCurrency too, so no line adds amounts in two currencies. Amounts are
compared exactly (as the pipeline's check does) and only shown to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.identifiers import OrgSlug, qualified
from cloudcost.money_format import cents
from cloudcost.schemas import focus_schema, quote_column
from cloudcost.warehouse import open_warehouse


@dataclass(frozen=True)
class Reconciled:
    """Raw vs FOCUS for one billing account and day (None: nothing on that side)."""

    day: date
    provider: str
    account: str
    currency: str
    raw_rows: int | None
    focus_rows: int
    raw_billed: Decimal | None
    focus_billed: Decimal

    @property
    def ok(self) -> bool:
        return self.raw_billed == self.focus_billed


def _table(headers: list[str], rows: list[tuple]) -> str:
    """Text columns left, numbers right (and their headers with them)."""
    numeric = [any(isinstance(row[i], (int, Decimal)) for row in rows) for i in range(len(headers))]
    cells = [headers, *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return cents(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _fetch(org_slug: OrgSlug) -> tuple[str, list[tuple], list[Reconciled]]:
    org = load_org_by_slug(org_slug)
    focus = qualified(org.dataset, focus_schema().table)
    warehouse = open_warehouse()
    with warehouse.session(org.dataset) as session:
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
            if not warehouse.table_exists(session, org.dataset, fmt.table):
                continue
            filters = sorted(fmt.reconcile.only_where.items())
            where = " and ".join(f"{quote_column(c)} = ?" for c, _ in filters) or "true"
            for day, acct, rows, cost in session.fetchall(
                f"select ingestion_date, {account}, count(*), sum({billed}) from {table} where {where} group by all",
                [v for _, v in filters],
            ):
                raw[(day, provider, acct)] = (rows, cost)
    recon = []
    for d, p, a, cur, n, c in by_day:
        raw_rows, raw_billed = raw.get((d, p, a), (None, None))
        recon.append(Reconciled(d, p, a, cur, raw_rows, n, raw_billed, c))
    return focus, by_category, recon


def _per_provider(by_category: list[tuple]) -> list[tuple]:
    """(provider, currency, days, first..last, rows, BilledCost, EffectiveCost), in first-seen provider order."""
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in by_category:
        groups[(row[1], row[3])].append(row)
    out = []
    for (provider, currency), rows in groups.items():
        days = sorted({r[0] for r in rows})
        out.append(
            (
                provider,
                currency,
                len(days),
                f"{days[0]}..{days[-1]}",
                sum(r[4] for r in rows),
                sum((r[5] for r in rows), Decimal(0)),
                sum((r[6] for r in rows), Decimal(0)),
            )
        )
    return out


def _reconciliation_per_provider(recon: list[Reconciled]) -> list[tuple]:
    groups: dict[tuple[str, str], list[Reconciled]] = defaultdict(list)
    for r in recon:
        groups[(r.provider, r.currency)].append(r)
    out = []
    for (provider, currency), rows in groups.items():
        bad = sum(not r.ok for r in rows)
        out.append(
            (
                provider,
                currency,
                len({r.account for r in rows}),
                len(rows),
                sum(r.raw_rows or 0 for r in rows),
                sum(r.focus_rows for r in rows),
                sum((r.raw_billed or Decimal(0) for r in rows), Decimal(0)),
                sum((r.focus_billed for r in rows), Decimal(0)),
                "OK" if not bad else f"{bad} MISMATCH",
            )
        )
    return out


RECON_HEADERS = ["raw rows", "FOCUS rows", "raw BilledCost", "FOCUS BilledCost", "result"]


def summarize(org_slug: OrgSlug, full: bool = False) -> str:
    """A plain-text report of the org's FOCUS table and its reconciliation with each raw table: per provider,
    with every mismatching account and day listed; ``full`` adds the per-day tables."""
    focus, by_category, recon = _fetch(org_slug)
    mismatches = [r for r in recon if not r.ok]
    parts = [
        f"FOCUS 1.3 rows in {focus}, per provider (amounts to the cent):",
        _table(
            ["provider", "currency", "days", "billing days", "rows", "BilledCost", "EffectiveCost"],
            _per_provider(by_category),
        ),
        "Reconciliation, raw export vs FOCUS BilledCost (compared exactly, shown to the cent), per provider:",
        _table(
            ["provider", "currency", "accounts", "account-days", *RECON_HEADERS], _reconciliation_per_provider(recon)
        ),
    ]
    if mismatches:
        parts += ["Mismatching accounts and days:", _recon_table(mismatches)]
    if full:
        parts += [
            "Per billing day and ServiceCategory:",
            _table(
                ["day", "provider", "ServiceCategory", "currency", "rows", "BilledCost", "EffectiveCost"], by_category
            ),
            "Reconciliation per billing account and day:",
            _recon_table(recon),
        ]
    else:
        parts.append(f"Every day, ServiceCategory and account: cloudcost summary --org {org_slug} --full")
    return "\n\n".join(parts)


def _recon_table(rows: list[Reconciled]) -> str:
    return _table(
        ["day", "provider", "account", "currency", *RECON_HEADERS],
        [
            (
                r.day,
                r.provider,
                r.account,
                r.currency,
                r.raw_rows,
                r.focus_rows,
                r.raw_billed,
                r.focus_billed,
                "OK" if r.ok else "MISMATCH",
            )
            for r in rows
        ],
    )
