"""BigQuery cancels a transaction that mutates a table another writer is mutating (the providers of one org share
their FOCUS, ledger, state and rollup tables). The convert CALL, and every transaction the pipeline runs there, runs
again on exactly that error, within a bound; any other error propagates at once (``warehouse/conflicts.py``).
The client is the stub of tests/unit/bigquery_stub.py; the answers below fake BigQuery's abort."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from google.api_core.exceptions import BadRequest, Conflict

from cloudcost.config import load_org_by_slug
from cloudcost.evaluation.evaluate import evaluate_day
from cloudcost.evaluation.suggestions import sweep
from cloudcost.pipeline.land_raw import land_raw
from cloudcost.pipeline.load_state import record_load
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.schemas import load_table_schema
from cloudcost.validate.history import JudgedSample, record
from cloudcost.warehouse.bigquery import BigQueryWarehouse
from cloudcost.warehouse.conflicts import (
    ConcurrentUpdateRetriesExhausted,
    RetryBound,
    is_concurrent_update,
    retry_concurrent_updates,
)
from tests.unit.bigquery_stub import StubClient, StubJob
from tests.unit.test_bigquery_warehouse import DAY, GCP, RULES, RUN, UPGRADED, _answer, _catalog, _caught_up, _Export
from tests.unit.test_conformance_on_bigquery import _HistoryAnswers
from tests.unit.test_features_on_bigquery import DAY as FEATURE_DAY
from tests.unit.test_features_on_bigquery import NOW, _Answers

TABLE = "my-project:demo_prod.cost_data_standard_1_3"
# the text BigQuery returns for a cancelled transaction (HTTP 400)
ABORTED = (
    f"Query error: Transaction is aborted due to concurrent update against table {TABLE}. "
    "Transaction ID: 68381985-0000-235c-aa1e-089e0822be6c at [12:3]"
)


def concurrent_update() -> BadRequest:
    return BadRequest(ABORTED)


class FakeAbortingBigQuery:
    """Answers like BigQuery while another provider's transaction holds the org's tables: the first ``aborts``
    queries starting with ``statement`` are cancelled (or fail with ``error``); the rest answer ``answer`` (by
    default: the org's 1.4 tables exist, every other query gets a converted slice's figures)."""

    def __init__(self, statement: str, aborts: int, error: Exception | None = None, answer=None) -> None:
        self.statement, self.aborts, self.error = statement, aborts, error
        self.answer = answer or _catalog(UPGRADED)  # an org whose 1.4 tables exist; a converted slice's figures
        self.client = _caught_up(StubClient(self))  # its 1.4 catch-up ran (unless a test removes the mark)
        self.sleeps: list[float] = []

    def __call__(self, sql: str, config) -> StubJob:
        if sql.startswith(self.statement) and self.aborts > 0:
            self.aborts -= 1
            raise self.error or concurrent_update()
        return self.answer(sql, config)

    def warehouse(self) -> BigQueryWarehouse:
        return BigQueryWarehouse("my-project", "EU", client_factory=lambda: self.client, sleep=self.sleeps.append)

    def sent(self, statement: str) -> list:
        return [q for q in self.client.queries if q.sql.startswith(statement)]


def test_only_the_concurrent_update_abort_is_recognised() -> None:
    assert is_concurrent_update(concurrent_update())
    assert not is_concurrent_update(BadRequest("Query error: Division by zero: 1 / 0 at [3:5]"))
    assert not is_concurrent_update(Conflict(ABORTED)), "a 409 is not BigQuery's transaction abort"
    assert not is_concurrent_update(RuntimeError(ABORTED))


def test_an_aborted_convert_calls_the_procedure_again_and_succeeds(
    config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeAbortingBigQuery("CALL", aborts=1)
    with caplog.at_level(logging.WARNING, logger="cloudcost.warehouse.conflicts"):
        result = fake.warehouse().convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert (result.rows, result.billed_cost, result.effective_cost) == (4, "10.5", "9.5")
    first, second = fake.sent("CALL")
    assert (second.sql, second.params) == (first.sql, first.params), "the whole transaction, the same CALL"
    assert len(fake.sleeps) == 1 and 0 <= fake.sleeps[0] <= RetryBound().first_wait
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("convert_to_focus demo/gcp 2026-11-02: attempt 1 of 5 aborted by a concurrent update")
    assert TABLE in line and "\n" not in line and "68381985" not in line


def test_a_convert_aborted_every_time_gives_up_after_the_bound_with_one_line(config_dir: Path) -> None:
    fake = FakeAbortingBigQuery("CALL", aborts=99)
    with pytest.raises(ConcurrentUpdateRetriesExhausted) as raised:
        fake.warehouse().convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    message = str(raised.value)
    assert message.startswith(f"convert_to_focus demo/gcp 2026-11-02: still aborted by a concurrent update of {TABLE}")
    assert "after 5 attempt(s)" in message and "\n" not in message
    assert isinstance(raised.value.__cause__, BadRequest)
    assert len(fake.sent("CALL")) == 5
    bound = RetryBound()
    assert len(fake.sleeps) == 4
    assert all(0 <= s <= min(bound.max_wait, bound.first_wait * 2**i) for i, s in enumerate(fake.sleeps))
    assert not fake.sent("SELECT COUNT(*), COALESCE"), "no figures of a slice that was not converted"


def test_another_bad_request_propagates_at_once(config_dir: Path) -> None:
    division = BadRequest("Query error: Division by zero: 1 / 0 at [3:5]")
    fake = FakeAbortingBigQuery("CALL", aborts=1, error=division)
    with pytest.raises(BadRequest) as raised:
        fake.warehouse().convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert raised.value is division
    assert len(fake.sent("CALL")) == 1 and fake.sleeps == []


def test_no_wait_starts_that_would_end_past_the_time_bound() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def aborted() -> None:
        calls.append(1)
        raise concurrent_update()

    with pytest.raises(ConcurrentUpdateRetriesExhausted, match=r"after 1 attempt\(s\)"):
        retry_concurrent_updates(aborted, "unit", RetryBound(attempts=10, seconds=0.0), sleep=sleeps.append)
    assert (len(calls), sleeps) == (1, [])


def test_an_aborted_landing_runs_again_whole_even_when_the_rollback_fails(tmp_path: Path) -> None:
    """BigQuery may already have ended the cancelled transaction, so ROLLBACK fails too: the abort, not that
    failure, decides, and the landing (rows, ledger, state) runs again in a new transaction."""

    def rollback_fails(sql: str, config) -> StubJob:
        if sql == "ROLLBACK TRANSACTION":
            raise BadRequest("No transaction is in progress")
        return _answer(sql, config)

    fake = FakeAbortingBigQuery("MERGE", aborts=1, answer=rollback_fails)
    schema = load_table_schema(GCP.schema_file)
    result = land_raw(fake.warehouse(), _Export(tmp_path), schema, "demo_prod", RUN, RULES, "detailed")
    assert (result.rows, result.billed_cost, result.landed_deliveries) == (1, "1.2345678901", 1)
    sqls = [q.sql for q in fake.client.queries]
    assert sqls.count("BEGIN TRANSACTION") == 2 and sqls.count("ROLLBACK TRANSACTION") == 1
    assert sqls.count("COMMIT TRANSACTION") == 1 and len(fake.sent("MERGE")) == 2
    assert len(fake.sleeps) == 1


def test_an_aborted_load_state_write_runs_again() -> None:
    fake = FakeAbortingBigQuery("INSERT INTO `demo_prod`.`load_state`", aborts=2, answer=lambda sql, config: StubJob())
    landed = {"rows": 1, "billed_cost": "1.2345678901", "source_version": "w1"}
    checked = {"focus_rows": 1, "billed_cost": "1.2345678901"}
    row = record_load(fake.warehouse(), "demo_prod", RUN, "detailed", landed, checked)
    assert (row["billing_day"], row["focus_rows"]) == (str(DAY), 1)
    inserts = fake.sent("INSERT INTO `demo_prod`.`load_state`")
    assert len(inserts) == 3 and len(fake.sleeps) == 2
    assert [q.sql for q in fake.client.queries].count("COMMIT TRANSACTION") == 1


def _transaction(sent: list[str], last: bool) -> list[str]:
    """The statements of the first (or last) transaction sent, BEGIN to COMMIT."""
    begins = [i for i, sql in enumerate(sent) if sql == "BEGIN TRANSACTION"]
    start = begins[-1] if last else begins[0]
    return sent[start : sent.index("COMMIT TRANSACTION", start) + 1]


def _refresh(warehouse: BigQueryWarehouse) -> object:
    return refresh_rollups(warehouse, load_org_by_slug("demo"), FEATURE_DAY, NOW)


def _evaluate(warehouse: BigQueryWarehouse) -> object:
    return evaluate_day(warehouse, load_org_by_slug("demo"), FEATURE_DAY, NOW, notifiers=[])


def _sweep(warehouse: BigQueryWarehouse) -> object:
    return sweep(warehouse, load_org_by_slug("demo"), FEATURE_DAY, NOW)


def _history(warehouse: BigQueryWarehouse) -> object:
    results = {"CAU-A-001-M": "fail", "CAU-B-002-C": "fail"}
    sample = JudgedSample("scheduled__week2", NOW, "1.3", "aws", "demo_prod", (FEATURE_DAY,), "1.3", results)
    return record(warehouse, sample)


@pytest.mark.parametrize(
    ("run", "answers", "contended"),
    [
        (_refresh, _Answers, "DELETE FROM `my-project`.`demo_prod`.`daily_cost_by_team`"),
        (_evaluate, _Answers, "DELETE FROM `my-project`.`demo_prod`.`budget_status`"),
        (_sweep, _Answers, "DELETE FROM `demo_prod`.`attribution_suggestions`"),
        (_history, _HistoryAnswers, "DELETE FROM `demo_prod`.`focus_conformance_history`"),
    ],
    ids=["rollups", "evaluation", "suggestions", "conformance_history"],
)
def test_an_aborted_feature_transaction_runs_again_whole(run, answers, contended: str) -> None:
    """Rollups, evaluation and suggestions replace slices of tables every day of the org shares (a backfill runs
    days at once), the conformance history one every provider shares: a cancelled transaction runs again from
    its first statement and gives what an uncontended run gives."""
    calm = FakeAbortingBigQuery(contended, aborts=0, answer=answers())
    expected = run(calm.warehouse())
    fake = FakeAbortingBigQuery(contended, aborts=1, answer=answers())
    assert run(fake.warehouse()) == expected
    sent = [q.sql for q in fake.client.queries]
    assert len(fake.sent(contended)) == 2 and len(fake.sleeps) == 1
    assert sent.count("BEGIN TRANSACTION") == 2 and sent.count("ROLLBACK TRANSACTION") == 1
    assert _transaction(sent, last=True) == _transaction([q.sql for q in calm.client.queries], last=False)


def test_an_aborted_1_4_catch_up_is_called_again_and_keeps_its_tables(config_dir: Path) -> None:
    """The first converts of an org's providers after an upgrade can each start the catch-up: one cancelled by the
    other's transaction runs again whole, and does not drop the 1.4 tables a failure would drop."""
    catch_up = "CALL `my-project`.`demo_prod`.`sp_cloud_1_focus_1_4_catch_up`()"
    fake = FakeAbortingBigQuery(catch_up, aborts=1, answer=_catalog(("cost_data_standard_1_3",)))
    fake.client.routines.clear()  # no catch-up yet
    fake.warehouse().convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert len(fake.sent(catch_up)) == 2 and len(fake.sleeps) == 1
    assert not fake.sent("DROP")
    assert len(fake.sent("CALL `my-project`.`demo_prod`.`sp_cloud_1_convert_to_focus`")) == 1
