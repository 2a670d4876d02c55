"""The run conf's billing_day, the org param's form labels and the run notes, without Airflow running."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloudcost.airflow.run_conf import RunConfError, billing_day_param, org_param, run_days, wanted_day
from cloudcost.airflow.run_notes import run_label
from cloudcost.config import load_orgs_tolerant

D1, D2 = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)


def test_billing_day_is_the_day_of_a_manual_run_whatever_its_logical_date() -> None:
    conf = {"org_slug": "demo", "billing_day": "2026-11-02"}
    assert run_days(conf, "manual", None, None) == [date(2026, 11, 2)]  # REST: "logical_date": null
    now = datetime(2026, 12, 7, tzinfo=UTC)  # the UI fills the logical date in with "now"
    assert run_days(conf, "manual", now, now.replace(day=8)) == [date(2026, 11, 2)]
    assert run_days({"org_slug": "demo"}, "scheduled", D1, D2) == [date(2026, 11, 2)]


@pytest.mark.parametrize("run_type", ["scheduled", "backfill"])
def test_billing_day_is_refused_for_runs_that_load_their_logical_date(run_type: str) -> None:
    with pytest.raises(RunConfError, match=f"manual runs only; this {run_type} run loads its logical date"):
        run_days({"billing_day": "2026-11-02"}, run_type, D1, D2)


@pytest.mark.parametrize("value", ["2026-13-01", "20261102", "2026-11-2", 20261102, "yesterday"])
def test_a_billing_day_that_is_not_a_date_is_refused_naming_the_key(value: object) -> None:
    with pytest.raises(RunConfError, match=r"run conf key 'billing_day': .* is not a date"):
        wanted_day({"billing_day": value})


def test_without_billing_day_or_logical_date_nothing_is_guessed() -> None:
    with pytest.raises(ValueError, match="billing_day"):
        run_days({"org_slug": "demo"}, "manual", None, None)


def test_org_param_labels_empty_as_all_orgs_and_orgs_by_display_name(config_dir) -> None:
    (config_dir / "orgs" / "acme.yml").write_text(
        "slug: acme\ndisplay_name: Acme Inc\nproviders:\n"
        "  aws:\n    credential_id: acme-aws\n    export: {format: cur2, prefix: cur, name: acme-cur2}\n"
    )
    schema = org_param(load_orgs_tolerant("aws"), "Run one org only.").schema
    assert schema["enum"] == [None, "acme", "demo"]
    assert schema["values_display"] == {"null": "all orgs", "acme": "Acme Inc (acme)", "demo": "Demo Corp (demo)"}
    day = billing_day_param()
    assert day.schema["format"] == "date"
    assert day.resolve("2026-11-02") == "2026-11-02"
    with pytest.raises(Exception, match="is not a 'date'"):
        day.resolve("2026-13-01")  # what Airflow checks at trigger time (400)


def test_run_label_names_org_and_days() -> None:
    assert run_label({"org_slug": "demo", "billing_day": "2026-11-02"}, "manual", None, None) == "demo · 2026-11-02"
    assert run_label({}, "backfill", D1, D2) == "all orgs · 2026-11-02"
    assert run_label({}, "manual", D1, D2.replace(day=5)) == "all orgs · 2026-11-02..2026-11-04"
    assert run_label({}, "manual", None, None) == "all orgs · no billing day"
    assert run_label({"org": "x"}, "scheduled", D1, D2) == "invalid conf · 2026-11-02"
