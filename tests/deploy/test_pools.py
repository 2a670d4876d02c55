"""Pools per cloud API: sizes in each billing.yml, the file ``airflow pools import`` reads generated from them,
and every billing DAG task that calls the cloud assigned to its provider's pool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag

from cloudcost.airflow.local_home import airflow_pools
from cloudcost.cli import main
from cloudcost.config import PROVIDERS, ConfigError, load_billing_config
from tests.conftest import REPO

POOLS = {"aws": "aws_s3", "gcp": "gcp_bigquery", "azure": "azure_blob", "oci": "oci_objectstorage"}
CLOUD_TASKS = {"org.wait_for_export", "org.land_raw", "org.recheck_window"}  # the tasks that call the provider


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO / "dags"))


def test_each_cloud_has_its_pool_in_config() -> None:
    assert {provider: load_billing_config(provider).pool.name for provider in PROVIDERS} == POOLS


def test_billing_tasks_that_call_the_cloud_use_their_pool(dagbag: DagBag) -> None:
    assert not dagbag.import_errors
    for provider, pool in POOLS.items():
        dag = dagbag.dags[f"cloud_{provider}_cost_billing"]
        pools = {task.task_id: task.pool for task in dag.tasks}
        assert {task_id for task_id, name in pools.items() if name == pool} == CLOUD_TASKS, pools
        assert {name for task_id, name in pools.items() if task_id not in CLOUD_TASKS} == {"default_pool"}
    assert {task.pool for task in dagbag.dags["cost_rollups"].tasks} == {"default_pool"}, "warehouse only"


def test_pool_file_matches_config(tmp_path: Path) -> None:
    """``cloudcost airflow-pools --out FILE`` writes what ``airflow pools import FILE`` takes."""
    out = tmp_path / "pools.json"
    assert main(["airflow-pools", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written == airflow_pools()
    for provider, name in POOLS.items():
        pool = load_billing_config(provider).pool
        assert written[name] == {"slots": pool.slots, "description": pool.description, "include_deferred": False}
    assert set(written) == set(POOLS.values())


def test_a_bad_pool_block_names_file_and_key(config_dir: Path) -> None:
    billing = config_dir / "cloud" / "gcp" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["pool"]["slots"] = 0
    billing.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"billing\.yml: key 'pool\.slots'"):
        load_billing_config("gcp")


def test_two_clouds_cannot_share_a_pool(config_dir: Path) -> None:
    billing = config_dir / "cloud" / "oci" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["pool"]["name"] = "aws_s3"
    billing.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match="aws_s3"):
        airflow_pools()
