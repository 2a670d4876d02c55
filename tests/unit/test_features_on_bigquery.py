"""Every feature on the BigQuery warehouse, against a fake google-cloud-bigquery client (tests/unit/bigquery_stub.py):
rollups, budgets, anomalies, alerts, suggestions, the report, summary, health, the FOCUS export and validate's read.

Each feature runs through the ``Warehouse`` interface; the fake answers its queries with a few plausible rows so
that it walks its whole path (``_Answers``). Every statement it sends must parse in sqlglot's BigQuery dialect
and match its golden file in tests/fixtures/bigquery/feature_<name>.sql. The fake does not execute SQL: what the
statements mean is checked for the rollups in test_rollups_bigquery_semantics.py; nothing here reaches BigQuery.

Regenerate the golden files after an intended change:
CLOUDCOST_UPDATE_GOLDEN=1 pytest tests/unit/test_features_on_bigquery.py
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.evaluation.evaluate import evaluate_day
from cloudcost.evaluation.suggestions import acceptance_rate, decide, sweep
from cloudcost.export import run as export_run
from cloudcost.report import summary
from cloudcost.report.health import org_health
from cloudcost.report.queries import fetch_report
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.schemas import focus_schema, load_table_schema
from cloudcost.validate.export import export_focus
from cloudcost.warehouse.bigquery import BigQueryWarehouse
from cloudcost.warehouse.bigquery_sql import parse_bigquery
from tests.unit.bigquery_stub import StubClient as FakeBigQueryClient
from tests.unit.bigquery_stub import StubJob

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "bigquery"
DAY = date(2026, 11, 3)
NOW = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)
PROVIDERS = ("aws", "azure", "gcp", "oci")
ROLLUP_TABLES = ("daily_cost_by_team", "untagged_tag_keys", "budget_status", "anomalies", "alerts")
BILLED = Decimal("0.0691200000")


def _schema_columns(table: str) -> list[str]:
    if table == focus_schema().table:
        return focus_schema().column_names
    return load_table_schema(f"rollups/{table}.yml").column_names


def _focus_batch() -> pa.RecordBatch:
    """One FOCUS row in the Arrow types BigQuery's client returns (BIGNUMERIC as decimal256(76, 38))."""
    values = {"string": "x", "json": '{"team":"ml"}', "date": DAY, "timestamp": datetime(2026, 11, 3, tzinfo=UTC)}
    arrays = []
    for column in focus_schema().columns:
        if column.type == "decimal":
            arrays.append(pa.array([BILLED if column.name == "BilledCost" else Decimal(0)], pa.decimal256(76, 38)))
        elif column.name == "x_cloud_provider":
            arrays.append(pa.array(["aws"]))
        else:
            arrays.append(pa.array([values[column.type]]))
    return pa.RecordBatch.from_arrays(arrays, names=focus_schema().column_names)


class _Answers:
    """What the fake BigQuery answers. ``lacking``: tables whose catalog lacks their currency column (the
    upgrade path)."""

    def __init__(self, lacking: frozenset[str] = frozenset()) -> None:
        self.lacking = lacking

    def __call__(self, sql: str, config: Any) -> StubJob:
        params = {p.name: getattr(p, "value", None) for p in (config.query_parameters if config else [])}
        if "INFORMATION_SCHEMA.TABLES" in sql:
            raw = [fmt.table for p in PROVIDERS for fmt in load_billing_config(p).formats.values()]
            return StubJob(rows=[(t,) for t in ("load_state", focus_schema().table, *ROLLUP_TABLES, *raw)])
        if "INFORMATION_SCHEMA.COLUMNS" in sql:
            table = params["table"]
            if table not in (focus_schema().table, *ROLLUP_TABLES):
                return StubJob(rows=[])
            names = _schema_columns(table)
            if table in self.lacking:
                names = [n for n in names if n not in ("billing_currency", "currency")]
            return StubJob(rows=[(n,) for n in names])
        if "FROM `demo_prod`.`load_state`" in sql:
            return StubJob(rows=[(p, DAY, "succeeded", "run-1") for p in PROVIDERS])
        if sql.startswith("SELECT provider, resource_id, resource_name"):  # the suggestion sweep's rows
            return StubJob(
                rows=[
                    ("aws", "fn-1", "demo-fn-1", "111", "ml", "USD", Decimal("10"), ["cost-center=cc-1"]),
                    ("aws", "fn-2", "demo-fn-2", "111", "__untagged__", "USD", Decimal("5"), ["cost-center=cc-1"]),
                ]
            )
        if "SELECT status FROM" in sql:
            return StubJob(rows=[("open",)])
        if "MAX(as_of_day)" in sql:
            return StubJob(rows=[(DAY,)])
        if "MIN(ChargePeriodStart)" in sql:  # the export's figures: the one row of _focus_batch
            return StubJob(rows=[("aws", "USD", 1, NOW, NOW, BILLED, Decimal(0), Decimal(0), Decimal(0))])
        if "SELECT DISTINCT x_source_format" in sql:
            return StubJob(rows=[("cur2",)])
        if sql.startswith("SELECT `BillingAccountId`") or sql.startswith("SELECT BillingAccountId"):
            return StubJob(batches=[_focus_batch()])
        if sql.startswith("SELECT COUNT(*), COUNTIF") or sql.startswith("SELECT COUNTIF"):
            return StubJob(rows=[(0, 0)])
        if sql.startswith("SELECT COUNT(*)"):
            return StubJob(rows=[(0,)])
        if "FROM `demo_prod`.`cost_data_standard_1_3`" in sql and sql.startswith("SELECT `"):
            return StubJob(batches=[_focus_batch()])
        return StubJob(rows=[])


