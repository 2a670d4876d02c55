"""The daily Billing Period rules on BigQuery, against the fake client of test_features_on_bigquery.py: one
statement that parses as BigQuery and matches tests/fixtures/bigquery/feature_billing_period_rules.sql
(CLOUDCOST_UPDATE_GOLDEN=1 regenerates it), provider and day bound, and each count read back under its rule."""

from __future__ import annotations

from typing import Any

from cloudcost.pipeline.billing_period_rules import ONE_ROW_PER_PERIOD, ROW_RULES, billing_period_violations
from tests.helpers import run_context
from tests.unit.bigquery_stub import StubClient as FakeBigQueryClient
from tests.unit.bigquery_stub import StubJob
from tests.unit.test_features_on_bigquery import DAY, _check_sent, _warehouse

COUNTS = (0, 2, 0, 1)  # start/end, status, created/updated, one row per period


def _answers(sql: str, config: Any) -> StubJob:
    return StubJob(rows=[COUNTS]) if "focus_billing_period_1_4" in sql else StubJob()


def test_the_billing_period_rules_on_bigquery_count_each_rule_in_one_statement() -> None:
    client = FakeBigQueryClient(_answers)
    warehouse = _warehouse(client)
    with warehouse.session("demo_prod") as session:
        found = billing_period_violations(session, "demo_prod", run_context(DAY))
    assert found == dict(zip([*ROW_RULES, ONE_ROW_PER_PERIOD], COUNTS, strict=True))
    _check_sent(client, "billing_period_rules")
    (query,) = [q for q in client.queries if "focus_billing_period_1_4" in q.sql]
    assert [p.value for p in query.config.query_parameters] == ["aws", DAY]  # bound, not spliced
