"""One invalid org file stops only its own org, and a run's conf is checked strictly, through Airflow itself.

The DAG files are parsed by Airflow's DagBag with a broken second org file beside the demo org; the runs are
real ``airflow dags test`` / ``airflow dags trigger`` calls against the session's migrated metadata database.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag

from cloudcost.airflow.run_conf import check_org_files, orgs_of_run
from cloudcost.demo.aws_cur2 import write_delivery
from cloudcost.paths import landing_dir
from tests.conftest import REPO, VENV_BIN
from tests.helpers import BILLING_ORG_TASKS, RESTATE_TASKS

pytestmark = pytest.mark.airflow
DAY = date(2026, 11, 2)
AWS = "cloud_aws_cost_billing"
GOOD_AWS = "  aws:\n    credential_id: acme-aws\n    export: {format: cur2, prefix: cur, name: acme-cur2}\n"

# (org file text, the words its error must contain, the DAGs it stops the org in)
BROKEN = {
    "bad_yaml": (  # libyaml's words (the C loader, cloudcost/yaml_text.py)
        "slug: acme\nproviders: [aws\n",
        "line 3, column 1 not valid YAML: did not find expected ',' or ']'",
        "all",
    ),
    "unknown_key": (
        "slug: acme\ndisplay_name: Acme\nproviders:\n"
        "  aws:\n    credential_id: acme-aws\n    export: {format: cur2, name: acme-cur2, colour: red}\n",
        "key 'providers.aws.export.colour': unknown key (typo?)",
        {AWS, "cost_rollups", "focus_conformance"},
    ),
    "wrong_type": (
        f"slug: acme\ndisplay_name: Acme\nbudgets: lots\nproviders:\n{GOOD_AWS}",
        "key 'budgets': Input should be a valid list",
        {AWS, "cost_rollups", "focus_conformance"},
    ),
}
ORG_DAGS = {"cost_rollups", "focus_conformance"}  # every org, whatever providers it enables
ALL_DAGS = {f"cloud_{p}_cost_billing" for p in ("aws", "gcp", "azure", "oci")} | ORG_DAGS


def _provider(dag_id: str) -> str | None:
    return None if dag_id in ORG_DAGS else dag_id.split("_")[1]


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_second_org_file_leaves_the_dags_and_the_demo_org(
    config_dir: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    text, words, affected = BROKEN[kind]
    acme = config_dir / "orgs" / "acme.yml"
    acme.write_text(text)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    assert f"org acme left out of this DAG: {acme}: {words}" in caplog.text  # the parse-time log line
    assert set(bag.dag_ids) == ALL_DAGS
    for dag_id, dag in bag.dags.items():
        param = dag.params.get_param("org_slug")
        assert param.schema["enum"] == [None, "demo"], dag_id
        # the org_files check runs beside the orgs' work, after select_orgs (nothing runs before it)
        assert "org_files" in dag.get_task("select_orgs").downstream_task_ids
        assert not dag.get_task("select_orgs").upstream_task_ids
        assert orgs_of_run({}, _provider(dag_id)) == ["demo"]
        if affected == "all" or dag_id in affected:
            assert "acme.yml" in param.description, dag_id
            with pytest.raises(ValueError) as failed:
                check_org_files({}, _provider(dag_id))
            assert str(failed.value).startswith(f"{acme}: {words}")
            with pytest.raises(ValueError, match=r"acme\.yml"):  # asking for the broken org names its file
                orgs_of_run({"org_slug": "acme"}, _provider(dag_id))
        else:
            assert check_org_files({}, _provider(dag_id)) == "every org file of this run is valid"
        assert check_org_files({"org_slug": "demo"}, _provider(dag_id)) == "every org file of this run is valid"


def _dags_test(dag_id: str, conf: dict, day: date = DAY) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "airflow"), "dags", "test", dag_id, day.isoformat(), "-c", json.dumps(conf)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _run_of(airflow_home: Path, dag_id: str, output: str) -> tuple[str, dict[str, list[str]]]:
    line = next(line for line in output.splitlines() if "DagRun Finished" in line)
    run_id = line.split("run_id=", 1)[1].split(",", 1)[0]
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        [(state,)] = db.execute("select state from dag_run where dag_id = ? and run_id = ?", (dag_id, run_id))
        rows = db.execute(
            "select task_id, state from task_instance where dag_id = ? and run_id = ?", (dag_id, run_id)
        ).fetchall()
    states: dict[str, list[str]] = {}
    for task_id, task_state in rows:
        states.setdefault(task_id, []).append(task_state)
    return state, states


def _no_retries(config_dir: Path, provider: str) -> None:
    path = config_dir / "cloud" / provider / "cost" / "billing.yml"
    config = yaml.safe_load(path.read_text())
    config["dag"]["retries"] = 0
    path.write_text(yaml.safe_dump(config))


@pytest.mark.usefixtures("demo_credentials")
def test_run_with_a_broken_org_loads_the_good_org_and_fails_naming_the_file(
    airflow_home: Path, data_dir: Path, config_dir: Path
) -> None:
    _no_retries(config_dir, "aws")
    acme = config_dir / "orgs" / "acme.yml"
    acme.write_text(BROKEN["unknown_key"][0])
    write_delivery(landing_dir("demo", "aws"), [DAY])
    run = _dags_test(AWS, {})
    output = run.stdout + run.stderr
    state, states = _run_of(airflow_home, AWS, output)
    assert state == "failed"
    assert states.pop("org_files") == ["failed"]
    assert f"{acme}: key 'providers.aws.export.colour': unknown key (typo?)" in output
    assert states.pop("select_orgs") == ["success"]
    assert states.pop("restated_days") == ["success"]
    # nothing restated: the group maps no instance, its tasks skipped
    assert {task: states.pop(task) for task in RESTATE_TASKS} == {task: ["skipped"] for task in RESTATE_TASKS}
    assert states == {
        task: ["success"]  # the demo org (one mapped instance each) loaded its day
        for task in BILLING_ORG_TASKS
    }, output[-3000:]


def test_unknown_conf_key_fails_the_first_task_and_nothing_runs(airflow_home: Path, config_dir: Path) -> None:
    # billing.yml keeps its retries (2, 5 minutes apart): select_orgs fails at once, without them
    run = _dags_test(AWS, {"org": "demo"}, date(2026, 11, 4))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "run conf key 'org' is not known (typo?); the keys are 'org_slug' and 'billing_day'" in output
    state, states = _run_of(airflow_home, AWS, output)
    assert state == "failed"
    assert states.pop("select_orgs") == ["failed"]
    assert states and {state for task_states in states.values() for state in task_states} == {"upstream_failed"}


def test_unconfigured_org_slug_is_refused_by_airflow_before_a_run_exists(airflow_home: Path, config_dir: Path) -> None:
    day = date(2026, 11, 5)
    (config_dir / "orgs" / "acme.yml").write_text("slug: acme\nproviders: [aws\n")  # invalid: not offered either
    for org in ("nope", "acme"):
        run = _dags_test(AWS, {"org_slug": org}, day)
        assert run.returncode != 0
        assert f"Invalid input for param org_slug: '{org}' is not one of [None, 'demo']" in run.stdout + run.stderr
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        runs = db.execute(
            "select count(*) from dag_run where dag_id = ? and logical_date like ?", (AWS, f"{day}%")
        ).fetchone()[0]
    assert runs == 0


def test_airflow_dags_trigger_checks_org_slug_but_not_unknown_keys(airflow_home: Path, config_dir: Path) -> None:
    """What Airflow itself enforces at trigger time (the same ``create_dagrun`` check as the REST API): the
    ``org_slug`` param's enum, not other keys; those are refused by ``select_orgs`` (test above)."""
    env = dict(os.environ)
    serialized = subprocess.run(
        [str(VENV_BIN / "airflow"), "dags", "reserialize"], env=env, capture_output=True, text=True, timeout=300
    )
    assert serialized.returncode == 0, serialized.stderr[-2000:]

    def trigger(conf: dict, day: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV_BIN / "airflow"), "dags", "trigger", AWS, "-c", json.dumps(conf), "-l", day],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    refused = trigger({"org_slug": "nope"}, "2026-11-06T00:00:00+00:00")
    assert refused.returncode != 0
    assert "Invalid input for param org_slug: 'nope' is not one of [None, 'demo']" in refused.stdout + refused.stderr
    accepted = trigger({"org": "demo"}, "2026-11-07T00:00:00+00:00")
    assert accepted.returncode == 0, accepted.stdout[-2000:] + accepted.stderr[-2000:]
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        confs = db.execute(
            "select logical_date, conf from dag_run where dag_id = ? and run_type = 'manual' "
            "and (logical_date like '2026-11-06%' or logical_date like '2026-11-07%')",
            (AWS,),
        ).fetchall()
    assert [day[:10] for day, _ in confs] == ["2026-11-07"]
