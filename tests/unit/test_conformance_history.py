"""The referee's memory (``<org>_prod.focus_conformance_history``): one row per rule and run, and a regression
where a rule fails now whose last result other than a fail, in the same FOCUS version, provider and dataset, was a
pass or an erratum: reported on every run until the rule passes again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cloudcost.schemas import load_table_schema
from cloudcost.validate.conformance import BILLING_PERIOD, FocusDataset
from cloudcost.validate.history import (
    HISTORY,
    ConformanceRegressed,
    JudgedSample,
    raise_if_regressed,
    record,
)
from cloudcost.warehouse import open_warehouse

DAYS = (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3))
START = datetime(2026, 11, 9, 9, tzinfo=UTC)


def sample(
    run: int, results: dict[str, str], provider: str = "aws", version: str = "1.3", dataset: FocusDataset | None = None
) -> JudgedSample:
    judged = START + timedelta(days=7 * run)
    sample = JudgedSample(f"scheduled__run{run}", judged, version, provider, "demo_prod", DAYS, "1.3", results)
    return replace(sample, focus_dataset=dataset) if dataset else sample


def history() -> list[tuple]:
    with open_warehouse().session("demo_prod") as session:
        return session.fetchall(
            "select referee_run_id, focus_version, provider, dataset, sampled_days, rule_id, result, model_version, "
            "focus_dataset from demo_prod.focus_conformance_history order by referee_run_id, provider, rule_id"
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
    """Skipped -> fail is no regression (the rule did not apply before); erratum -> fail is, tested below."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "fail", "CAU-C-003-C": "skipped"}))
    assert record(warehouse, sample(2, {"CAU-A-001-M": "fail", "CAU-C-003-C": "fail"})) == []
    assert [r[6] for r in history() if r[0] == "scheduled__run2"] == ["fail", "fail"]


def test_a_regression_stays_red_on_every_run_until_the_rule_passes_again(data_dir: Path) -> None:
    """Against the latest run only, the third run would compare fail with fail and turn green."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "pass"}))
    for run in (2, 3):
        found = record(warehouse, sample(run, {"CAU-A-001-M": "fail"}))
        assert [(r.rule_id, r.previous_run_id) for r in found] == [("CAU-A-001-M", "scheduled__run1")], run
    with pytest.raises(ConformanceRegressed, match=r"CAU-A-001-M regressed .* passed in referee run scheduled__run1"):
        raise_if_regressed(found)
    raise_if_regressed([])  # nothing regressed: no error
    assert record(warehouse, sample(4, {"CAU-A-001-M": "pass"})) == []
    assert record(warehouse, sample(5, {"CAU-A-001-M": "fail"}))[0].previous_run_id == "scheduled__run4"


def test_an_erratum_that_starts_failing_is_a_regression(data_dir: Path) -> None:
    """Our corrected re-check of a known-wrong validator rule finding bad rows is a regression like pass -> fail."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-B-002-C": "erratum"}))
    (found,) = record(warehouse, sample(2, {"CAU-B-002-C": "fail"}))
    assert found.line() == (
        "FOCUS 1.3 rule CAU-B-002-C regressed for aws on 2026-11-01,2026-11-02,2026-11-03: "
        "was an erratum in referee run scheduled__run1, fails now"
    )
    with pytest.raises(ConformanceRegressed, match="CAU-B-002-C regressed"):
        raise_if_regressed([found])


def test_a_skip_between_is_no_pass_and_the_regression_stays_red(data_dir: Path) -> None:
    """A rule with nothing to check in one sample is skipped: pass, skipped, fail regressed, and pass, fail,
    skipped, fail is still red on the fourth run (the last pass is run 1's both times)."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"CAU-A-001-M": "pass", "CAU-B-002-C": "pass"}))
    assert record(warehouse, sample(2, {"CAU-A-001-M": "skipped", "CAU-B-002-C": "fail"}))[0].rule_id == "CAU-B-002-C"
    found = record(warehouse, sample(3, {"CAU-A-001-M": "fail", "CAU-B-002-C": "skipped"}))
    assert [(r.rule_id, r.previous_run_id) for r in found] == [("CAU-A-001-M", "scheduled__run1")]
    found = record(warehouse, sample(4, {"CAU-A-001-M": "fail", "CAU-B-002-C": "fail"}))
    assert [(r.rule_id, r.previous_run_id) for r in found] == [
        ("CAU-A-001-M", "scheduled__run1"),
        ("CAU-B-002-C", "scheduled__run1"),
    ]


def test_a_rule_failing_since_the_first_run_is_recorded_never_a_regression(data_dir: Path) -> None:
    warehouse = open_warehouse()
    for run in (1, 2, 3):
        assert record(warehouse, sample(run, {"CAU-A-001-M": "fail"})) == []
    assert [(r[0], r[6]) for r in history()] == [(f"scheduled__run{run}", "fail") for run in (1, 2, 3)]


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
    assert [(r.rule_id, r.previous_run_id) for r in again] == [("CAU-A-001-M", "scheduled__run1")]
    assert [r[0] for r in history()] == ["scheduled__run1", "scheduled__run2"]
    assert record(warehouse, sample(2, {"CAU-A-001-M": "pass"})) == []  # cleared again, now passing: rows replaced
    (found,) = record(warehouse, sample(3, {"CAU-A-001-M": "fail"}))
    assert found.previous_run_id == "scheduled__run2"


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


def test_each_focus_dataset_keeps_its_rows_and_is_compared_with_itself(data_dir: Path) -> None:
    """A run judges 1.4 Cost and Usage and Billing Period: neither replaces the other's rows nor is compared with it."""
    warehouse = open_warehouse()
    record(warehouse, sample(1, {"BIP-A-001-M": "pass"}, version="1.4", dataset=BILLING_PERIOD))
    record(warehouse, sample(2, {"BIP-A-001-M": "fail"}, version="1.4"))  # Cost and Usage: its own baseline
    record(warehouse, sample(2, {"BIP-A-001-M": "fail"}, version="1.4", dataset=BILLING_PERIOD))
    (found,) = record(warehouse, sample(2, {"BIP-A-001-M": "fail"}, version="1.4", dataset=BILLING_PERIOD))
    assert (found.focus_dataset, found.previous_run_id) == (BILLING_PERIOD, "scheduled__run1")
    assert found.line().startswith("FOCUS 1.4 BillingPeriod rule BIP-A-001-M regressed for aws")
    assert sorted((r[0], r[6], r[8]) for r in history()) == [
        ("scheduled__run1", "pass", "BillingPeriod"),
        ("scheduled__run2", "fail", "BillingPeriod"),
        ("scheduled__run2", "fail", "CostAndUsage"),
    ]


def test_a_history_from_before_focus_dataset_gets_the_column_and_its_rows_count_as_cost_and_usage(
    data_dir: Path,
) -> None:
    warehouse = open_warehouse()
    schema = load_table_schema(HISTORY)
    older = schema.model_copy(update={"columns": [c for c in schema.columns if c.name != "focus_dataset"]})
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", older)
        session.execute(
            "insert into demo_prod.focus_conformance_history values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ["scheduled__run1", START, "1.3", "aws", "demo_prod", "2026-11-01", "CAU-A-001-M", "pass", "1.3"],
        )
    (found,) = record(warehouse, sample(2, {"CAU-A-001-M": "fail"}))
    assert found.previous_run_id == "scheduled__run1"
    assert [(r[0], r[8]) for r in history()] == [("scheduled__run1", None), ("scheduled__run2", "CostAndUsage")]
