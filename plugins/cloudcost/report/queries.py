"""Read an org's rollups for a date range into a ReportData: sums stay exact Decimals end to end.

Reads ``daily_cost_by_team`` and ``untagged_tag_keys`` (written by the cost_rollups DAG), and the evaluation
tables ``budget_status``, ``anomalies`` and ``alerts`` when they exist; a missing evaluation table is
reported as "not evaluated", never as an error. Every sum is grouped by billing_currency as well.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cloudcost.config import OrgConfig, load_org_by_slug
from cloudcost.identifiers import OrgSlug, qualified
from cloudcost.report.model import (
    UNTAGGED,
    AlertLine,
    AnomalyLine,
    BudgetLine,
    CostLine,
    DailyProviderCost,
    Halves,
    Mover,
    ReportData,
    TagKeyLine,
)
from cloudcost.report.money import ZERO
from cloudcost.warehouse import Warehouse, open_warehouse
from cloudcost.warehouse.base import Session

DEFAULT_TOP = 10
TOP_MOVERS = 5  # per kind (teams, service categories)
STATUS_ORDER = {"CRITICAL": 0, "WARNING": 1, "OK": 2}


class ReportUnavailable(RuntimeError):
    """The org has no rollups to report on (the cost_rollups DAG has not run for it)."""


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def fetch_report(
    org: OrgConfig | OrgSlug,
    start: date,
    end: date,
    *,
    top: int = DEFAULT_TOP,
    generated_at: datetime | None = None,
    warehouse: Warehouse | None = None,
) -> ReportData:
    """Everything ``cloudcost report`` shows for ``start``..``end`` (both inclusive billing days)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    org = load_org_by_slug(org) if isinstance(org, str) else org
    dataset = org.dataset
    warehouse = warehouse or open_warehouse()
    with warehouse.session(dataset) as session:
        tables = warehouse.tables(session, dataset)
        if "daily_cost_by_team" not in tables:
            raise ReportUnavailable(
                f"no rollups for org {org.slug}: {dataset}.daily_cost_by_team does not exist "
                "(run the cost_rollups DAG, e.g. `cloudcost demo run`)"
            )
        team_table = qualified(dataset, "daily_cost_by_team")
        window = [start, end]
        daily = [
            DailyProviderCost(
                provider, currency, _dec(eff), _dec(billed), _dec(untagged), int(rows), int(untagged_rows), day=day
            )
            for day, provider, currency, eff, billed, untagged, rows, untagged_rows in session.fetchall(
                f"""select charge_day, provider, billing_currency, sum(effective_cost), sum(billed_cost),
                           sum(effective_cost) filter (where team = ?), sum(rows), sum(untagged_rows)
                    from {team_table} where charge_day between ? and ? group by all order by 1, 2, 3""",
                [UNTAGGED, *window],
            )
        ]
        categories = _cost_lines(session, team_table, "service_category", window)
        teams = _fold(_cost_lines(session, team_table, "team", window), top)
        halves = Halves.of(start, end)
        movers = []
        if halves is not None:
            for kind, column in (("team", "team"), ("service category", "service_category")):
                movers += _movers(session, team_table, kind, column, halves, TOP_MOVERS)
        notes: list[str] = []
        tag_keys = _tag_keys(session, tables, dataset, window, daily, top, notes)
        budgets, as_of = _budgets(session, tables, dataset, window)
        anomalies = _anomalies(session, tables, dataset, window)
        alerts = _alerts(session, tables, dataset, window)
    return ReportData(
        org=org.slug,
        org_name=org.display_name,
        dataset=dataset,
        start=start,
        end=end,
        daily=daily,
        categories=categories,
        teams=teams,
        movers=movers,
        halves=halves,
        tag_keys=tag_keys,
        budgets=budgets,
        budget_as_of=as_of,
        anomalies=anomalies,
        alerts=alerts,
        generated_at=generated_at,
        notes=notes,
    )


def _cost_lines(session: Session, table: str, column: str, window: list[date]) -> list[CostLine]:
    """EffectiveCost and BilledCost per value of ``column`` (a fixed column name) and currency, largest first."""
    rows = session.fetchall(
        f"select {column}, billing_currency, sum(effective_cost), sum(billed_cost) from {table} "
        "where charge_day between ? and ? group by all",
        window,
    )
    lines = [CostLine(name, currency, _dec(eff), _dec(billed)) for name, currency, eff, billed in rows]
    return sorted(lines, key=lambda line: (line.currency, -line.effective_cost, line.name))


