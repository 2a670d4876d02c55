"""The scheduled referee's warehouse side on BigQuery, against the fake client of test_features_on_bigquery.py:
the sample of latest succeeded days, the export of exactly those days, and the history's write and comparison.
Every statement parses as BigQuery and matches tests/fixtures/bigquery/feature_conformance_*.sql
(CLOUDCOST_UPDATE_GOLDEN=1 regenerates them)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cloudcost.validate.export import export_focus
from cloudcost.validate.history import JudgedSample, record
from cloudcost.validate.scheduled import latest_succeeded_days
from tests.unit.bigquery_stub import StubClient as FakeBigQueryClient
from tests.unit.bigquery_stub import StubJob
from tests.unit.test_features_on_bigquery import DAY, NOW, _Answers, _check_sent, _warehouse

DAYS = [DAY - timedelta(days=1), DAY]


def _values(query: Any) -> list[Any]:
    """The positional parameters bound to a statement, in order."""
    return [p.value for p in query.config.query_parameters]


class _HistoryAnswers(_Answers):
    """The features' answers, plus two succeeded days in load_state and one earlier referee run in the history."""

    def __call__(self, sql: str, config: Any) -> StubJob:
        if "FROM `demo_prod`.`load_state`" in sql and sql.startswith("SELECT billing_day"):
            return StubJob(rows=[(DAYS[1],), (DAYS[0],)])
        if sql.startswith("SELECT rule_id, result, referee_run_id"):  # each rule's last result other than a fail
            return StubJob(
                rows=[("CAU-A-001-M", "pass", "scheduled__week1"), ("CAU-C-003-C", "skipped", "scheduled__week1")]
            )
        if "INFORMATION_SCHEMA.TABLES" in sql:
            return StubJob(rows=[*super().__call__(sql, config).rows, ("focus_conformance_history",)])
        return super().__call__(sql, config)


def test_the_sample_and_its_export_on_bigquery(tmp_path: Path) -> None:
    client = FakeBigQueryClient(_HistoryAnswers())
    warehouse = _warehouse(client)
    days = latest_succeeded_days(warehouse, "demo_prod", "aws", DAY, 3)
    exported = export_focus(warehouse, "demo_prod", "aws", tmp_path / "aws.parquet", days=days)
    sent = _check_sent(client, "conformance_sample")
    assert days == DAYS and exported.rows == 1
    (sample_query,) = [q for q in client.queries if q.sql.startswith("SELECT billing_day")]
    assert _values(sample_query) == ["aws", DAY, 3]  # provider, as-of day and count bound, not spliced
    assert any("x_ingestion_date IN (" in s for s in sent)


def test_the_history_on_bigquery_writes_one_row_per_rule_and_finds_the_regression() -> None:
    client = FakeBigQueryClient(_HistoryAnswers())
    results = {"CAU-A-001-M": "fail", "CAU-B-002-C": "fail", "CAU-C-003-C": "pass"}
    sample = JudgedSample("scheduled__week2", NOW, "1.3", "aws", "demo_prod", (date(2026, 11, 2), DAY), "1.3", results)
    found = record(_warehouse(client), sample)
    sent = _check_sent(client, "conformance_history")
    assert [(r.rule_id, r.previous_run_id) for r in found] == [("CAU-A-001-M", "scheduled__week1")]
    (insert,) = [q for q in client.queries if q.sql.startswith("INSERT INTO `demo_prod`.`focus_conformance_history`")]
    values = _values(insert)
    assert len(values) == 10 * len(results) and values[6::10] == sorted(results)  # every value bound, a row per rule
    assert set(values[9::10]) == {"CostAndUsage"}  # the FOCUS dataset judged, in its own column
    assert "BEGIN TRANSACTION" in sent and sent.index("BEGIN TRANSACTION") < sent.index(insert.sql)
