"""Fault corpus: one org's OCI tenancy billed in EUR beside AWS, Azure and GCP in USD.

The demo generator's OCI reports are rewritten to EUR before landing, then the real pipeline loads all four
clouds. Every expected figure is summed here in Python (Decimal) from the FOCUS rows themselves, never by the
SQL under test: rollups hold one row per currency, a USD budget is judged on USD spend only, an anomaly series
never mixes currencies, and the report shows both currencies and no total across them.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import AlertSettings, Budget, load_org_by_slug
from cloudcost.evaluation.evaluate import evaluate_day
from cloudcost.identifiers import qualified
from cloudcost.paths import landing_dir
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw, run_record
from cloudcost.report.html import render_html
from cloudcost.report.money import money
from cloudcost.report.queries import fetch_report
from cloudcost.report.terminal import render_text
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse import open_warehouse
from tests.helpers import query_warehouse as _query

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]
PROVIDERS = ("aws", "gcp", "azure", "oci")
D = Decimal


def _bill_oci_in_eur() -> int:
    """Rewrite every landed OCI cost report's currency to EUR; the number of rows rewritten."""
    rewritten = 0
    for path in sorted(landing_dir("demo", "oci").rglob("*.csv.gz")):
        rows = list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8"))))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            row["cost/currencyCode"] = "EUR"
            writer.writerow(row)
        rewritten += len(rows)
        path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    return rewritten


def _load(day: date) -> None:
    for provider in PROVIDERS:
        run = make_run_context(
            "demo", provider, day, f"t-{provider}-{day}", f"cloud_{provider}_cost_billing", day, datetime.now(UTC)
        )
        landed = run_land_raw(run)
        run_convert_to_focus(run)
        run_record(run, landed, run_checks(run))


@pytest.fixture
def eur_beside_usd(data_dir: Path, demo_credentials: list[str]) -> Path:
    from cloudcost.cli import main

    assert main(["demo", "generate", "--org", "demo", "--from", str(DAYS[0]), "--to", str(DAYS[-1])]) == 0
    assert _bill_oci_in_eur() > 0
    for day in DAYS:
        _load(day)
    return data_dir


def _focus_sums(day: date, *keys: str) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(BilledCost, EffectiveCost) summed in Python per ``keys`` (FOCUS columns) over the day's FOCUS rows."""
    columns = ", ".join(keys)
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for *key, billed, effective in _query(
        f"select {columns}, BilledCost, EffectiveCost from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ?",
        [day],
    ):
        sums[tuple(key)][0] += billed
        sums[tuple(key)][1] += effective
    return {k: (b, e) for k, (b, e) in sums.items()}


def test_rollups_hold_one_row_per_currency_with_exact_sums(eur_beside_usd: Path) -> None:
    org = load_org_by_slug("demo")
    result = refresh_rollups(open_warehouse(), org, DAYS[0], datetime.now(UTC))
    focus = _focus_sums(DAYS[0], "x_cloud_provider", "BillingCurrency")
    assert {currency for _, currency in focus} == {"USD", "EUR"}
    assert [p for p, c in focus if c == "EUR"] == ["oci"]  # the fault: one tenancy billed in EUR
    rollup = {
        (p, c): (b, e)
        for p, c, b, e in _query(
            "select provider, billing_currency, sum(billed_cost), sum(effective_cost) "
            "from demo_prod.daily_cost_by_team where charge_day = ? group by all",
            [DAYS[0]],
        )
    }
    assert rollup == focus  # to the cent and beyond: exact DECIMALs, one currency per row

    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for (_, currency), (_, effective) in focus.items():
        per_currency[currency] += effective
    assert {c: D(v) for c, v in result.effective_cost.items()} == per_currency
    mixed = _query(
        "select count(*) from (select charge_day, provider, team, service_category from demo_prod.daily_cost_by_team "
        "group by all having count(distinct billing_currency) > 1)"
    )[0][0]
    assert mixed == 0  # no group holds two currencies: each provider bills in one here
    keys = _query("select distinct provider, billing_currency from demo_prod.untagged_tag_keys order by 1")
    assert ("oci", "EUR") in keys and all(c == "USD" for p, c in keys if p != "oci")


