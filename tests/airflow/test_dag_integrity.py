"""DAG integrity (Astronomer-style): every DAG file imports, each import error is its own failure, and
every DAG follows policy: tags, owner, retries, the billing-day timetable, the org param, and no task
whose trigger rule could let a failed run end green."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.taskgroup import MappedTaskGroup
from airflow.timetables.trigger import CronTriggerTimetable

from cloudcost.airflow.billing_dag import days_of_every_org
from cloudcost.airflow.timetable import BillingDayTimetable
from tests.conftest import REPO
from tests.helpers import BILLING_ORG_TASKS, RESTATE_TASKS

DAG_FILES = sorted((REPO / "dags").glob("*.py"))
WEEKLY_DAGS = {"focus_conformance": "0 9 * * 1"}  # not per billing day: the weekly referee of recent days


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_errors(dag_file: Path) -> None:
    bag = DagBag(dag_folder=str(dag_file))
    assert not bag.import_errors, bag.import_errors
    assert bag.dag_ids, f"{dag_file.name} defines no DAG"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_only_wire(dag_file: Path) -> None:
    text = dag_file.read_text()
    assert len(text.splitlines()) <= 15, "DAG files call the factory; the work lives in plugins/cloudcost/"
    for heavy in ("duckdb", "pyarrow", "pandas", "boto3", "google.cloud"):
        assert heavy not in text


def test_expected_dags_exist(dagbag: DagBag) -> None:
    billing = {f"cloud_{p}_cost_billing" for p in ("aws", "gcp", "azure", "oci")}
    assert set(dagbag.dag_ids) == billing | {"cost_rollups", "focus_conformance"}


def test_rollups_wait_for_the_loads_then_refresh(dagbag: DagBag) -> None:
    dag = dagbag.dags["cost_rollups"]
    gate = dag.get_task("org.wait_for_loads")
    assert "org.refresh" in gate.downstream_task_ids
    assert gate.soft_fail is False and gate.mode == "reschedule"
    # restated days are refreshed too (the billing DAG refreshes no rollup), before budgets and anomalies
    assert dag.get_task("org.refresh").downstream_task_ids == {"org.refresh_restated"}
    assert "org.evaluate" in dag.get_task("org.refresh_restated").downstream_task_ids
    # the leaves: the org's last stage, and the check of the org files beside it (either failing fails the run)
    assert sorted(t.task_id for t in dag.tasks if not t.downstream_task_ids) == ["org.evaluate", "org_files"]


def test_conformance_referees_each_org_beside_the_org_files_check(dagbag: DagBag) -> None:
    dag = dagbag.dags["focus_conformance"]
    assert dag.get_task("select_orgs").downstream_task_ids == {"referee", "org_files"}
    assert sorted(t.task_id for t in dag.tasks if not t.downstream_task_ids) == ["org_files", "referee"]
    assert dag.max_active_runs == 1 and dag.catchup is False  # runs judge in order; each compares with the last
    assert set(dag.params) == {"org_slug", "billing_day"}


def test_dags_follow_policy(dagbag: DagBag) -> None:
    problems = []
    for dag_id, dag in dagbag.dags.items():
        if "cloudcost" not in dag.tags:
            problems.append(f"{dag_id}: missing tag 'cloudcost'")
        if dag_id in WEEKLY_DAGS:
            if not isinstance(dag.timetable, CronTriggerTimetable) or dag.timetable.summary != WEEKLY_DAGS[dag_id]:
                problems.append(f"{dag_id}: not on its weekly schedule {WEEKLY_DAGS[dag_id]}")
        elif not isinstance(dag.timetable, BillingDayTimetable):
            problems.append(f"{dag_id}: not on BillingDayTimetable")
        if "org_slug" not in dag.params:
            problems.append(f"{dag_id}: no org_slug param")
        for task in dag.tasks:
            if task.owner in ("", "airflow"):
                problems.append(f"{dag_id}.{task.task_id}: no owner")
            if task.retries < 1:
                problems.append(f"{dag_id}.{task.task_id}: retries < 1")
            if task.trigger_rule != "all_success":
                problems.append(f"{dag_id}.{task.task_id}: trigger rule {task.trigger_rule} could hide a failure")
    assert not problems, "\n".join(problems)


def test_stages_run_in_order_and_sensor_fails_not_skips(dagbag: DagBag) -> None:
    dag = dagbag.dags["cloud_aws_cost_billing"]
    chain = BILLING_ORG_TASKS
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    sensor = dag.get_task("org.wait_for_export")
    assert sensor.soft_fail is False
    assert sensor.mode == "reschedule"
    assert sorted(t.task_id for t in dag.tasks if not t.downstream_task_ids) == ["org_files", "restate.record"]
    assert dag.get_task("select_orgs").downstream_task_ids >= {"org.wait_for_export", "org_files"}
    assert not dag.get_task("select_orgs").upstream_task_ids, "the run conf is checked before anything runs"


def test_restated_days_are_reloaded_by_a_mapped_group_not_inside_the_recheck(dagbag: DagBag) -> None:
    """``recheck_window`` only lands and returns the days; every org's days, flattened, map the ``restate`` group
    (one instance per (org, day), so one day's failure stops only its own chain), and no rollup is refreshed."""
    dag = dagbag.dags["cloud_aws_cost_billing"]
    assert dag.get_task("org.recheck_window").downstream_task_ids == {"restated_days"}
    assert dag.get_task("restated_days").downstream_task_ids == set(RESTATE_TASKS)  # each reads its (org, day)
    for upstream, downstream in itertools.pairwise(RESTATE_TASKS):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    assert isinstance(dag.task_group_dict["restate"], MappedTaskGroup)
    assert isinstance(dag.task_group_dict["org"], MappedTaskGroup)
    assert not [t.task_id for t in dag.tasks if "rollup" in t.task_id], "cost_rollups refreshes restated days"


def test_org_param_offers_configured_orgs(dagbag: DagBag) -> None:
    param = dagbag.dags["cloud_aws_cost_billing"].params.get_param("org_slug")
    assert param.schema["enum"] == [None, "demo"]
    assert param.schema["pattern"].startswith("^[a-z]")


def test_bad_provider_config_breaks_only_that_dag(tmp_path: Path, config_dir: Path, monkeypatch) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(REPO / "dags" / "cloud_aws_cost_billing.py", dags)
    (dags / "other_dag.py").write_text(
        '"""airflow dag"""\nfrom airflow.sdk import DAG\nwith DAG("other_dag", schedule=None):\n    pass\n'
    )
    billing = config_dir / "cloud" / "aws" / "cost" / "billing.yml"
    data = yaml.safe_load(billing.read_text())
    data["dag"]["retries"] = "many"
    billing.write_text(yaml.safe_dump(data))
    bag = DagBag(dag_folder=str(dags))
    assert bag.dag_ids == ["other_dag"]
    [(path, error)] = bag.import_errors.items()
    assert path.endswith("cloud_aws_cost_billing.py")
    assert "billing.yml: key 'dag.retries'" in error


def test_every_orgs_restated_days_are_flattened_whatever_the_number_of_orgs() -> None:
    one = {"org_slug": "demo", "billing_day": "2026-11-01", "from_version": "a", "to_version": "b"}
    other = one | {"org_slug": "acme"}
    assert days_of_every_org([one, one | {"billing_day": "2026-11-02"}]) == [one, one | {"billing_day": "2026-11-02"}]
    assert days_of_every_org([[one], [], [other]]) == [one, other]
    assert days_of_every_org([]) == days_of_every_org([[], []]) == []
