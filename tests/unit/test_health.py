"""Health figures from the warehouse tables: untagged share, alert false positives, acceptance rate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cloudcost.airflow.run_counts import airflow_run_counts
from cloudcost.config import load_org_by_slug
from cloudcost.report.health import format_health, org_health
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse import open_warehouse

DAY = date(2026, 11, 3)
NOW = datetime(2026, 11, 4, 8, tzinfo=UTC)


def _table(name: str, rows: list[list]) -> None:
    warehouse = open_warehouse()
    schema = load_table_schema(f"rollups/{name}.yml")
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        for row in rows:
            session.execute(f"insert into demo_prod.{name} values ({', '.join('?' for _ in schema.columns)})", row)


def test_health_figures_from_known_tables(data_dir: Path, airflow_home: Path) -> None:
    _table(
        "daily_cost_by_team",
        [
            [DAY, "aws", "USD", "x", "__untagged__", "prod", "x", "Compute", 25, 25, 1, 1, 1, 0, NOW],
            [DAY, "aws", "USD", "x", "search", "prod", "x", "Compute", 75, 75, 1, 1, 0, 0, NOW],
            [DAY, "gcp", "USD", "x", "__untagged__", "prod", "x", "Storage", 10, 10, 1, 1, 1, 0, NOW],
        ],
    )
    raised = NOW - timedelta(hours=10)
    _table(
        "alerts",
        [
            [
                "a",
                "anomaly",
                "WARNING",
                "s",
                DAY,
                "m",
                1,
                1,
                raised,
                raised,
                raised + timedelta(hours=3),
                "USD",
            ],  # fast
            ["b", "anomaly", "WARNING", "s", DAY, "m", 1, 1, raised, raised, raised + timedelta(hours=5), "USD"],
            ["c", "budget", "WARNING", "s", DAY, "m", 1, 1, raised, raised, None, "USD"],
            [
                "d",
                "budget",
                "WARNING",
                "s",
                DAY - timedelta(days=60),
                "m",
                1,
                1,
                raised,
                raised,
                raised,
                "USD",
            ],  # outside
        ],
    )
    _table(
        "attribution_suggestions",
        [
            [f"s{i}", "aws", f"r{i}", None, DAY, DAY, 5, "t", Decimal("0.5"), "{}", status, NOW, None, "USD"]
            for i, status in enumerate(["accepted", "accepted", "rejected", "open"])
        ],
    )
    org = load_org_by_slug("demo")
    health = org_health(open_warehouse(), org, DAY, 30, airflow_run_counts(NOW - timedelta(days=30)))
    assert health.untagged_share == {("aws", "USD"): Decimal("0.25"), ("gcp", "USD"): Decimal("1")}
    assert (health.alerts_raised, health.alerts_resolved_fast) == (3, 1)
    assert health.alert_false_positive_rate == Decimal("0.3333")
    assert health.acceptance_rate == Decimal("0.6667")
    text = format_health(org, health)
    assert "untagged spend aws   USD    25.0 %" in text and "(1 of 3 resolved within 4 h)" in text
