"""The report's sections as display-ready tables, shared by the terminal and HTML outputs.

Both outputs format the same cells, so the page and the terminal never disagree on a number. Money
columns with a TOTAL row are rounded with ``allocate_cents``: the rows add up to the total to the cent.
One currency per sum: the cost tables come once per BillingCurrency (titled with it), every other money
column sits beside a currency column, and no TOTAL adds two currencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cloudcost.report.model import BASIS, MOVERS_METHOD, CostLine, ReportData
from cloudcost.report.money import allocate_cents, money, percent, share, signed_money


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    total: list[str] | None = None
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    row_classes: list[str] = field(default_factory=list)  # per row, for the HTML (e.g. a budget status)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    table: Table | None = None


def heading(data: ReportData) -> str:
    days = len(data.days)
    return (
        f"Cost report for {data.org_name} (org {data.org}, {data.dataset}): {data.start} to {data.end}, "
        f"{days} day{'s' if days != 1 else ''}, {len(data.days_with_data)} with data"
    )


def basis_line() -> str:
    return (
        f"Amounts are {BASIS} (amortised, after discounts and credits) unless headed BilledCost, in the billing "
        "currency named beside them (never converted, never added across currencies), rounded to cents so that "
        "each table adds up to its TOTAL (a row may then be 0.01 off its own rounding)."
    )


def _money_columns(columns: list[list[Decimal]]) -> tuple[list[list[str]], list[str]]:
    """Each column allocated to cents; returns the cells row by row and the TOTAL cells."""
    allocated = [allocate_cents(column) for column in columns]
    rows = [[money(parts[i]) for parts, _ in allocated] for i in range(len(columns[0]) if columns else 0)]
    return rows, [money(total) for _, total in allocated]


def _cost_table(label: str, lines: list[CostLine], total: Decimal) -> Table:
    cells, totals = _money_columns([[x.effective_cost for x in lines], [x.billed_cost for x in lines]])
    rows = [[x.name, *c, percent(share(x.effective_cost, total))] for x, c in zip(lines, cells, strict=True)]
    return Table(
        [label, BASIS, "BilledCost", f"% of {BASIS}"],
        rows,
        ["TOTAL", *totals, percent(share(total, total))],
        frozenset({1, 2, 3}),
    )


def _day_ranges(days: list[date]) -> str:
    """``2026-11-01..2026-11-03, 2026-11-07``: consecutive days as one range."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def summary_section(data: ReportData) -> Section:
    """The totals of each currency (rows of one currency after another), then the days with data."""
    rows = []
    for currency in data.currencies:
        view = data.in_currency(currency)
        rows += [
            [f"{BASIS} (the report's basis)", currency, money(view.effective_cost)],
            ["BilledCost", currency, money(view.billed_cost)],
            [f"untagged {BASIS} (no team tag)", currency, money(view.untagged_effective_cost)],
            ["untagged share of spend", currency, percent(view.untagged_share)],
        ]
    rows.append(["days with data", "", f"{len(data.days_with_data)} of {len(data.days)}"])
    missing = [d for d in data.days if d not in set(data.days_with_data)]
    lines = [f"no rollups for: {_day_ranges(missing)}"] if missing else []
    if len(data.currencies) > 1:
        lines.append(f"billed in {len(data.currencies)} currencies: each has its own totals and tables")
    table = Table(["", "currency", "value"], rows, numeric=frozenset({2}))
    return Section("summary", "Totals", lines + data.notes, table)


def _in(key: str, title: str, currency: str | None, several: bool) -> tuple[str, str]:
    """Section key and title of one currency's table (the key gains the currency where there are several)."""
    if currency is None:
        return key, title
    return (f"{key}-{currency.lower()}" if several else key), f"{title}, in {currency}"


def provider_section(data: ReportData, several: bool = False) -> Section:
    """Per provider, of one currency's data (``in_currency``)."""
    providers = data.providers
    cells, totals = _money_columns(
        [
            [p.effective_cost for p in providers],
            [p.billed_cost for p in providers],
            [p.untagged_effective_cost for p in providers],
        ]
    )
    rows = [
        [p.provider, *c, percent(p.untagged_share), percent(p.untagged_rows_share)]
        for p, c in zip(providers, cells, strict=True)
    ]
    total_rows = sum(p.rows for p in providers)
    total = [
        "TOTAL",
        *totals,
        percent(data.untagged_share),
        percent(share(Decimal(sum(p.untagged_rows for p in providers)), Decimal(total_rows))),
    ]
    headers = ["provider", BASIS, "BilledCost", f"untagged {BASIS}", "untagged % of cost", "untagged % of rows"]
    key, title = _in("providers", "Cost by provider", data.one_currency(), several)
    return Section(key, title, [], Table(headers, rows, total, frozenset(range(1, 6))))


def category_section(data: ReportData, several: bool = False) -> Section:
    """Per ServiceCategory, of one currency's data."""
    key, title = _in("categories", "Cost by service category", data.one_currency(), several)
    return Section(key, title, [], _cost_table("ServiceCategory", data.categories, data.effective_cost))


def team_section(data: ReportData, several: bool = False) -> Section:
    """Per team, of one currency's data."""
    title = "Cost by team (__untagged__: rows without a team tag)"
    key, title = _in("teams", title, data.one_currency(), several)
    return Section(key, title, [], _cost_table("team", data.teams, data.effective_cost))


