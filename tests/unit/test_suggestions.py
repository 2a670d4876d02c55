"""The correlation sweep on a known estate: evidence, confidence, and decisions recorded, never applied."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import load_org_by_slug
from cloudcost.evaluation.suggestions import acceptance_rate, decide, name_stem, sweep
from cloudcost.warehouse import open_warehouse

DAY = date(2026, 11, 3)
ROWS = [
    # resource, name, account, tags, effective cost
    ("r-web-1", "web-1", "A", {"team": "payments", "cost-center": "cc-1"}, "50"),
    ("r-web-2", "web-2", "A", {"team": "payments"}, "30"),
    ("r-etl-1", "etl-1", "B", {"team": "data", "cost-center": "cc-2"}, "40"),
    ("r-web-3", "web-3", "A", {"cost-center": "cc-1"}, "25"),  # untagged: every clue says payments
    ("r-etl-9", "etl-9", "A", {}, "12"),  # untagged: its name says data, its account says payments
    ("r-cheap", "tiny-1", "A", {"cost-center": "cc-1"}, "0.40"),  # untagged but immaterial
]


@pytest.fixture
def estate(data_dir: Path) -> None:
    """A FOCUS table with just the columns the sweep reads (the rest of FOCUS is not involved)."""
    with open_warehouse().session("demo_prod") as session:
        session.execute("create schema demo_prod")
        session.execute(
            "create table demo_prod.cost_data_standard_1_3 (x_ingestion_date date, x_cloud_provider varchar, "
            "BillingCurrency varchar, ServiceCategory varchar, BilledCost decimal(38, 10), "
            "EffectiveCost decimal(38, 10), ResourceId varchar, ResourceName varchar, SubAccountId varchar, "
            "CommitmentDiscountStatus varchar, Tags json)"
        )
        for resource, name, account, tags, cost in ROWS:
            session.execute(
                "insert into demo_prod.cost_data_standard_1_3 "
                "values (?, 'aws', 'USD', 'Compute', ?, ?, ?, ?, ?, null, ?)",
                [DAY, Decimal(cost), Decimal(cost), resource, name, account, json.dumps(tags)],
            )


def test_name_stems() -> None:
    assert name_stem("demo-fn-17") == "demo-fn"
    assert name_stem("i-0a1b2c3d4e5f6a7b") == "i"
    assert name_stem("arn:aws:lambda:us-east-1:1:function:billing-worker-3") == "billing-worker"
    assert name_stem(None) is None


def test_sweep_suggests_from_evidence_with_confidence(estate: None) -> None:
    org = load_org_by_slug("demo")
    found = {s["resource_id"]: s for s in sweep(open_warehouse(), org, DAY, datetime.now(UTC))}
    assert set(found) == {"r-web-3", "r-etl-9"}  # r-cheap is under the material-spend floor
    web = found["r-web-3"]
    assert web["suggested_team"] == "payments" and web["confidence"] == Decimal("1.0000")
    evidence = json.loads(web["evidence"])
    assert evidence["tags"] == {"shared": ["cost-center=cc-1"], "top_team": "payments", "share": "1.0000"}
    assert evidence["name"]["shared"] == "web" and evidence["account"]["shared"] == "A"
    etl = found["r-etl-9"]
    assert etl["suggested_team"] == "data" and etl["confidence"] == Decimal("0.3000")  # name 0.3 beats account 0.2


def test_decisions_are_recorded_and_measured_not_applied(estate: None) -> None:
    org, warehouse = load_org_by_slug("demo"), open_warehouse()
    found = {s["resource_id"]: s["suggestion_id"] for s in sweep(warehouse, org, DAY, datetime.now(UTC))}
    assert acceptance_rate(warehouse, org) is None
    decide(warehouse, org, found["r-web-3"], True, datetime.now(UTC))
    decide(warehouse, org, found["r-etl-9"], False, datetime.now(UTC))
    assert acceptance_rate(warehouse, org) == Decimal("0.5")
    with pytest.raises(ValueError, match="already accepted"):
        decide(warehouse, org, found["r-web-3"], False, datetime.now(UTC))
    with pytest.raises(KeyError, match="no suggestion 'nope'"):
        decide(warehouse, org, "nope", True, datetime.now(UTC))
    again = sweep(warehouse, org, DAY, datetime.now(UTC))  # a decided suggestion is not raised again
    assert {s["resource_id"] for s in again} == {"r-web-3", "r-etl-9"}
    with warehouse.session("demo_prod") as session:
        statuses = session.fetchall("select resource_id, status from demo_prod.attribution_suggestions order by 1")
        tags = session.fetchall("select Tags from demo_prod.cost_data_standard_1_3 where ResourceId = 'r-web-3'")
    assert statuses == [("r-etl-9", "rejected"), ("r-web-3", "accepted")]
    assert json.loads(tags[0][0]) == {"cost-center": "cc-1"}  # the FOCUS data itself is never changed


def test_cli_lists_open_suggestions_with_their_currency(estate: None, capsys: pytest.CaptureFixture[str]) -> None:
    from cloudcost.cli import main

    sweep(open_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))
    assert main(["suggestions", "--org", "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split()[-1]: line.split()[2:4] for line in lines[:-1]}
    assert listed == {"r-web-3": ["25.00", "USD"], "r-etl-9": ["12.00", "USD"]}
    assert lines[-1] == "acceptance rate: n/a (no decision yet)"


def test_evidence_is_weighed_within_one_currency(estate: None) -> None:
    """An untagged resource billed in EUR shares cc-1, the name stem and account A with USD payments rows only:
    no EUR row is tagged, so there is no evidence in its currency and nothing is suggested."""
    with open_warehouse().session("demo_prod") as session:
        session.execute(
            "insert into demo_prod.cost_data_standard_1_3 "
            "values (?, 'aws', 'EUR', 'Compute', 25, 25, 'r-web-4', 'web-4', 'A', null, ?)",
            [DAY, json.dumps({"cost-center": "cc-1"})],
        )
    found = {s["resource_id"]: s for s in sweep(open_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))}
    assert set(found) == {"r-web-3", "r-etl-9"}
    assert {s["billing_currency"] for s in found.values()} == {"USD"}
    assert found["r-web-3"]["effective_cost"] == Decimal("25")  # its own USD spend, no EUR added
