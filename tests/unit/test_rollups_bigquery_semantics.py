"""The rollups' BigQuery SQL means what their DuckDB SQL means: the statements the BigQuery warehouse sends (to a
fake client, tests/unit/bigquery_stub.py) are transpiled back by sqlglot (bigquery -> duckdb) and run on DuckDB
over the demo's FOCUS rows of four providers; they give exactly the rows (Decimal-exact) the DuckDB path wrote.

This checks the translation (warehouse/bigquery_sql.py), not BigQuery: a function BigQuery evaluates differently
from its DuckDB counterpart would pass here (docs/bigquery.md lists what has never run on BigQuery).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from cloudcost.config import OrgConfig, load_org_by_slug
from cloudcost.paths import warehouse_file
from cloudcost.rollups.refresh import ROLLUPS, refresh_rollups, render, rollup_params
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.bigquery import BigQueryWarehouse
from cloudcost.warehouse.bigquery_sql import duckdb_to_bigquery
from tests.unit.bigquery_stub import StubClient as FakeBigQueryClient
from tests.unit.bigquery_stub import StubJob
from tests.unit.test_rollups import DAY, PROVIDERS, _load, demo_day  # noqa: F401 (demo_day is a fixture)
from tests.unit.test_rollups_tag_keys import TEAM_KEYS, odd_keys_org

REFRESHED_AT = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _gate_passes(sql: str, config: Any) -> StubJob:
    """What BigQuery would answer the gate: every provider's load of the day succeeded; no table predates
    billing_currency (the catalog has load_state only, so nothing is upgraded); the day's totals are empty."""
    if "INFORMATION_SCHEMA.TABLES" in sql:
        return StubJob(rows=[("load_state",)])
    if "`load_state`" in sql:
        return StubJob(rows=[(provider, DAY, "succeeded", "run-1") for provider in PROVIDERS])
    if sql.startswith("SELECT COUNT(*)"):
        return StubJob(rows=[(0,)])
    return StubJob(rows=[])


def bigquery_rollup_inserts(day: date) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per rollup table, the INSERT the BigQuery warehouse sends for ``day`` and its query parameters."""
    client = FakeBigQueryClient(_gate_passes)
    warehouse = BigQueryWarehouse("my-project", "EU", client_factory=lambda: client)
    refresh_rollups(warehouse, load_org_by_slug("demo"), day, REFRESHED_AT)
    inserts = {}
    for query in client.queries:
        if query.sql.startswith("INSERT INTO"):
            table = sqlglot.parse_one(query.sql, read="bigquery").this.this.name
            inserts[table] = (query.sql, query.params)
    return inserts


# BigQuery's JSON_KEYS writes a key holding any of these as a JSON string literal (ZetaSQL's reference
# implementation, zetasql/public/functions/json.cc JsonKeysTreeWalker::EscapeKey: '.', or what JSON escapes)
_BIGQUERY_ESCAPED_KEY = r"""'[."\\\x00-\x1f\x{2028}\x{2029}]'"""


def back_to_duckdb(bigquery_sql: str) -> str:
    """sqlglot's bigquery -> duckdb, plus two rewrites sqlglot 30 lacks: ``JSON_KEYS(j, 1)`` (it writes a
    function DuckDB does not have, sqlmesh issue #5770) is DuckDB's ``json_keys(j)``, which lists the top level
    only, with each key BigQuery would quote quoted as BigQuery does; ``JSON_EXTRACT_SCALAR(j[k], '$')``, the
    value of the key ``k`` taken literally, is ``j ->>`` the JSON Pointer of ``k``."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JSONKeysAtDepth):
            assert node.expression.name == "1", "only the top level has a DuckDB counterpart"
            keys = exp.JSONKeys(this=node.this).sql("duckdb")
            return sqlglot.parse_one(
                f"list_transform({keys}, _k -> if(regexp_matches(_k, {_BIGQUERY_ESCAPED_KEY}), "
                "cast(to_json(_k) as varchar), _k))",
                read="duckdb",
            )
        if isinstance(node, exp.JSONExtractScalar) and isinstance(node.this, exp.Bracket):
            json, key = node.this.this.sql("duckdb"), node.this.expressions[0].sql("duckdb")
            return sqlglot.parse_one(
                f"{json} ->> ('/' || replace(replace({key}, '~', '~0'), '/', '~1'))", read="duckdb"
            )
        return node

    tree = sqlglot.parse_one(bigquery_sql, read="bigquery")
    query = tree.expression if isinstance(tree, exp.Insert) else tree
    return query.transform(rewrite).sql("duckdb")


