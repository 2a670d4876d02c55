"""The referee's memory (``<org>_prod.focus_conformance_history``): one row per rule and run, and a regression
only where a rule passed in the previous run of the same FOCUS version and provider and fails now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cloudcost.validate.history import JudgedSample, previous_run, record
from cloudcost.warehouse import open_warehouse

DAYS = (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3))
START = datetime(2026, 11, 9, 9, tzinfo=UTC)


def sample(run: int, results: dict[str, str], provider: str = "aws", version: str = "1.3") -> JudgedSample:
    return JudgedSample(
        f"scheduled__run{run}", START + timedelta(days=7 * run), version, provider, "demo_prod", DAYS, "1.3", results
    )


def history() -> list[tuple]:
    with open_warehouse().session() as session:
        return session.fetchall(
            "select referee_run_id, focus_version, provider, dataset, sampled_days, rule_id, result, model_version "
            "from demo_prod.focus_conformance_history order by referee_run_id, provider, rule_id"
        )


def test_first_run_is_the_baseline_with_one_row_per_rule(data_dir: Path) -> None:
    results = {"CAU-A-001-M": "pass", "CAU-B-002-C": "fail", "CAU-C-003-C": "skipped", "CAU-D-004-C": "erratum"}
    assert record(open_warehouse(), sample(1, results)) == []
    rows = history()
    assert [(r[5], r[6]) for r in rows] == sorted(results.items())
    assert {r[:5] for r in rows} == {("scheduled__run1", "1.3", "aws", "demo_prod", "2026-11-01,2026-11-02,2026-11-03")}


def test_a_rule_that_passed_and_now_fails_is_a_regression_naming_rule_provider_and_days(data_dir: Path) -> None:
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "pass", "CAU-B-002-C": "pass"}))
    found = record(warehouse, sample(2, {"CAU-A-001-M": "fail", "CAU-B-002-C": "pass"}))
    assert [(r.rule_id, r.provider, r.days, r.previous_run_id) for r in found] == [
        ("CAU-A-001-M", "aws", "2026-11-01,2026-11-02,2026-11-03", "scheduled__run1")
    ]
    assert found[0].line() == (
        "FOCUS 1.3 rule CAU-A-001-M regressed for aws on 2026-11-01,2026-11-02,2026-11-03: "
        "passed in referee run scheduled__run1, fails now"
    )
    assert len(history()) == 4  # both runs kept, two rules each


def test_a_rule_failing_in_both_runs_is_recorded_not_a_regression(data_dir: Path) -> None:
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "fail", "CAU-B-002-C": "erratum", "CAU-C-003-C": "skipped"}))
    assert record(warehouse, sample(2, {"CAU-A-001-M": "fail", "CAU-B-002-C": "fail", "CAU-C-003-C": "fail"})) == []
    assert [r[6] for r in history() if r[0] == "scheduled__run2"] == ["fail", "fail", "fail"]


def test_runs_are_compared_within_one_focus_version_and_provider(data_dir: Path) -> None:
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "pass"}, provider="gcp"))
    record(warehouse, sample(2, {"CAU-A-001-M": "pass"}, version="1.4"))
    assert record(warehouse, sample(3, {"CAU-A-001-M": "fail"})) == []  # aws 1.3: its first run, the baseline
    found = record(warehouse, sample(4, {"CAU-A-001-M": "fail"}, provider="gcp"))
    assert [(r.provider, r.focus_version, r.previous_run_id) for r in found] == [("gcp", "1.3", "scheduled__run1")]


def test_a_run_recorded_again_replaces_its_rows_and_still_compares_with_the_run_before(data_dir: Path) -> None:
    """A retried or cleared task must not compare its failure with its own first attempt and turn green."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "pass"}))
    assert len(record(warehouse, sample(2, {"CAU-A-001-M": "fail"}))) == 1
    again = record(warehouse, sample(2, {"CAU-A-001-M": "fail"}))
    assert [r.rule_id for r in again] == ["CAU-A-001-M"]
    assert [r[0] for r in history()] == ["scheduled__run1", "scheduled__run2"]
    with warehouse.session() as session:
        assert previous_run(session, "demo_prod", "1.3", "aws", "scheduled__run3") == "scheduled__run2"


@pytest.mark.parametrize("rules", [1, 1201])
def test_every_rule_of_a_large_run_gets_its_row(data_dir: Path, rules: int) -> None:
    """The 1.4 model has 1,514 rules: rows go in several statements, none lost at a statement's edge."""
    results = {f"CAU-R-{i:04d}-M": "pass" for i in range(rules)}
    record(open_warehouse(), sample(1, results))
    assert [r[5] for r in history()] == sorted(results)


def test_the_sample_is_the_latest_succeeded_days_on_or_before_the_run_day(data_dir: Path) -> None:
    from cloudcost.validate.scheduled import latest_succeeded_days
    from tests.helpers import seed_load_state

    november = [date(2026, 11, d) for d in range(1, 7)]
    warehouse = open_warehouse()
    assert latest_succeeded_days(warehouse, "demo_prod", "aws", november[-1], 3) == []  # no load_state yet
    seed_load_state({"aws": november[:3] + november[4:5], "gcp": november})
    seed_load_state({"aws": [november[3]]}, status="stale")  # a restated day waiting to be converted again
    seed_load_state({"aws": [november[5]]}, status="landed")
    assert latest_succeeded_days(warehouse, "demo_prod", "aws", november[-1], 3) == [
        november[1],
        november[2],
        november[4],
    ]
    assert latest_succeeded_days(warehouse, "demo_prod", "gcp", november[2], 3) == november[:3]  # a backfilled run