def _fold(lines: list[CostLine], top: int) -> list[CostLine]:
    """Per currency, the ``top`` largest lines and one "other" line for the rest, so each table still adds up."""
    folded = []
    for currency in sorted({line.currency for line in lines}):
        mine = [line for line in lines if line.currency == currency]
        if len(mine) <= top + 1:
            folded += mine
            continue
        rest = mine[top:]
        other = CostLine(
            f"other ({len(rest)} teams)",
            currency,
            sum((line.effective_cost for line in rest), ZERO),
            sum((line.billed_cost for line in rest), ZERO),
            count=len(rest),
        )
        folded += [*mine[:top], other]
    return folded


def _movers(session: Session, table: str, kind: str, column: str, halves: Halves, limit: int) -> list[Mover]:
    """Per currency, the ``limit`` values of ``column`` whose EffectiveCost changed most between the halves."""
    (a1, a2), (b1, b2) = halves.first, halves.second
    rows = session.fetchall(
        f"""select {column}, billing_currency,
                   sum(effective_cost) filter (where charge_day between ? and ?),
                   sum(effective_cost) filter (where charge_day between ? and ?)
            from {table} where charge_day between ? and ? group by all""",
        [a1, a2, b1, b2, a1, b2],
    )
    movers = [Mover(kind, name, currency, _dec(before), _dec(after)) for name, currency, before, after in rows]
    movers = [m for m in movers if m.change != 0]
    ranked = []
    for currency in sorted({m.currency for m in movers}):
        mine = [m for m in movers if m.currency == currency]
        ranked += sorted(mine, key=lambda m: (-abs(m.change), m.name))[:limit]
    return ranked


def _tag_keys(
    session: Session,
    tables: set[str],
    dataset: str,
    window: list[date],
    daily: list[DailyProviderCost],
    top: int,
    notes: list[str],
) -> list[TagKeyLine]:
    if "untagged_tag_keys" not in tables:
        notes.append(f"{dataset}.untagged_tag_keys does not exist: no tag keys to suggest")
        return []
    untagged_rows: dict[tuple[str, str], int] = {}
    for d in daily:
        key = (d.provider, d.currency)
        untagged_rows[key] = untagged_rows.get(key, 0) + d.untagged_rows
    rows = session.fetchall(
        f"""select provider, billing_currency, tag_key, sum(rows), sum(effective_cost)
            from {qualified(dataset, "untagged_tag_keys")} where charge_day between ? and ?
            group by all order by 4 desc, 5 desc, 1, 2, 3 limit ?""",
        [*window, top],
    )
    return [
        TagKeyLine(provider, currency, key, int(n), _dec(cost), untagged_rows.get((provider, currency), 0))
        for provider, currency, key, n, cost in rows
    ]


def _budgets(
    session: Session, tables: set[str], dataset: str, window: list[date]
) -> tuple[list[BudgetLine] | None, date | None]:
    """Budgets as of the last evaluated day in the range (the range's last day once it is evaluated)."""
    if "budget_status" not in tables:
        return None, None
    table = qualified(dataset, "budget_status")
    (as_of,) = session.fetchall(f"select max(as_of_day) from {table} where as_of_day between ? and ?", window)[0]
    if as_of is None:
        return [], None
    lines = [
        BudgetLine(budget, team, basis, currency, _dec(amount), _dec(actual), _dec(forecast), status, start, end)
        for budget, team, basis, currency, amount, actual, forecast, status, start, end in session.fetchall(
            f"""select budget, team, basis, currency, amount, actual_to_date, forecast, status, period_start, period_end
                from {table} where as_of_day = ?""",
            [as_of],
        )
    ]
    return sorted(lines, key=lambda b: (STATUS_ORDER.get(b.status, 3), b.budget, b.team)), as_of


def _anomalies(session: Session, tables: set[str], dataset: str, window: list[date]) -> list[AnomalyLine] | None:
    if "anomalies" not in tables:
        return None
    return [
        AnomalyLine(day, team, category, currency, _dec(cost), _dec(mean), _dec(z), _dec(threshold))
        for day, team, category, currency, cost, mean, z, threshold in session.fetchall(
            f"""select charge_day, team, service_category, billing_currency, cost, baseline_mean, z_score, threshold
                from {qualified(dataset, "anomalies")} where charge_day between ? and ?
                order by charge_day, abs(z_score) desc, team, service_category, billing_currency""",
            window,
        )
    ]


def _alerts(session: Session, tables: set[str], dataset: str, window: list[date]) -> list[AlertLine] | None:
    if "alerts" not in tables:
        return None
    return [
        AlertLine(day, kind, severity, subject, message, resolved_at is not None)
        for day, kind, severity, subject, message, resolved_at in session.fetchall(
            f"""select charge_day, kind, severity, subject, message, resolved_at
                from {qualified(dataset, "alerts")} where charge_day between ? and ?
                order by charge_day, case severity when 'CRITICAL' then 0 else 1 end, kind, subject""",
            window,
        )
    ]