def movers_section(data: ReportData) -> Section:
    if data.halves is None:
        return Section("movers", "Top movers", ["a one-day range has no halves to compare: no movers"])
    (a1, a2), (b1, b2) = data.halves.first, data.halves.second
    lines = [f"{MOVERS_METHOD}: {b1}..{b2} vs {a1}..{a2}."]
    present = set(data.days_with_data)
    gaps = [
        f"{sum(1 for d in data.days if lo <= d <= hi and d not in present)} day(s) of {lo}..{hi}"
        for lo, hi in (data.halves.first, data.halves.second)
        if any(lo <= d <= hi and d not in present for d in data.days)
    ]
    if gaps:
        lines.append(f"careful: no rollups for {' and '.join(gaps)}; a missing day counts as no cost")
    if not data.movers:
        return Section("movers", "Top movers", [*lines, "no team or service category changed"])
    rows = [
        [m.kind, m.name, m.currency, money(m.before), money(m.after), signed_money(m.change), percent(m.change_share)]
        for m in data.movers
    ]
    headers = ["kind", "name", "currency", f"{a1}..{a2}", f"{b1}..{b2}", "change", "change %"]
    return Section("movers", "Top movers", lines, Table(headers, rows, numeric=frozenset({3, 4, 5, 6})))


def tag_key_section(data: ReportData) -> Section:
    title = "Tag keys on untagged rows that map to no dimension"
    lines = [
        f"Candidates to map in configs/orgs/{data.org}.yml (attribution) or to correct at the source; a row can "
        "carry several keys, so these rows and costs overlap and have no total."
    ]
    if not data.tag_keys:
        return Section("tag-keys", title, ["no unmapped tag keys on untagged rows in the range"])
    rows = [
        [k.provider, k.currency, k.tag_key, str(k.rows), percent(k.rows_share), money(k.effective_cost)]
        for k in data.tag_keys
    ]
    headers = ["provider", "currency", "tag key", "untagged rows with it", "% of provider's untagged rows", BASIS]
    return Section("tag-keys", title, lines, Table(headers, rows, numeric=frozenset({3, 4, 5})))


def budget_section(data: ReportData) -> Section:
    if data.budgets is None:
        return Section(
            "budgets", "Budget status", [f"no budgets evaluated ({data.dataset}.budget_status does not exist yet)"]
        )
    if not data.budgets:
        return Section("budgets", "Budget status", [f"no budgets evaluated for {data.start}..{data.end}"])
    lines = []
    if len(data.currencies) > 1:
        lines.append("a budget judges only spend in its own currency; spend in other currencies is not counted")
    if data.budget_as_of != data.end:
        lines.append(f"the latest evaluation in the range is of {data.budget_as_of}; {data.end} is not evaluated yet")
    rows = [
        [
            b.budget,
            b.team,
            f"{b.period_start}..{b.period_end}",
            b.basis,
            b.currency,
            money(b.amount),
            money(b.actual_to_date),
            money(b.forecast),
            percent(share(b.forecast, b.amount)),
            b.status,
        ]
        for b in data.budgets
    ]
    headers = ["budget", "team", "period", "basis", "currency", "amount", "actual to date", "forecast"]
    headers += ["forecast % of amount", "status"]
    table = Table(headers, rows, numeric=frozenset({5, 6, 7, 8}), row_classes=[b.status.lower() for b in data.budgets])
    return Section("budgets", f"Budget status as of {data.budget_as_of}", lines, table)


def _none_found(data: ReportData, table: str, found: list | None) -> str:
    """Why a section lists nothing: its table is not created yet (no evaluation ran), or none in the range."""
    if found is None:
        return f"no {table} ({data.dataset}.{table} does not exist yet)"
    return f"no {table} in {data.start}..{data.end}"


def anomaly_section(data: ReportData) -> Section:
    anomalies = data.anomalies
    if not anomalies:
        return Section("anomalies", "Anomalies", [_none_found(data, "anomalies", anomalies)])
    rows = [
        [
            str(a.charge_day),
            a.team,
            a.service_category,
            a.currency,
            money(a.cost),
            money(a.baseline_mean),
            f"{a.z_score:.2f}",
            f"{a.threshold:.2f}",
        ]
        for a in anomalies
    ]
    headers = ["day", "team", "ServiceCategory", "currency", BASIS, "baseline mean", "z-score", "threshold"]
    return Section("anomalies", "Anomalies", [], Table(headers, rows, numeric=frozenset({4, 5, 6, 7})))


def alert_section(data: ReportData) -> Section:
    alerts = data.alerts
    if not alerts:
        return Section("alerts", "Alerts", [_none_found(data, "alerts", alerts)])
    rows = [
        [str(a.charge_day), a.kind, a.severity, a.subject, a.message, "resolved" if a.resolved else "open"]
        for a in alerts
    ]
    lines = []
    if any(a.kind == "budget" for a in alerts) and data.budgets:
        lines.append(
            "an alert is raised once and keeps the figures of the day it was raised for; the budget's current "
            f"figures are in the budget status above (as of {data.budget_as_of})"
        )
    headers = ["raised for day", "kind", "severity", "subject", "message (figures as of the raising day)", "state"]
    table = Table(headers, rows, row_classes=[a.severity.lower() for a in alerts])
    return Section("alerts", "Alerts", lines, table)


def build_sections(data: ReportData) -> list[Section]:
    """The report top to bottom (the HTML page puts its charts after the totals); the cost tables once per
    currency, or once without a currency when the range has no spend."""
    views = [data.in_currency(c) for c in data.currencies] or [data]
    several = len(views) > 1
    return [
        summary_section(data),
        *(provider_section(view, several) for view in views),
        *(category_section(view, several) for view in views),
        *(team_section(view, several) for view in views),
        movers_section(data),
        tag_key_section(data),
        budget_section(data),
        anomaly_section(data),
        alert_section(data),
    ]
