"""Budgets (forecast), anomalies and alerts on known series."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cloudcost.config import AlertSettings, Budget, Notifier, load_org_by_slug
from cloudcost.evaluation.anomalies import judge
from cloudcost.evaluation.evaluate import evaluate_day
from cloudcost.evaluation.forecast import forecast_month
from cloudcost.evaluation.notifiers import build_notifiers
from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse import open_warehouse

D = Decimal


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def test_forecast_is_month_to_date_plus_weekday_means() -> None:
    # weekdays cost 10, weekends 2, for the four weeks up to Wed 2026-11-04
    history = {d: D(2) if d.weekday() >= 5 else D(10) for d in _days(date(2026, 10, 8), 28)}
    actual, forecast = forecast_month(history, date(2026, 11, 4))
    assert actual == D(32)  # Sun 1 (2) + Mon 2, Tue 3, Wed 4 (10 each)
    remaining = _days(date(2026, 11, 5), 26)
    expected = actual + sum((D(2) if d.weekday() >= 5 else D(10) for d in remaining), D(0))
    assert forecast == expected


def test_forecast_without_weekday_history_is_linear() -> None:
    actual, forecast = forecast_month({date(2026, 11, 1): D("30"), date(2026, 11, 2): D("10")}, date(2026, 11, 2))
    assert actual == D(40)
    # Sundays and Mondays left (8, 9, 15, 16, 22, 23, 29, 30) take their own means, 30 and 10; the other
    # 20 days take the mean of all days, 20
    assert forecast == D(40) + 4 * D(30) + 4 * D(10) + 20 * D(20)


def test_anomaly_rule_on_a_known_series() -> None:
    days = _days(date(2026, 11, 1), 15)
    series = dict(zip(days, [D(v) for v in (10, 11, 9, 10, 10, 11, 9, 10, 10, 11, 9, 10, 10, 11)], strict=False))
    series[days[14]] = D(30)
    spike = judge(series, days[14], days, 14, 7)
    assert spike is not None and spike.baseline_days == 14
    assert spike.mean == D("10.0714285714")  # 141 / 14
    assert spike.is_anomaly(D("2.5")) and spike.z_score > 25
    series[days[14]] = D(11)
    assert not judge(series, days[14], days, 14, 7).is_anomaly(D("2.5"))
    assert judge(series, days[5], days, 14, 7) is None  # five baseline days < seven


def test_incomplete_days_are_not_in_the_baseline() -> None:
    days = _days(date(2026, 11, 1), 10)
    series = {d: D(10) for d in days}
    complete = [d for d in days if d != days[4]]  # day 5's rollup was never refreshed
    series[days[4]] = D(0)  # what a half-loaded day would look like
    judged = judge(series, days[9], complete, 14, 7)
    assert judged is not None and judged.baseline_days == 8 and judged.mean == D(10)


def _seed_rollup(rows: list[tuple[date, str, str, str]]) -> None:
    warehouse = open_warehouse()
    schema = load_table_schema("rollups/daily_cost_by_team.yml")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        for day, team, category, cost in rows:
            session.execute(
                f"insert into {qualified('demo_prod', schema.table)} values "
                "(?, 'aws', 'USD', '__untagged__', ?, 'prod', '__untagged__', ?, ?, ?, 1, 1, 0, 0, ?)",
                [day, team, category, D(cost), D(cost), now],
            )


def _alerts() -> list[tuple]:
    with open_warehouse().session("demo_prod") as session:
        return session.fetchall(
            "select alert_key, severity, notified_at is not null, resolved_at is not null "
            "from demo_prod.alerts order by alert_key"
        )


def test_evaluation_writes_status_anomalies_and_alerts_once(data_dir: Path) -> None:
    days = _days(date(2026, 10, 20), 15)  # ... to 2026-11-03
    rows = [(d, "search", "Compute", "100") for d in days] + [(d, "ml", "AI and Machine Learning", "5") for d in days]
    rows[-1] = (days[-1], "ml", "AI and Machine Learning", "400")  # the spike, on 2026-11-03
    _seed_rollup(rows)
    org = load_org_by_slug("demo").model_copy(
        update={
            "budgets": [
                Budget(name="org", team="*", amount=D(4000)),  # forecast 3000 + 27 x ~105 > 80 %
                Budget(name="search", team="search", amount=D(250)),  # 300 spent: critical
                Budget(name="ml", team="ml", amount=D(100000)),
            ],
            "alerts": AlertSettings(suppress_hours=24, notifiers=[]),
        }
    )
    sent: list[dict] = []
    now = datetime(2026, 11, 4, 6, tzinfo=UTC)
    result = evaluate_day(open_warehouse(), org, days[-1], now, [lambda o, a: sent.append(a)])
    assert result.budgets == {"org": "WARNING", "search": "CRITICAL", "ml": "OK"}
    assert result.anomalies == ["ml/AI and Machine Learning (USD)"]
    assert [key for key, *_ in _alerts()] == [
        "anomaly:ml/AI and Machine Learning:2026-11-03:USD",
        "budget:org:2026-11-01:WARNING",
        "budget:search:2026-11-01:CRITICAL",
    ]
    assert len(sent) == 3 and {a["severity"] for a in sent} == {"WARNING", "CRITICAL"}

    again = evaluate_day(open_warehouse(), org, days[-1], now + timedelta(hours=1), [lambda o, a: sent.append(a)])
    assert again.alerts_raised == 0 and again.alerts_notified == 0 and len(sent) == 3  # suppressed
    later = evaluate_day(open_warehouse(), org, days[-1], now + timedelta(hours=25), [lambda o, a: sent.append(a)])
    assert later.alerts_notified == 3  # the suppression window has passed

    relaxed = org.model_copy(update={"budgets": [Budget(name="search", team="search", amount=D(100000))]})
    evaluate_day(open_warehouse(), relaxed, days[-1], now + timedelta(hours=26), [])
    resolved = {key for key, _, _, done in _alerts() if done}
    assert resolved == {"budget:org:2026-11-01:WARNING", "budget:search:2026-11-01:CRITICAL"}


def test_a_day_without_a_refreshed_rollup_is_not_judged(data_dir: Path) -> None:
    days = _days(date(2026, 10, 20), 14)
    _seed_rollup([(d, "ml", "Compute", "5") for d in days])
    org = load_org_by_slug("demo").model_copy(update={"budgets": []})
    result = evaluate_day(open_warehouse(), org, date(2026, 11, 10), datetime.now(UTC), [])
    assert result.anomalies == [] and result.alerts_raised == 0


@pytest.fixture
def webhook() -> tuple[str, list[dict]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/finops", received
    server.shutdown()


def test_webhook_notifier_posts_the_alert_as_json(webhook: tuple[str, list[dict]]) -> None:
    url, received = webhook
    (send,) = build_notifiers([Notifier(type="webhook", url=url)])
    send("demo", {"key": "k", "severity": "WARNING", "subject": "s", "message": "m"})
    assert received == [{"org": "demo", "alert": {"key": "k", "severity": "WARNING", "subject": "s", "message": "m"}}]


def _anomalies() -> list[tuple]:
    with open_warehouse().session("demo_prod") as session:
        return session.fetchall(
            "select charge_day, team, service_category, cost, baseline_mean, baseline_days "
            "from demo_prod.anomalies order by 1, 2, 3"
        )


def test_month_start_charges_are_neither_judged_nor_a_baseline(data_dir: Path) -> None:
    """A known series: 100 a day, plus the month's fees and taxes (250) on every first of the month. The first
    is not judged, and the days after it are judged against baselines without it."""
    days = _days(date(2026, 10, 18), 17)  # ... to 2026-11-03
    costs = {d: D(100) + (D(250) if d.day == 1 else 0) for d in days}
    costs[date(2026, 11, 3)] = D(180)  # a real spike two days after the month start
    _seed_rollup([(d, "__untagged__", "Compute", str(c)) for d, c in costs.items()])
    org = load_org_by_slug("demo").model_copy(update={"budgets": [], "alerts": AlertSettings(notifiers=[])})
    # the rule alone would flag the first: 350 against a flat 100 is far beyond 2.5 sigma
    plain = judge(costs, date(2026, 11, 1), days, 14, 7)
    assert plain is not None and plain.is_anomaly(D("2.5"))

    at = datetime(2026, 11, 4, tzinfo=UTC)
    for day in days[-3:]:
        evaluate_day(open_warehouse(), org, day, at, [])
    [(day, team, category, cost, mean, baseline)] = _anomalies()
    assert (day, team, category, cost) == (date(2026, 11, 3), "__untagged__", "Compute", D(180))
    expected = [d for d in days if d < date(2026, 11, 3) and d.day != 1][-14:]
    assert baseline == len(expected) == 14 and mean == sum(costs[d] for d in expected) / len(expected) == D(100)
    assert [key for key, *_ in _alerts()] == ["anomaly:__untagged__/Compute:2026-11-03:USD"]


def test_budget_alert_text_matches_the_budget_table(data_dir: Path) -> None:
    """The alert names the same figures as budget_status, formatted as the report's tables (thousands
    separators, 2 decimals, currency), and the day they are of."""
    from cloudcost.report.money import money

    days = _days(date(2026, 10, 20), 15)  # ... to 2026-11-03
    _seed_rollup([(d, "search", "Compute", "1234.5678") for d in days])
    org = load_org_by_slug("demo").model_copy(
        update={"budgets": [Budget(name="org", team="*", amount=D(40000))], "alerts": AlertSettings(notifiers=[])}
    )
    evaluate_day(open_warehouse(), org, days[-1], datetime(2026, 11, 4, tzinfo=UTC), [])
    with open_warehouse().session("demo_prod") as session:
        [(forecast, budget, currency, status)] = session.fetchall(
            "select forecast, amount, currency, status from demo_prod.budget_status"
        )
        [(message,)] = session.fetchall("select message from demo_prod.alerts where kind = 'budget'")
    assert status == "WARNING" and forecast > 1000
    assert message == (
        f"budget org (*): forecast {money(forecast)} {currency} of {money(budget)} {currency} for 2026-11 "
        f"as of {days[-1]}"
    )
    assert "," in money(forecast)  # thousands separated, as in the tables
