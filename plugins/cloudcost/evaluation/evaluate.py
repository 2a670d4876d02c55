"""Evaluate an org's budgets and anomalies for one billing day, write what was found, raise the alerts.

Runs after the day's rollups were refreshed (the cost_rollups DAG's ``evaluate`` task): an evaluation never
reads a rollup that was not refreshed, and its failure never touches ingestion. Re-running a day replaces
its budget_status and anomalies slices; an alert is raised once per alert_key and notified at most once per
suppression window; budget alerts of the month that no longer hold are resolved.

One currency per sum: a budget judges only the spend in its own currency (other currencies are reported
separately, never converted or counted towards it), and each anomaly series is one (team, ServiceCategory,
BillingCurrency).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from cloudcost.config import OrgConfig
from cloudcost.evaluation.anomalies import judge, month_start
from cloudcost.evaluation.forecast import TRAILING_DAYS, forecast_month, month_bounds
from cloudcost.evaluation.notifiers import Notify, build_notifiers
from cloudcost.identifiers import qualified
from cloudcost.money_format import amount
from cloudcost.rollups.upgrade import CURRENCY, ensure_current_tables, lacks, upgrade_alerts, upgrade_anomalies
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.base import Session, SliceKey, Warehouse

BASIS_COLUMN = {"EffectiveCost": "effective_cost", "BilledCost": "billed_cost"}


@dataclass(frozen=True)
class EvaluationResult:
    day: str
    budgets: dict[str, str]  # budget -> status
    anomalies: list[str]  # team/service_category (currency)
    alerts_raised: int
    alerts_notified: int
    alerts_resolved: int

    def as_dict(self) -> dict:
        return asdict(self)


def _daily(session: Session, org: OrgConfig, column: str, start: date, end: date, team: str, currency: str) -> dict:
    """Daily sums of ``column`` in one currency (spend in any other currency is left out, not converted)."""
    where = "" if team == "*" else " and team = ?"
    rows = session.fetchall(
        f"select charge_day, sum({column}) from {qualified(org.dataset, 'daily_cost_by_team')} "
        f"where charge_day between ? and ? and billing_currency = ?{where} group by 1",
        [start, end, currency, *([] if team == "*" else [team])],
    )
    return {day: Decimal(value) for day, value in rows}


def budget_rows(session: Session, org: OrgConfig, day: date, now: datetime) -> list[dict]:
    """One budget_status row per configured budget, as of ``day``."""
    start, end = month_bounds(day)
    rows = []
    for budget in org.budgets:
        first = day - timedelta(days=TRAILING_DAYS)
        series = _daily(session, org, BASIS_COLUMN[budget.basis], first, day, budget.team, budget.currency)
        actual, forecast = forecast_month(series, day)
        status = "OK"
        if actual >= budget.critical_at * budget.amount:
            status = "CRITICAL"
        elif forecast >= budget.warn_at * budget.amount:
            status = "WARNING"
        rows.append(
            {
                "as_of_day": day,
                "budget": budget.name,
                "team": budget.team,
                "period_start": start,
                "period_end": end,
                "basis": budget.basis,
                "currency": budget.currency,
                "amount": budget.amount,
                "actual_to_date": actual,
                "forecast": forecast,
                "status": status,
                "evaluated_at": now,
            }
        )
    return rows


def anomaly_rows(session: Session, org: OrgConfig, day: date, now: datetime) -> list[dict]:
    """Flagged (team, ServiceCategory, currency) costs of ``day`` against their trailing baselines."""
    settings = org.anomalies
    table = qualified(org.dataset, "daily_cost_by_team")
    first = day - timedelta(days=settings.baseline_days * 3)
    complete = [
        d
        for (d,) in session.fetchall(
            f"select distinct charge_day from {table} where charge_day between ? and ?", [first, day]
        )
    ]
    if day not in complete or month_start(day):
        return []  # the day's rollup was not refreshed (never judge an incomplete day), or month-start charges
    complete = [d for d in complete if not month_start(d)]
    series: dict[tuple[str, str, str], dict[date, Decimal]] = {}
    for d, team, category, currency, cost in session.fetchall(
        f"select charge_day, team, service_category, billing_currency, sum(effective_cost) from {table} "
        "where charge_day between ? and ? group by all",
        [first, day],
    ):
        series.setdefault((team, category, currency), {})[d] = Decimal(cost)
    rows = []
    for (team, category, currency), costs in sorted(series.items()):
        threshold = settings.team_thresholds.get(team, settings.threshold_sigma)
        found = judge(costs, day, complete, settings.baseline_days, settings.min_baseline_days)
        if found is None or found.cost < settings.min_cost or not found.is_anomaly(threshold):
            continue
        rows.append(
            {
                "charge_day": day,
                "team": team,
                "service_category": category,
                "cost": found.cost,
                "baseline_mean": found.mean,
                "baseline_stddev": found.stddev,
                "z_score": found.z_score,
                "threshold": threshold,
                "baseline_days": found.baseline_days,
                "evaluated_at": now,
                "billing_currency": currency,
            }
        )
    return rows


def _alerts_for(budgets: list[dict], anomalies: list[dict]) -> list[dict]:
    alerts = []
    for row in budgets:
        if row["status"] == "OK":
            continue
        critical = row["status"] == "CRITICAL"
        value, threshold = (row["actual_to_date"], row["amount"]) if critical else (row["forecast"], row["amount"])
        measure = "spent" if critical else "forecast"
        alerts.append(
            {
                "alert_key": f"budget:{row['budget']}:{row['period_start']}:{row['status']}",
                "kind": "budget",
                "severity": row["status"],
                "subject": row["budget"],
                "charge_day": row["as_of_day"],
                "message": (
                    f"budget {row['budget']} ({row['team']}): {measure} {amount(value, row['currency'])} of "
                    f"{amount(row['amount'], row['currency'])} for {row['period_start']:%Y-%m} "
                    f"as of {row['as_of_day']}"
                ),
                "value": value,
                "threshold": threshold,
                "currency": row["currency"],
            }
        )
    for row in anomalies:
        subject, currency = f"{row['team']}/{row['service_category']}", row["billing_currency"]
        alerts.append(
            {
                "alert_key": f"anomaly:{subject}:{row['charge_day']}:{currency}",
                "kind": "anomaly",
                "severity": "WARNING",
                "subject": subject,
                "charge_day": row["charge_day"],
                "message": (
                    f"{subject} cost {amount(row['cost'], currency)} on {row['charge_day']} is "
                    f"{row['z_score']:.1f} sigma from its {row['baseline_days']}-day baseline "
                    f"(mean {amount(row['baseline_mean'], currency)})"
                ),
                "value": row["cost"],
                "threshold": row["threshold"],
                "currency": currency,
            }
        )
    return alerts


def _upgrade(warehouse: Warehouse, session: Session, dataset: str, legacy: list[str]) -> None:
    """Tables made before amounts carried their currency (rollups/upgrade.py says what each gets)."""
    if "anomalies" in legacy:
        upgrade_anomalies(warehouse, session, dataset)
    if "alerts" in legacy:
        upgrade_alerts(warehouse, session, dataset)


def _insert(session: Session, table: str, rows: list[dict]) -> None:
    for row in rows:
        columns = list(row)
        session.execute(
            f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
            list(row.values()),
        )


def evaluate_day(
    warehouse: Warehouse, org: OrgConfig, day: date, now: datetime, notifiers: list[Notify] | None = None
) -> EvaluationResult:
    """Write the day's budget_status and anomalies, raise new alerts, notify, resolve stale budget alerts."""
    notify = build_notifiers(org.alerts.notifiers) if notifiers is None else notifiers
    names = ("budget_status", "anomalies", "alerts")
    alerts_table = qualified(org.dataset, "alerts")

    def evaluate() -> tuple[list[dict], list[dict], list[dict], list[tuple], list[tuple]]:
        with warehouse.session(org.dataset) as session:
            if lacks(warehouse, session, org.dataset, "daily_cost_by_team", CURRENCY):
                raise RuntimeError(f"{org.dataset}.daily_cost_by_team has no {CURRENCY}: refresh the rollups first")
            legacy = ensure_current_tables(warehouse, session, org.dataset, names)
            with warehouse.transaction(session):
                _upgrade(warehouse, session, org.dataset, legacy)
                for name in legacy:
                    warehouse.ensure_table(session, org.dataset, load_table_schema(f"rollups/{name}.yml"))
                budgets = budget_rows(session, org, day, now)
                anomalies = anomaly_rows(session, org, day, now)
                warehouse.delete_slice(session, SliceKey.of(org.dataset, "budget_status", as_of_day=day))
                warehouse.delete_slice(session, SliceKey.of(org.dataset, "anomalies", charge_day=day))
                _insert(session, qualified(org.dataset, "budget_status"), budgets)
                _insert(session, qualified(org.dataset, "anomalies"), anomalies)
                raised = _alerts_for(budgets, anomalies)
                known = {k for (k,) in session.fetchall(f"select alert_key from {alerts_table}")}
                new = [a | {"raised_at": now} for a in raised if a["alert_key"] not in known]
                _insert(session, alerts_table, new)
                keys = [a["alert_key"] for a in raised]
                start, _ = month_bounds(day)
                stale = (
                    "kind = 'budget' and resolved_at is null and charge_day between ? and ? "
                    "and not list_contains(?, alert_key)"
                )
                resolved = session.fetchall(f"select alert_key from {alerts_table} where {stale}", [start, day, keys])
                session.execute(f"update {alerts_table} set resolved_at = ? where {stale}", [now, start, day, keys])
                cutoff = now - timedelta(hours=org.alerts.suppress_hours)
                due = session.fetchall(
                    f"select alert_key, kind, severity, subject, charge_day, message from {alerts_table} "
                    "where list_contains(?, alert_key) and resolved_at is null "
                    "and (notified_at is null or notified_at < ?) order by alert_key",
                    [keys, cutoff],
                )
        return budgets, anomalies, new, resolved, due

    # the org's budget_status, anomalies and alerts are shared by its days: a backfill's evaluation of another
    # day can cancel this transaction (warehouse/conflicts.py)
    budgets, anomalies, new, resolved, due = warehouse.retry_conflicts(evaluate, f"evaluate {org.slug} {day}")
    notified = 0
    for key, kind, severity, subject, charge_day, message in due:
        alert = {"key": key, "kind": kind, "severity": severity, "subject": subject, "day": str(charge_day)}
        for send in notify:
            send(org.slug, alert | {"message": message})
        notified += 1
        with warehouse.session(org.dataset) as session:
            session.execute(f"update {alerts_table} set notified_at = ? where alert_key = ?", [now, key])
    return EvaluationResult(
        str(day),
        {row["budget"]: row["status"] for row in budgets},
        [f"{row['team']}/{row['service_category']} ({row['billing_currency']})" for row in anomalies],
        len(new),
        notified,
        len(resolved),
    )
