"""focus_conformance through Airflow (`airflow dags test`) with the real focus-validator: a baseline run recorded,
a regression planted in the FOCUS rows, and the DAG's ``referee`` task failing on it naming rule, provider, days.

Only AWS is loaded (two demo days), so the run costs one validator call per FOCUS dataset (1.3 Cost and Usage, 1.4
Cost and Usage and Billing Period, whose tables the loads fill) per referee run; the org's other providers have no
succeeded day and are passed over.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cloudcost.cli import main
from cloudcost.validate.referee import Referee, RefereeUnavailable
from cloudcost.validate.scheduled import judge_latest_days
from cloudcost.warehouse import open_warehouse
from tests.conftest import VENV_BIN
from tests.helpers import load_day

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("demo_credentials")]
DAYS = [date(2026, 11, 1), date(2026, 11, 2)]
SAMPLED = "2026-11-01,2026-11-02"


@pytest.fixture
def validator() -> Referee:
    try:
        return Referee.locate()
    except RefereeUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the FOCUS referee must run in CI: {exc}")
        pytest.skip(str(exc))


def history() -> dict[tuple[str, str, str], dict[str, str]]:
    """(referee run id, FOCUS version, FOCUS dataset) -> rule id -> result: both versions' tables are judged (1.3
    and 1.4), and 1.4's Billing Period dataset as well as its Cost and Usage."""
    with open_warehouse().session("demo_prod") as session:
        rows = session.fetchall(
            "select referee_run_id, rule_id, result, focus_version, focus_dataset, provider, sampled_days "
            "from demo_prod.focus_conformance_history"
        )
    assert {row[3:] for row in rows} == {
        ("1.3", "CostAndUsage", "aws", SAMPLED),
        ("1.4", "CostAndUsage", "aws", SAMPLED),
        ("1.4", "BillingPeriod", "aws", SAMPLED),
    }
    runs: dict[tuple[str, str, str], dict[str, str]] = {}
    for run_id, rule_id, result, version, focus_dataset, *_ in rows:
        rules = runs.setdefault((run_id, version, focus_dataset), {})
        assert rule_id not in rules, f"two rows for {rule_id} in {run_id} (FOCUS {version} {focus_dataset})"
        rules[rule_id] = result
    return runs


def test_the_weekly_referee_fails_loudly_on_a_rule_that_passed_before(
    airflow_home: Path, data_dir: Path, config_dir: Path, validator: Referee
) -> None:
    assert main(["demo", "generate", "--org", "demo", "--from", str(DAYS[0]), "--to", str(DAYS[-1])]) == 0
    for day in DAYS:
        load_day("aws", day)

    baseline = judge_latest_days("demo", "baseline", datetime.now(UTC), DAYS[-1])
    assert [(v.focus_version, v.focus_dataset, v.provider, v.days, v.status, v.regressed) for v in baseline] == [
        ("1.3", "CostAndUsage", "aws", SAMPLED, "PASS", 0),
        ("1.4", "CostAndUsage", "aws", SAMPLED, "PASS", 0),
        ("1.4", "BillingPeriod", "aws", SAMPLED, "PASS", 0),
    ]
    runs = history()
    recorded = runs[("baseline", "1.3", "CostAndUsage")]
    assert len(recorded) == baseline[0].rules > 700  # one row per rule of the model the validator ran
    assert recorded["CAU-BillingCurrency-C-000-M"] == "pass"
    periods = runs[("baseline", "1.4", "BillingPeriod")]
    assert len(periods) == baseline[2].rules and any(rule.startswith("BIP-") for rule in periods)  # its own rules

    with open_warehouse().session("demo_prod") as session:  # a mapping that lowercases the currency code
        session.execute("update demo_prod.cost_data_standard_1_3 set BillingCurrency = lower(BillingCurrency)")
    command = ["dags", "test", "focus_conformance", DAYS[-1].isoformat(), "-c", json.dumps({"org_slug": "demo"})]
    run = subprocess.run(
        [str(VENV_BIN / "airflow"), *command],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    regressed = re.findall(
        rf"FOCUS 1\.3 rule (\S+) regressed for aws on {SAMPLED}: passed in referee run baseline", output
    )
    assert "CAU-BillingCurrency-C-000-M" in regressed, output[-3000:]
    assert not re.findall(r"FOCUS 1\.4 (BillingPeriod )?rule \S+ regressed", output)  # only 1.3 was changed

    runs = history()
    (dag_run_id,) = {run_id for run_id, *_ in runs} - {"baseline"}
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        states = dict(
            db.execute(
                "select task_id, state from task_instance where dag_id = 'focus_conformance' and run_id = ?",
                (dag_run_id,),
            ).fetchall()
        )
    assert states == {"select_orgs": "success", "org_files": "success", "referee": "failed"}
    assert {key[1:] for key in runs if key[0] == dag_run_id} == {key[1:] for key in runs if key[0] == "baseline"}
    now = runs[(dag_run_id, "1.3", "CostAndUsage")]
    assert set(now) == set(recorded)  # the failing run is recorded too, one row per rule
    assert sorted(regressed) == sorted(r for r in now if now[r] == "fail" and recorded[r] == "pass")