def test_a_usd_budget_is_judged_on_usd_spend_only(eur_beside_usd: Path) -> None:
    base = load_org_by_slug("demo")
    for day in DAYS:
        refresh_rollups(open_warehouse(), base, day, datetime.now(UTC))
    usd = sum((e for (c,), (_, e) in _focus_sums(DAYS[0], "BillingCurrency").items() if c == "USD"), D(0))
    eur = sum((e for (c,), (_, e) in _focus_sums(DAYS[0], "BillingCurrency").items() if c == "EUR"), D(0))
    assert usd > 0 and eur > 0
    # amounts chosen so that only a cross-currency sum would cross the critical line
    org = base.model_copy(
        update={
            "budgets": [
                Budget(name="usd-org", team="*", amount=usd + eur / 2, currency="USD", warn_at=D(100)),
                Budget(name="eur-org", team="*", amount=eur, currency="EUR", warn_at=D(100)),
            ],
            "alerts": AlertSettings(notifiers=[]),
        }
    )
    result = evaluate_day(open_warehouse(), org, DAYS[0], datetime(2026, 11, 2, 6, tzinfo=UTC), [])
    assert result.budgets == {"usd-org": "OK", "eur-org": "CRITICAL"}
    status = {
        budget: (currency, actual)
        for budget, currency, actual in _query(
            "select budget, currency, actual_to_date from demo_prod.budget_status where as_of_day = ?", [DAYS[0]]
        )
    }
    assert status == {"usd-org": ("USD", usd), "eur-org": ("EUR", eur)}
    (message,) = [m for (m,) in _query("select message from demo_prod.alerts where kind = 'budget'")]
    assert f"spent {eur:.2f} EUR of {eur:.2f} EUR" in message
    assert _query("select currency from demo_prod.alerts") == [("EUR",)]


def test_report_shows_both_currencies_and_no_total_across_them(eur_beside_usd: Path) -> None:
    org = load_org_by_slug("demo")
    for day in DAYS:
        refresh_rollups(open_warehouse(), org, day, datetime.now(UTC))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for day in DAYS:
        for (currency,), (_, effective) in _focus_sums(day, "BillingCurrency").items():
            totals[currency] += effective
    data = fetch_report("demo", DAYS[0], DAYS[-1])
    assert data.currencies == ["EUR", "USD"]
    with pytest.raises(ValueError, match="cannot be added"):
        data.effective_cost  # noqa: B018 - the sum across currencies is refused
    text = render_text(data)
    for currency, total in totals.items():
        assert f"Cost by provider, in {currency}" in text
        assert f"Cost by team (__untagged__: rows without a team tag), in {currency}" in text
        lines = [line.split() for line in text.splitlines() if line.strip().startswith("EffectiveCost (the")]
        assert [currency, money(total)] in [cells[-2:] for cells in lines]
        provider_table = text[text.index(f"Cost by provider, in {currency}") :].split("\n\n")[0]
        total_row = [line.split() for line in provider_table.splitlines() if line.strip().startswith("TOTAL")]
        assert total_row[0][1] == money(total)
    eur_table = text[text.index("Cost by provider, in EUR") :].split("\n\n")[0]
    assert " oci " in eur_table and " aws " not in eur_table
    cross = money(totals["USD"] + totals["EUR"])
    assert cross not in text  # the 769.09 of nothing
    html = render_html(data)
    assert f"{money(totals['USD'])} USD" in html and f"{money(totals['EUR'])} EUR" in html and cross not in html
    assert 'id="chart-daily-by-provider-eur"' in html and 'id="chart-daily-by-provider-usd"' in html


