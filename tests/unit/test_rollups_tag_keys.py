"""Tag keys are looked up literally: a key that reads as a JSONPath (``$team``, ``*``), a JSON Pointer (``/team``)
or holds quotes, dots, spaces or non-ASCII letters still gives its own value to the rollups and the suggestions.

Providers allow such keys: AWS tag keys are Unicode letters, digits, spaces and ``_ . : / = + - @`` (so ``/team``,
``aws:createdBy``), Azure tag names anything but ``< > % & \\ ? /`` (so ``$team``, ``*``, ``"quoted"``), OCI defined
tags are ``namespace.key``. No provider allows a backslash; it is here for the JSON escaping.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import Attribution, OrgConfig, load_org_by_slug
from cloudcost.evaluation.suggestions import sweep
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.warehouse import open_warehouse
from tests.helpers import query_warehouse

DAY = date(2026, 11, 3)
# each key names a team; its rows carry only that tag
TEAM_KEYS = [
    "$team",  # DuckDB reads a string starting with $ as a JSONPath
    "/team",  # ... and one starting with / as a JSON Pointer
    "*",  # a JSONPath wildcard, even inside a quoted path element
    "a.b",
    "team name",
    '"quoted"',
    "back\\slash",
    "aws:createdBy",
    "user:team",  # matched by its prefix-less key, "team"
    "ünïcode",
    "team",
]
ROWS = [
    # key, resource, value (trimmed and lower-cased by the rollup), effective cost
    *[(key, f"r-{n}-a", f" Team-{n} ", Decimal(f"{n + 1}.0{n % 10}")) for n, key in enumerate(TEAM_KEYS)],
    *[(key, f"r-{n}-b", f"TEAM-{n}", Decimal(f"0.{n + 10}")) for n, key in enumerate(TEAM_KEYS)],
]
UNMAPPED_KEYS = ["$cost.center", "/project", "x*y"]  # on a row without a team: reported as such, literally


def odd_keys_org() -> OrgConfig:
    """The demo org with every key of TEAM_KEYS a team alias (``user:team`` through its prefix-less ``team``)."""
    team_aliases = [key.lower() for key in TEAM_KEYS if key != "user:team"]
    return load_org_by_slug("demo").model_copy(update={"attribution": Attribution(team=team_aliases)})


def _focus_table(rows: list[tuple[str, str | None, str | None, dict, Decimal]]) -> None:
    """A FOCUS table with just the columns the rollups read, and a succeeded load of every provider for DAY."""
    org = odd_keys_org()
    with open_warehouse().session("demo_prod") as session:
        session.execute("create schema demo_prod")
        session.execute(
            "create table demo_prod.cost_data_standard_1_3 (x_ingestion_date date, x_cloud_provider varchar, "
            "BillingCurrency varchar, ServiceCategory varchar, BilledCost decimal(38, 10), "
            "EffectiveCost decimal(38, 10), ResourceId varchar, ResourceName varchar, SubAccountId varchar, "
            "CommitmentDiscountStatus varchar, Tags json)"
        )
        for resource, name, account, tags, cost in rows:
            session.execute(
                "insert into demo_prod.cost_data_standard_1_3 "
                "values (?, 'azure', 'EUR', 'Compute', ?, ?, ?, ?, ?, null, ?)",
                [DAY, cost, cost, resource, name, account, json.dumps(tags)],
            )
        session.execute(
            "create table demo_prod.load_state (provider varchar, billing_day date, status varchar, run_id varchar)"
        )
        for provider, entry in org.providers.items():
            if entry.enabled:
                session.execute("insert into demo_prod.load_state values (?, ?, 'succeeded', 'run-1')", [provider, DAY])


@pytest.fixture
def odd_keys(data_dir: Path) -> None:
    rows = [(resource, None, None, {key: value}, cost) for key, resource, value, cost in ROWS]
    rows += [(f"r-unmapped-{n}", None, None, {key: "x"}, Decimal("1.23")) for n, key in enumerate(UNMAPPED_KEYS)]
    _focus_table(rows)


def test_every_odd_key_gives_its_value_to_the_rollup_to_the_cent(odd_keys: None) -> None:
    result = refresh_rollups(open_warehouse(), odd_keys_org(), DAY, datetime.now(UTC))
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for _, _, value, cost in ROWS:
        expected[value.strip().lower()] += cost
    expected["__untagged__"] = Decimal("1.23") * len(UNMAPPED_KEYS)
    by_team = dict(
        query_warehouse(
            "select team, sum(effective_cost) from demo_prod.daily_cost_by_team "
            "where charge_day = ? and billing_currency = 'EUR' group by 1",
            [DAY],
        )
    )
    assert by_team == expected  # each key's rows under its own team, Decimal-exact; only the unmapped rows untagged
    assert Decimal(result.untagged_effective_cost["EUR"]) == expected["__untagged__"]
    reported = {
        k for (k,) in query_warehouse("select tag_key from demo_prod.untagged_tag_keys where charge_day = ?", [DAY])
    }
    assert reported == set(UNMAPPED_KEYS)


@pytest.fixture
def odd_evidence(data_dir: Path) -> None:
    """Two teams tagged by odd keys; the untagged resource shares only an odd-keyed tag with one of them."""
    _focus_table(
        [
            ("r-pay-1", "alpha-1", "A", {"$team": "payments", "/cost center": "cc-9"}, Decimal("50")),
            ("r-data-1", "beta-1", "B", {"user:team": "data", "/cost center": "cc-7"}, Decimal("40")),
            ("r-lost-1", "gamma-1", "C", {"/cost center": "cc-9"}, Decimal("25")),
        ]
    )


def test_suggestions_read_odd_keys_literally(odd_evidence: None) -> None:
    found = {s["resource_id"]: s for s in sweep(open_warehouse(), odd_keys_org(), DAY, datetime.now(UTC))}
    assert set(found) == {"r-lost-1"}
    lost = found["r-lost-1"]
    assert lost["suggested_team"] == "payments" and lost["effective_cost"] == Decimal("25")
    evidence = json.loads(lost["evidence"])
    assert evidence == {"tags": {"shared": ["/cost center=cc-9"], "top_team": "payments", "share": "1.0000"}}
    assert lost["confidence"] == Decimal("0.5000")  # the tags weight, the only evidence