def _rows(sql: str, params: dict[str, Any] | list[Any]) -> list[tuple]:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        return sorted(connection.execute(sql, params).fetchall(), key=repr)
    finally:
        connection.close()


@pytest.fixture
def rolled_up(demo_day: Path) -> None:  # noqa: F811 (the fixture imported above)
    for provider in PROVIDERS:
        _load(provider)
    refresh_rollups(open_warehouse(), load_org_by_slug("demo"), DAY, REFRESHED_AT)


def test_daily_cost_by_team_covers_every_provider(rolled_up: None) -> None:
    providers = _rows("select distinct provider from demo_prod.daily_cost_by_team where charge_day = ?", [DAY])
    assert providers == sorted((p,) for p in PROVIDERS)


@pytest.mark.parametrize("table", ROLLUPS)
def test_bigquery_rollup_sql_transpiled_back_gives_the_duckdb_rows(rolled_up: None, table: str) -> None:
    sql, params = bigquery_rollup_inserts(DAY)[table]
    columns = load_table_schema(f"rollups/{table}.yml").column_names
    duckdb_path = _rows(f"select {', '.join(columns)} from demo_prod.{table} where charge_day = ?", [DAY])
    bigquery_path = _rows(back_to_duckdb(sql), params)
    assert duckdb_path, f"the demo's {DAY} has {table} rows"
    assert bigquery_path == duckdb_path  # every column, amounts as exact Decimals


def test_alias_resolution_means_the_same_after_the_round_trip() -> None:
    """The attribution of tricky tag sets (prefixes, case, an empty value, no tags) through tagged_rows.sql, on
    DuckDB and through BigQuery and back (the demo's rows do not carry all of these)."""
    tags = [
        {"user:Team": " Payments ", "user:Environment": "Prod"},
        {"squad": "search", "team": "ml"},
        {"owner": "platform", "free-form.env": "Staging"},
        {"Department": "R&D", "cc": "CC-101", "stage": "dev"},
        {"team": "   ", "squad": "x"},
        {"team": "b", "user:team": "a"},
        {},
        None,
    ]
    on_duckdb, round_trip = _dimensions_both_ways(tags, load_org_by_slug("demo"))
    assert round_trip == on_duckdb
    teams = ["payments", "ml", "platform", "__untagged__", "x", "a", "__untagged__", "__untagged__"]
    assert [row[2] for row in on_duckdb] == teams  # "team" and "user:team" rank alike: the smaller value


def test_odd_tag_keys_mean_the_same_after_the_round_trip() -> None:
    """Keys DuckDB would read as a path and keys BigQuery's JSON_KEYS quotes ('.', '"', '\\') are found by both."""
    keys = [*TEAM_KEYS, "free-form.team"]
    on_duckdb, round_trip = _dimensions_both_ways([{key: f"t-{n}"} for n, key in enumerate(keys)], odd_keys_org())
    assert round_trip == on_duckdb
    assert [row[2] for row in on_duckdb] == [f"t-{n}" for n in range(len(keys))]


def _dimensions_both_ways(tags: list[dict | None], org: OrgConfig) -> tuple[list[tuple], list[tuple]]:
    """(resource, dimensions...) of one row per tag set through tagged_rows.sql, on DuckDB and through BigQuery
    and back."""
    connection = duckdb.connect()
    connection.execute(
        "create table focus (x_ingestion_date date, x_cloud_provider varchar, BillingCurrency varchar, "
        "ServiceCategory varchar, BilledCost decimal(38, 10), EffectiveCost decimal(38, 10), ResourceId varchar, "
        "ResourceName varchar, SubAccountId varchar, CommitmentDiscountStatus varchar, Tags json)"
    )
    for n, tag in enumerate(tags):
        connection.execute(
            "insert into focus values (?, 'aws', 'USD', 'Compute', 1, 1, ?, null, null, null, ?)",
            [DAY, f"{n:03d}", None if tag is None else json.dumps(tag)],
        )
    sql = render("tagged_rows", {"focus_table": "focus"})
    params = {k: v for k, v in rollup_params(org, DAY, REFRESHED_AT).items() if f"${k}" in sql}
    dimensions = "select resource_id, department, team, environment, cost_center from ({}) order by 1"
    on_duckdb = connection.execute(dimensions.format(sql), params).fetchall()
    round_trip = back_to_duckdb(duckdb_to_bigquery(dimensions.format(sql)))
    return on_duckdb, connection.execute(round_trip, params).fetchall()