def _seed(rows: list[tuple[date, str, str, str, str]]) -> None:
    """daily_cost_by_team rows (day, team, category, currency, cost) for the anomaly series."""
    warehouse = open_warehouse()
    schema = load_table_schema("rollups/daily_cost_by_team.yml")
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        for day, team, category, currency, cost in rows:
            session.execute(
                f"insert into {qualified('demo_prod', schema.table)} "
                "values (?, 'oci', ?, 'x', ?, 'prod', 'x', ?, ?, ?, 1, 1, 0, 0, ?)",
                [day, currency, team, category, D(cost), D(cost), datetime(2026, 11, 20, tzinfo=UTC)],
            )


def test_anomaly_series_never_mix_currencies(data_dir: Path) -> None:
    days = [date(2026, 10, 20) + timedelta(days=i) for i in range(15)]
    usd = {d: "100" for d in days}
    eur = {d: ("20" if i % 2 else "22") for i, d in enumerate(days)}
    eur[days[-1]] = "60"  # a EUR spike; USD flat: a mixed series would read 160 against a 121 baseline
    _seed(
        [(d, "ml", "Compute", "USD", v) for d, v in usd.items()]
        + [(d, "ml", "Compute", "EUR", v) for d, v in eur.items()]
    )
    org = load_org_by_slug("demo").model_copy(update={"budgets": [], "alerts": AlertSettings(notifiers=[])})
    result = evaluate_day(open_warehouse(), org, days[-1], datetime(2026, 11, 4, tzinfo=UTC), [])
    assert result.anomalies == ["ml/Compute (EUR)"]
    baseline = [D(eur[d]) for d in days[:-1] if d.day != 1]  # the first of the month is never a baseline day
    (row,) = _query("select billing_currency, cost, baseline_mean, baseline_days from demo_prod.anomalies")
    assert row == ("EUR", D("60"), (sum(baseline, D(0)) / len(baseline)).quantize(D("0.0000000001")), 13)
    (key, currency, message) = _query("select alert_key, currency, message from demo_prod.alerts")[0]
    assert (key, currency) == (f"anomaly:ml/Compute:{days[-1]}:EUR", "EUR") and "60.00 EUR" in message


OLD_ROLLUP_KEYS = "charge_day, provider, department, team, environment, cost_center, service_category"


def _make_tables_as_before_currency() -> None:
    """Turn the rollups into what the code before billing_currency made: the same sums without the column."""
    with open_warehouse().session("demo_prod") as session:
        for table, keys, sums in (
            (
                "daily_cost_by_team",
                OLD_ROLLUP_KEYS,
                "sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost, sum(resources) as resources, "
                "sum(rows) as rows, sum(untagged_rows) as untagged_rows, "
                "sum(commitment_covered_rows) as commitment_covered_rows, max(refreshed_at) as refreshed_at",
            ),
            (
                "untagged_tag_keys",
                "charge_day, provider, tag_key",
                "sum(rows) as rows, sum(effective_cost) as effective_cost, max(refreshed_at) as refreshed_at",
            ),
        ):
            session.execute(
                f"create table demo_prod.old_{table} as select {keys}, {sums} from demo_prod.{table} group by all"
            )
            session.execute(f"drop table demo_prod.{table}")
            session.execute(f"alter table demo_prod.old_{table} rename to {table}")


