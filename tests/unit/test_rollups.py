"""Attribution rollups: alias resolution, sums that reconcile with FOCUS to the cent, and the load gate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cloudcost.config import Attribution, load_org_by_slug
from cloudcost.demo import aws_cur2
from cloudcost.paths import landing_dir
from cloudcost.pipeline.stages import (
    make_run_context,
    run_checks,
    run_convert_to_focus,
    run_land_raw,
    run_recheck,
    run_record,
)
from cloudcost.rollups.gate import RollupGateClosed
from cloudcost.rollups.refresh import refresh_rollups, render, rollup_params
from cloudcost.rollups.restated import refresh_restated_days
from tests.helpers import query_warehouse as _query
from tests.helpers import reload_restated, stage_run

DAY = date(2026, 11, 1)
PROVIDERS = ("aws", "gcp", "azure", "oci")


def _resolve(tags: list[dict | None], attribution: Attribution | None = None) -> list[tuple]:
    """(department, team, environment, cost_center) of rows carrying ``tags``, through tagged_rows.sql."""
    connection = duckdb.connect()
    connection.execute(
        "create table focus (x_ingestion_date date, x_cloud_provider varchar, BillingCurrency varchar, "
        "ServiceCategory varchar, "
        "BilledCost decimal(38, 10), EffectiveCost decimal(38, 10), ResourceId varchar, ResourceName varchar, "
        "SubAccountId varchar, CommitmentDiscountStatus varchar, Tags json)"
    )
    for n, tag in enumerate(tags):
        connection.execute(
            "insert into focus values (?, 'aws', 'USD', 'Compute', 1, 1, ?, null, null, null, ?)",  # ResourceId: order
            [DAY, str(n), None if tag is None else json.dumps(tag)],
        )
    org = load_org_by_slug("demo")
    if attribution is not None:
        org = org.model_copy(update={"attribution": attribution})
    sql = render("tagged_rows", {"focus_table": "focus"})
    params = {k: v for k, v in rollup_params(org, DAY, datetime.now(UTC)).items() if f"${k}" in sql}
    return connection.execute(
        f"select department, team, environment, cost_center from ({sql}) order by resource_id::int", params
    ).fetchall()


def test_aliases_resolve_first_match_trimmed_and_lower_cased() -> None:
    rows = _resolve(
        [
            {"user:Team": " Payments ", "user:Environment": "Prod"},  # AWS prefix, any case
            {"squad": "search", "team": "ml"},  # team outranks squad whatever the key order
            {"owner": "platform", "free-form.env": "Staging"},  # OCI namespace
            {"Department": "R&D", "cc": "CC-101", "stage": "dev"},
            {"team": "   "},  # an empty value is no tag
            {},
            None,
        ]
    )
    assert rows == [
        ("__untagged__", "payments", "prod", "__untagged__"),
        ("__untagged__", "ml", "__unknown__", "__untagged__"),
        ("__untagged__", "platform", "staging", "__untagged__"),
        ("r&d", "__untagged__", "dev", "cc-101"),
        ("__untagged__", "__untagged__", "__unknown__", "__untagged__"),
        ("__untagged__", "__untagged__", "__unknown__", "__untagged__"),
        ("__untagged__", "__untagged__", "__unknown__", "__untagged__"),
    ]


def test_org_alias_list_replaces_the_default_order() -> None:
    custom = Attribution(team=["app-owner", "team"])
    assert _resolve([{"team": "a", "App-Owner": "b"}, {"squad": "c"}], custom) == [
        ("__untagged__", "b", "__unknown__", "__untagged__"),
        ("__untagged__", "__untagged__", "__unknown__", "__untagged__"),
    ]


def _load(provider: str, day: date = DAY, convert: bool = True) -> None:
    run = make_run_context(
        "demo", provider, day, f"t-{provider}", f"cloud_{provider}_cost_billing", day, datetime.now(UTC)
    )
    landed = run_land_raw(run)
    if convert:
        run_convert_to_focus(run)
        run_record(run, landed, run_checks(run))


@pytest.fixture
def demo_day(data_dir: Path, demo_credentials: list[str]) -> Path:
    from cloudcost.cli import main

    assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(DAY)]) == 0
    return data_dir


def test_rollup_reconciles_with_focus_to_the_cent_and_keeps_untagged(demo_day: Path) -> None:
    for provider in PROVIDERS:
        _load(provider)
    result = refresh_rollups(_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))
    focus = dict(
        ((p, c), (n, b, e))
        for p, c, n, b, e in _query(
            "select x_cloud_provider, BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost) "
            "from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ? group by all",
            [DAY],
        )
    )
    rollup = dict(
        ((p, c), (n, b, e))
        for p, c, n, b, e in _query(
            "select provider, billing_currency, sum(rows), sum(billed_cost), sum(effective_cost) "
            "from demo_prod.daily_cost_by_team where charge_day = ? group by all",
            [DAY],
        )
    )
    assert {p for p, _ in focus} == set(PROVIDERS)
    assert rollup == focus  # every row counted once, no spend dropped, sums exact
    untagged = dict(
        _query(
            "select billing_currency, sum(effective_cost) from demo_prod.daily_cost_by_team "
            "where charge_day = ? and team = '__untagged__' group by 1",
            [DAY],
        )
    )
    assert untagged and all(v > 0 for v in untagged.values())
    assert {c: Decimal(v) for c, v in result.untagged_effective_cost.items()} == untagged
    keys = {k for (k,) in _query("select distinct tag_key from demo_prod.untagged_tag_keys")}
    assert keys and not {k for k in keys if k.lower().split(":")[-1].split(".")[-1] in {"team", "squad", "owner"}}

    again = refresh_rollups(_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))
    assert again.rows == result.rows and again.billed_cost == result.billed_cost  # replaced, not appended


def _warehouse():
    from cloudcost.warehouse import open_warehouse

    return open_warehouse()


def test_gate_names_each_provider_without_a_checked_load(demo_day: Path) -> None:
    _load("aws")
    _load("gcp", convert=False)  # landed, but its convert and check never ran
    with pytest.raises(RollupGateClosed) as closed:
        refresh_rollups(_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))
    message = str(closed.value)
    assert "3 load(s) missing" in message
    assert "gcp 2026-11-01: last load landed in run t-gcp, not converted and checked" in message
    assert "azure 2026-11-01: no load recorded" in message and "oci 2026-11-01: no load recorded" in message
    assert "aws" not in message.split("missing:")[1]
    tables = {t for (t,) in _query("select table_name from information_schema.tables where table_schema = 'demo_prod'")}
    assert "daily_cost_by_team" not in tables  # nothing was refreshed


def test_a_restated_day_is_refreshed_by_the_next_rollup_run_once_reloaded(demo_day: Path) -> None:
    """The billing DAG reloads a restated day but refreshes no rollup: ``cost_rollups`` refreshes every day of its
    window whose load was recorded after the day's rollups, once the gate lets it."""
    for provider in PROVIDERS:
        _load(provider)
    org, window = load_org_by_slug("demo"), [DAY - timedelta(days=1), DAY]
    assert refresh_restated_days(_warehouse(), org, window) == [], "never rolled up: left to its own run"
    refresh_rollups(_warehouse(), org, DAY, datetime.now(UTC))
    assert refresh_restated_days(_warehouse(), org, window) == [], "rolled up after its last load"
    rolled_up = _rollup_billed()

    aws_cur2.write_delivery(landing_dir("demo", "aws"), [DAY], seed=8)  # AWS restates the day
    run = stage_run("aws", DAY + timedelta(days=1), "next-night")
    restated = run_recheck(run)
    assert [r["billing_day"] for r in restated] == [str(DAY)]
    assert refresh_restated_days(_warehouse(), org, window) == [], "aws is stale until reloaded: nothing refreshed"
    assert _rollup_billed() == rolled_up

    reload_restated(run, restated)
    [result] = refresh_restated_days(_warehouse(), org, window)
    assert result.day == str(DAY)
    focus = dict(
        _query(
            "select x_cloud_provider, sum(BilledCost) from demo_prod.cost_data_standard_1_3 "
            "where x_ingestion_date = ? group by 1",
            [DAY],
        )
    )
    assert _rollup_billed() == focus, "the rollups follow the restated FOCUS slice to the cent"
    assert focus["aws"] != rolled_up["aws"] and {p: focus[p] for p in focus if p != "aws"} == {
        p: rolled_up[p] for p in rolled_up if p != "aws"
    }
    assert refresh_restated_days(_warehouse(), org, window) == [], "refreshed once; the next run finds nothing"


def _rollup_billed() -> dict[str, Decimal]:
    return dict(
        _query(
            "select provider, sum(billed_cost) from demo_prod.daily_cost_by_team where charge_day = ? group by 1",
            [DAY],
        )
    )