def _warehouse(client: FakeBigQueryClient) -> BigQueryWarehouse:
    return BigQueryWarehouse("my-project", "EU", client_factory=lambda: client)


def _ddl_in_transactions(sent: list[str]) -> list[str]:
    """Statements that create, drop or alter a table, or read the catalog, between BEGIN and COMMIT/ROLLBACK:
    BigQuery refuses DDL on permanent tables inside a multi-statement transaction, and the catalog is read
    before it (whether BigQuery serves INFORMATION_SCHEMA inside a transaction is not documented clearly)."""
    inside, found = False, []
    for sql in sent:
        if sql == "BEGIN TRANSACTION":
            inside = True
        elif sql in ("COMMIT TRANSACTION", "ROLLBACK TRANSACTION"):
            inside = False
        elif inside and (sql.split(" ", 1)[0] in ("CREATE", "DROP", "ALTER") or "INFORMATION_SCHEMA" in sql):
            found.append(sql.split("(", 1)[0].strip())
    return found


def _check_sent(client: FakeBigQueryClient, name: str, legacy_upgrade: bool = False) -> list[str]:
    """Every statement sent parses as BigQuery, and they match the golden file, in order; no DDL inside a
    transaction, except on the upgrade path of tables only an embedded warehouse can have (``legacy_upgrade``)."""
    sent = [q.sql for q in client.queries]
    if not legacy_upgrade:
        assert _ddl_in_transactions(sent) == []
    for sql in sent:
        parse_bigquery(sql)
    text = "\n;\n".join(sent) + "\n"
    path = GOLDEN / f"feature_{name}.sql"
    if os.environ.get("CLOUDCOST_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path} differs (CLOUDCOST_UPDATE_GOLDEN=1 to accept)"
    return sent


def test_rollups_on_bigquery() -> None:
    client = FakeBigQueryClient(_Answers())
    refresh_rollups(_warehouse(client), load_org_by_slug("demo"), DAY, NOW)
    sent = _check_sent(client, "rollups")
    assert sent[0] == "BEGIN TRANSACTION" or any(s == "BEGIN TRANSACTION" for s in sent)
    inserts = [s for s in sent if s.startswith("INSERT INTO `demo_prod`.")]
    assert [s.split("`")[3] for s in inserts] == ["daily_cost_by_team", "untagged_tag_keys"]
    assert sent[-2:] == ["COMMIT TRANSACTION", "CALL BQ.ABORT_SESSION()"]


def test_rollups_upgrade_on_bigquery() -> None:
    """A rollup table without billing_currency is dropped and its days rebuilt, in the same transaction (DDL in a
    transaction: only embedded warehouses can have such old tables, BigQuery's rollups began with the column)."""
    client = FakeBigQueryClient(_Answers(lacking=frozenset({"daily_cost_by_team"})))
    refresh_rollups(_warehouse(client), load_org_by_slug("demo"), DAY, NOW)
    sent = _check_sent(client, "rollups_upgrade", legacy_upgrade=True)
    assert "DROP TABLE `demo_prod`.`daily_cost_by_team`" in sent


def test_evaluation_on_bigquery() -> None:
    """Budgets, anomalies and alerts: tables created before the transaction, rows written inside it."""
    client = FakeBigQueryClient(_Answers())
    result = evaluate_day(_warehouse(client), load_org_by_slug("demo"), DAY, NOW, notifiers=[])
    sent = _check_sent(client, "evaluation")
    assert result.budgets and all(status == "OK" for status in result.budgets.values())  # no spend answered
    assert sum(s.startswith("INSERT INTO `demo_prod`.`budget_status`") for s in sent) == len(result.budgets)


def test_evaluation_upgrade_on_bigquery() -> None:
    """The currency upgrade of old anomaly and alert tables (embedded warehouses only, as above)."""
    client = FakeBigQueryClient(_Answers(lacking=frozenset({"anomalies", "alerts"})))
    evaluate_day(_warehouse(client), load_org_by_slug("demo"), DAY, NOW, notifiers=[])
    sent = _check_sent(client, "evaluation_upgrade", legacy_upgrade=True)
    assert any(s.startswith("ALTER TABLE `demo_prod`.`anomalies` RENAME TO") for s in sent)
    assert any(s.startswith("UPDATE `demo_prod`.`alerts`") for s in sent)


def test_suggestions_on_bigquery() -> None:
    client = FakeBigQueryClient(_Answers())
    warehouse, org = _warehouse(client), load_org_by_slug("demo")
    suggestions = sweep(warehouse, org, DAY, NOW)
    decide(warehouse, org, suggestions[0]["suggestion_id"], True, NOW)
    acceptance_rate(warehouse, org)
    sent = _check_sent(client, "suggestions")
    assert [(s["resource_id"], s["suggested_team"]) for s in suggestions] == [("fn-2", "ml")]
    assert sum(s.startswith("INSERT INTO `demo_prod`.`attribution_suggestions`") for s in sent) == 1


def test_report_on_bigquery() -> None:
    client = FakeBigQueryClient(_Answers())
    data = fetch_report("demo", date(2026, 11, 1), DAY, warehouse=_warehouse(client))
    _check_sent(client, "report")
    assert data.budget_as_of == DAY and data.anomalies == [] and data.alerts == []


def test_summary_and_health_on_bigquery(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeBigQueryClient(_Answers())
    monkeypatch.setattr(summary, "open_warehouse", lambda: _warehouse(client))
    text = summary.summarize("demo", full=True)
    health = org_health(_warehouse(client), load_org_by_slug("demo"), DAY, 7, (3, 4))
    _check_sent(client, "summary_health")
    assert "Reconciliation" in text
    assert (health.alerts_raised, health.pipeline_success_rate) == (0, Decimal("0.7500"))


def test_focus_export_on_bigquery_keeps_exact_decimals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BigQuery hands BIGNUMERIC over as decimal256(76, 38); the CSV has the exact DECIMAL(38, 10) text and the
    Parquet file decimal128(38, 10), as from DuckDB."""
    client = FakeBigQueryClient(_Answers())
    monkeypatch.setattr(export_run, "open_warehouse", lambda: _warehouse(client))
    as_csv = export_run.export_org("demo", "csv", DAY, DAY, path=tmp_path / "f.csv", now=NOW)
    as_parquet = export_run.export_org("demo", "parquet", DAY, DAY, path=tmp_path / "f.parquet", now=NOW)
    _check_sent(client, "export")
    assert as_csv.rows == as_parquet.rows == 1
    with as_csv.path.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["BilledCost"], row["EffectiveCost"], row["Tags"]) == (str(BILLED), "0.0000000000", '{"team":"ml"}')
    assert row["ChargePeriodStart"] == "2026-11-03T00:00:00Z"
    table = pq.read_table(as_parquet.path)
    assert table.schema.field("BilledCost").type == pa.decimal128(38, 10)
    assert table.column("BilledCost").to_pylist() == [BILLED]


def test_validate_reads_focus_rows_from_bigquery(tmp_path: Path) -> None:
    client = FakeBigQueryClient(_Answers())
    exported = export_focus(_warehouse(client), "demo_prod", "aws", tmp_path / "aws.parquet", first_day=DAY)
    _check_sent(client, "validate")
    assert (exported.rows, exported.formats) == (1, ["cur2"])
    assert pq.read_table(exported.path).column("Tags").to_pylist() == ['{"team":"ml"}']


def test_catalog_of_a_dataset_not_created_yet_is_empty() -> None:
    """The region's catalog has no rows for a dataset not created yet: no tables, no columns, not an error; the
    dataset and table names are bound parameters."""

    def missing(sql: str, config: Any) -> StubJob:
        return StubJob(rows=[])

    client = FakeBigQueryClient(missing)
    warehouse = _warehouse(client)
    with warehouse.session("acme_prod") as session:
        found = (warehouse.tables(session, "acme_prod"), warehouse.columns(session, "acme_prod", "alerts"))
        exists = warehouse.table_exists(session, "acme_prod", "alerts")
    assert (found, exists) == ((set(), []), False)
    assert [q.sql.split(" WHERE")[0] for q in client.queries] == [
        "SELECT table_name FROM `my-project`.`region-eu`.INFORMATION_SCHEMA.TABLES",
        "SELECT column_name FROM `my-project`.`region-eu`.INFORMATION_SCHEMA.COLUMNS",
        "SELECT table_name FROM `my-project`.`region-eu`.INFORMATION_SCHEMA.TABLES",
    ]
    assert [q.params for q in client.queries] == [
        {"dataset": "acme_prod"},
        {"dataset": "acme_prod", "table": "alerts"},
        {"dataset": "acme_prod"},
    ]