def test_tables_made_before_currency_are_upgraded_without_losing_alerts(eur_beside_usd: Path) -> None:
    org = load_org_by_slug("demo").model_copy(update={"budgets": [], "alerts": AlertSettings(notifiers=[])})
    for day in DAYS:
        refresh_rollups(open_warehouse(), org, day, datetime.now(UTC))
    groups = _query(
        "select team, service_category, count(distinct billing_currency), min(billing_currency) "
        "from demo_prod.daily_cost_by_team where charge_day = ? group by all order by 1, 2",
        [DAYS[0]],
    )
    single = next((t, c, cur) for t, c, n, cur in groups if n == 1)
    mixed = next((t, c) for t, c, n, _ in groups if n == 2)
    _make_tables_as_before_currency()
    warehouse = open_warehouse()
    now = datetime(2026, 11, 2, 6, tzinfo=UTC)
    with warehouse.session("demo_prod") as session:
        session.execute(
            "create table demo_prod.anomalies (charge_day date not null, team varchar not null, "
            "service_category varchar not null, cost decimal(38, 10) not null, baseline_mean decimal(38, 10) not null, "
            "baseline_stddev decimal(38, 10) not null, z_score decimal(38, 10) not null, "
            "threshold decimal(38, 10) not null, baseline_days bigint not null, evaluated_at timestamptz not null)"
        )
        session.execute(
            "create table demo_prod.alerts (alert_key varchar not null, kind varchar not null, "
            "severity varchar not null, subject varchar not null, charge_day date not null, message varchar not null, "
            "value decimal(38, 10) not null, threshold decimal(38, 10) not null, raised_at timestamptz not null, "
            "notified_at timestamptz, resolved_at timestamptz)"
        )
        warehouse.ensure_table(session, "demo_prod", load_table_schema("rollups/budget_status.yml"))
        session.execute(
            "insert into demo_prod.budget_status values (?, 'usd-org', '*', ?, ?, 'EffectiveCost', 'USD', 1, 2, 2, "
            "'CRITICAL', ?)",
            [DAYS[0], DAYS[0], date(2026, 12, 1), now],
        )
        for team, category in (single[:2], mixed):
            session.execute(
                "insert into demo_prod.anomalies values (?, ?, ?, 9, 1, 1, 8, 2.5, 7, ?)",
                [DAYS[0], team, category, now],
            )
            session.execute(
                "insert into demo_prod.alerts values (?, 'anomaly', 'WARNING', ?, ?, 'm', 9, 2.5, ?, ?, null)",
                [f"anomaly:{team}/{category}:{DAYS[0]}", f"{team}/{category}", DAYS[0], now, now],
            )
        session.execute(
            "insert into demo_prod.alerts values (?, 'budget', 'CRITICAL', 'usd-org', ?, 'm', 2, 1, ?, ?, null)",
            ["budget:usd-org:2026-11-01:CRITICAL", DAYS[0], now, now],
        )

    result = refresh_rollups(warehouse, org, DAYS[1], datetime.now(UTC))
    assert result.rebuilt_days == [str(DAYS[0])]  # the old day is rebuilt from FOCUS, per currency
    for day in DAYS:
        rollup = {
            (p, c): (b, e)
            for p, c, b, e in _query(
                "select provider, billing_currency, sum(billed_cost), sum(effective_cost) "
                "from demo_prod.daily_cost_by_team where charge_day = ? group by all",
                [day],
            )
        }
        assert rollup == _focus_sums(day, "x_cloud_provider", "BillingCurrency")
    assert _query("select count(*) from demo_prod.untagged_tag_keys where billing_currency is null") == [(0,)]

    evaluate_day(warehouse, org, DAYS[1], now + timedelta(days=1), [])
    assert _query("select team, service_category, billing_currency from demo_prod.anomalies") == [single]
    alerts = {
        subject: (key, currency)
        for subject, key, currency in _query("select subject, alert_key, currency from demo_prod.alerts")
    }
    assert alerts == {  # every alert kept; a currency only where it is certain
        "usd-org": ("budget:usd-org:2026-11-01:CRITICAL", "USD"),
        f"{single[0]}/{single[1]}": (f"anomaly:{single[0]}/{single[1]}:{DAYS[0]}:{single[2]}", single[2]),
        f"{mixed[0]}/{mixed[1]}": (f"anomaly:{mixed[0]}/{mixed[1]}:{DAYS[0]}", None),
    }
    evaluate_day(warehouse, org, DAYS[1], now + timedelta(days=1), [])  # a second run finds nothing to upgrade
    assert _query("select count(*) from demo_prod.alerts") == [(3,)]
