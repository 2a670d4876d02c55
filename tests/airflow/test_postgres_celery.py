"""The deployment's metadata database and executor, outside Docker: Postgres + Celery workers on Redis.

One private PostgreSQL cluster (Debian's server binaries, ``make postgres``; initdb in a temporary
directory, 127.0.0.1 on a free port, password auth), one private Redis (Debian's ``redis-server``, ``make
redis``; no persistence, its own process group) and one Airflow home written by ``cloudcost airflow-config
--executor celery`` on them, with the scheduler, dag-processor, api-server and two Celery workers (each its
own Celery hostname and log-server port) running, are shared by every test here (starting them is most of
the cost). The provider API pools are imported from the billing.yml files, as the compose init service does.

An external system then does what the README's "Trigger from another system" shows: it gets a JWT from
``POST /auth/token`` as a user of role ``user`` and starts, per provider, ``POST
/api/v2/dags/cloud_<provider>_cost_billing/dagRuns`` with the billing day as logical date and
``{"org_slug": "demo"}`` as conf, then, once they have succeeded, ``cost_rollups`` for the same day. The
Celery workers run the tasks; the warehouse must then hold exactly that day for every provider, loaded by
those runs, reconciled, and rolled up, every task must have succeeded at its first try, and both workers
must have run some.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.airflow.local_home import FIRST_LOG_SERVER_PORT, CelerySettings, write_airflow_config
from cloudcost.config import PROVIDERS, load_billing_config
from cloudcost.demo.aws_cur2 import expected_billed_cost
from tests.airflow.airflow_stack import (
    AirflowStack,
    ApiClient,
    PostgresCluster,
    free_port,
    postgres_bindir,
    stack_env,
)
from tests.conftest import REPO

pytestmark = pytest.mark.airflow

ORG = "demo"
DAY = date(2026, 11, 2)
LOGICAL_DATE = f"{DAY.isoformat()}T00:00:00Z"
BILLING_DAGS = {provider: f"cloud_{provider}_cost_billing" for provider in PROVIDERS}
ROLLUPS = "cost_rollups"
DAG_IDS = [*BILLING_DAGS.values(), ROLLUPS]
WORKERS = ("worker-1", "worker-2")
TRIGGER_USER = "pipeline-trigger"  # role "user": may trigger and unpause DAGs, nothing else
RUN_TIMEOUT = 600  # seconds for the billing runs, then for cost_rollups


@dataclass
class Deployment:
    cluster: PostgresCluster
    stack: AirflowStack
    config_dir: Path
    data_dir: Path
    passwords: dict[str, str]

    def client(self, user: str = TRIGGER_USER, password: str | None = None) -> ApiClient:
        secret = self.passwords[user] if password is None else password
        return ApiClient(f"http://127.0.0.1:{self.stack.port}", user, secret)


def _test_configs(path: Path) -> Path:
    """A copy of configs/ where a failing task fails at once and the gates poke every 30 s.

    Not shorter: Airflow 3.3 can fail a reschedule-mode sensor whose previous poke's executor event arrives
    after the next poke was queued (apache/airflow#71172); on a loaded machine that lag reached 7 s.
    """
    shutil.copytree(REPO / "configs", path)
    for name in [f"cloud/{p}/cost/billing.yml" for p in PROVIDERS] + ["rollups.yml"]:
        file = path / name
        config = yaml.safe_load(file.read_text())
        config["dag"]["retries"] = 0
        config["completeness" if "completeness" in config else "gate"]["poke_interval_seconds"] = 30
        file.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("no PostgreSQL server binaries (initdb): `make postgres` installs Debian's postgresql")
    root = tmp_path_factory.mktemp("postgres-deployment")
    config_dir = _test_configs(root / "configs")
    data_dir = root / "data"
    data_dir.mkdir()
    home = root / "airflow"
    passwords = {"admin": secrets.token_urlsafe(16), TRIGGER_USER: secrets.token_urlsafe(16)}

    cluster = PostgresCluster.start(bindir)
    redis: Redis | None = None
    stack: AirflowStack | None = None
    try:
        redis = _start_redis(root)
        port = free_port()
        celery = CelerySettings(redis.url, f"db+{cluster.sql_alchemy_conn}", worker_concurrency=2)
        write_airflow_config(home, sql_alchemy_conn=cluster.sql_alchemy_conn, api_port=port, celery=celery)
        password_file = home / "passwords.json"
        password_file.write_text(json.dumps(passwords))
        os.chmod(password_file, 0o600)
        env = stack_env(
            home,
            CLOUDCOST_CONFIG_DIR=str(config_dir),
            CLOUDCOST_DATA_DIR=str(data_dir),
            # real logins, as docker-compose.yaml configures them (the local home lets everyone in as admin)
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"admin:admin,{TRIGGER_USER}:user",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(password_file),
        )
        stack = AirflowStack(home=home, port=port, env=env, sql_alchemy_conn=cluster.sql_alchemy_conn)
        stack.cloudcost("demo", "credentials", "--org", ORG)
        # the day after DAY too: a demo export planted as incomplete is always the last generated day
        stack.cloudcost("demo", "generate", "--org", ORG, "--from", DAY.isoformat(), "--to", str(DAY + timedelta(1)))
        stack.prepare()  # airflow db migrate on Postgres, then the pools from billing.yml
        stack.start_components()
        for i, worker in enumerate(WORKERS):  # as `cloudcost airflow-config --executor celery` prints them
            log_port = str(FIRST_LOG_SERVER_PORT + 100 + i)  # off the default, away from a developer's own
            stack.start(
                worker,
                ["celery", "worker", "--celery-hostname", f"{worker}@%h"],
                {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": log_port},
            )
        stack.wait_until_ready(DAG_IDS)
        yield Deployment(cluster, stack, config_dir, data_dir, passwords)
    except BaseException:
        if stack is not None:
            print(stack.diagnostics(DAG_IDS))
        print("----- postgres.log -----\n" + cluster.log_tail())
        raise
    finally:
        if stack is not None:
            stack.stop()
        if redis is not None:
            redis.stop()
        cluster.stop()


@dataclass
class Redis:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def _start_redis(root: Path) -> Redis:
    """Debian's redis-server on a free port of 127.0.0.1, nothing saved to disk, in its own process group."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("no redis-server: `make redis` installs Debian's redis-server")
    port = free_port()
    log = (root / "redis.log").open("wb")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(root)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return Redis(process, port)
        assert process.poll() is None and time.monotonic() < deadline, (root / "redis.log").read_text()
        time.sleep(0.1)


def trigger(client: ApiClient, dag_id: str, org: str, day: date) -> dict:
    """The README's external trigger: one org, one billing day (= the run's logical date)."""
    return client.call(
        "POST",
        f"/api/v2/dags/{dag_id}/dagRuns",
        {"logical_date": f"{day.isoformat()}T00:00:00Z", "conf": {"org_slug": org}},
    )


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> dict[str, dict]:
    """The four billing DAGs unpaused and triggered for DAY and the demo org; once they have succeeded,
    cost_rollups for the same day (its gate then passes at the first poke)."""
    client = deployment.client()
    triggered: dict[str, dict] = {}

    def finish(dag_ids: list[str]) -> None:
        def finished() -> dict[str, dict] | None:
            now = {
                dag_id: client.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{triggered[dag_id]['dag_run_id']}")
                for dag_id in dag_ids
            }
            return now if all(run["state"] in ("success", "failed") for run in now.values()) else None

        done = deployment.stack.wait_for(f"the runs of {dag_ids} to finish", finished, RUN_TIMEOUT, interval=3)
        assert {dag_id: run["state"] for dag_id, run in done.items()} == dict.fromkeys(dag_ids, "success")

    try:
        for group in (list(BILLING_DAGS.values()), [ROLLUPS]):
            for dag_id in group:
                client.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})  # new DAGs start paused
                triggered[dag_id] = trigger(client, dag_id, ORG, DAY)
            finish(group)
    except BaseException:
        print(deployment.stack.diagnostics(DAG_IDS))
        raise
    return triggered


def test_metadata_on_postgres_and_tasks_on_two_celery_workers(deployment: Deployment, runs: dict) -> None:
    stack = deployment.stack
    assert stack.cli("config", "get-value", "core", "executor").stdout.strip() == "CeleryExecutor"
    # read from Postgres: the scheduler that ran the tasks keeps its job row and the task instances there
    assert stack.metadata("select state from job where job_type = 'SchedulerJob'") == [("running",)]
    tries = stack.metadata(
        "select distinct state, try_number from task_instance where dag_id in (?, ?, ?, ?, ?)", tuple(DAG_IDS)
    )
    assert tries == [("success", 1)], f"every task succeeded at its first try: {tries}"
    finished = (stack.home / "scheduler.log").read_text()
    assert "TaskInstance Finished: dag_id=cost_rollups" in finished and "executor=CeleryExecutor(" in finished
    received = {worker: (stack.home / f"{worker}.log").read_text().count("] received") for worker in WORKERS}
    assert all(received.values()), f"tasks ran on both workers: {received}"
    task_instances = stack.metadata(
        "select count(*) from task_instance where dag_id in (?, ?, ?, ?, ?)", tuple(DAG_IDS)
    )
    assert sum(received.values()) == task_instances[0][0], (received, task_instances)


def test_pools_come_from_billing_yml(deployment: Deployment) -> None:
    """``cloudcost airflow-pools`` + ``airflow pools import`` created each provider's pool with its size,
    and the deployed DAGs put every task that calls the cloud in it."""
    client = deployment.client("admin")
    pools = {pool["name"]: pool for pool in client.call("GET", "/api/v2/pools")["pools"]}
    for provider, dag_id in BILLING_DAGS.items():
        wanted = load_billing_config(provider, deployment.config_dir).pool
        assert (pools[wanted.name]["slots"], pools[wanted.name]["description"]) == (wanted.slots, wanted.description)
        tasks = {task["task_id"]: task["pool"] for task in client.call("GET", f"/api/v2/dags/{dag_id}/tasks")["tasks"]}
        in_pool = {task_id for task_id, pool in tasks.items() if pool == wanted.name}
        assert in_pool == {"org.wait_for_export", "org.land_raw", "org.recheck_window"}, tasks


def test_api_refuses_without_valid_credentials(deployment: Deployment) -> None:
    wrong = deployment.client(password="not-the-password")
    status, _ = wrong.request("POST", "/auth/token", {"username": TRIGGER_USER, "password": "not-the-password"})
    assert status == 401
    status, _ = wrong.request(
        "POST", "/api/v2/dags/cloud_aws_cost_billing/dagRuns", {"logical_date": LOGICAL_DATE, "conf": {}}
    )
    assert status == 401, "no token, no run"
    # a trigger user may start runs but not change the deployment
    status, _ = deployment.client().request("PATCH", "/api/v2/pools/aws_s3", {"slots": 1}, auth=True)
    assert status == 403


def test_external_trigger_loads_the_logical_date_for_the_org(deployment: Deployment, runs: dict) -> None:
    """The README's request starts a run for one org whose logical date and data interval are the billing day;
    a second request for the same day is refused (409: re-running a day is a clear), as is an unknown org."""
    run = runs[BILLING_DAGS["aws"]]
    assert run["conf"] == {"org_slug": ORG}
    assert run["run_type"] == "manual"
    keys = ("logical_date", "data_interval_start", "data_interval_end")
    start, end = f"{DAY}T00:00:00+00:00", f"{DAY + timedelta(1)}T00:00:00+00:00"
    assert [datetime.fromisoformat(run[key].replace("Z", "+00:00")).isoformat() for key in keys] == [start, start, end]

    client = deployment.client()
    status, body = client.request(
        "POST", "/api/v2/dags/cloud_aws_cost_billing/dagRuns",
        {"logical_date": LOGICAL_DATE, "conf": {"org_slug": ORG}}, auth=True,
    )  # fmt: skip
    assert status == 409, body
    status, body = client.request(
        "POST", "/api/v2/dags/cloud_aws_cost_billing/dagRuns",
        {"logical_date": f"{DAY - timedelta(1)}T00:00:00Z", "conf": {"org_slug": "no-such-org"}}, auth=True,
    )  # fmt: skip
    assert status == 400, body

    with _warehouse(deployment) as warehouse:
        landed_by = warehouse.execute(
            "select list(distinct x_run_id), sum(line_item_unblended_cost) filter (where ingestion_date = ?) "
            "from demo_prod.cloud_aws_billing_raw_daily",
            [DAY],
        ).fetchall()
        converted = warehouse.execute(
            "select x_ingestion_date, list(distinct x_run_id) from demo_prod.cost_data_standard_1_3 "
            "where x_cloud_provider = 'aws' group by 1"
        ).fetchall()
    assert landed_by[0][0] == [run["dag_run_id"]], "this run landed the delivery (every day it covers)"
    assert converted == [(DAY, [run["dag_run_id"]])], "and converted only DAY"
    assert landed_by[0][1] == sum(cost for (_, d), cost in expected_billed_cost([DAY]).items() if d == DAY)


def test_demo_day_through_every_provider_and_the_rollups(deployment: Deployment, runs: dict) -> None:
    """Each provider's slice of DAY is loaded by its run, reconciled to the cent, recorded as succeeded; the
    rollups of DAY add up to the FOCUS table."""
    with _warehouse(deployment) as warehouse:
        states = {
            provider: (status, run_id, billed)
            for provider, status, run_id, billed in warehouse.execute(
                "select provider, status, run_id, billed_cost from demo_prod.load_state where billing_day = ?", [DAY]
            ).fetchall()
        }
        focus = {
            provider: (days, run_ids, rows, billed, effective)
            for provider, days, run_ids, rows, billed, effective in warehouse.execute(
                "select x_cloud_provider, list(distinct x_ingestion_date), list(distinct x_run_id), count(*), "
                "sum(BilledCost), sum(EffectiveCost) from demo_prod.cost_data_standard_1_3 group by 1"
            ).fetchall()
        }
        (rollup_days,) = warehouse.execute(
            "select list(distinct charge_day) from demo_prod.daily_cost_by_team"
        ).fetchone()
        rollup_effective = dict(
            warehouse.execute(
                "select billing_currency, sum(effective_cost) from demo_prod.daily_cost_by_team group by 1"
            ).fetchall()
        )
        focus_effective = dict(
            warehouse.execute(
                "select BillingCurrency, sum(EffectiveCost) from demo_prod.cost_data_standard_1_3 group by 1"
            ).fetchall()
        )
        evaluated = warehouse.execute("select count(*) from demo_prod.budget_status").fetchone()[0]

    assert sorted(states) == sorted(focus) == sorted(PROVIDERS)
    for provider, dag_id in BILLING_DAGS.items():
        run_id = runs[dag_id]["dag_run_id"]
        days, run_ids, rows, billed, _ = focus[provider]
        assert (days, run_ids) == ([DAY], [run_id]), f"{provider}: FOCUS rows of DAY only, by the triggered run"
        assert rows > 0
        assert states[provider] == ("succeeded", run_id, billed), f"{provider}: load_state agrees with FOCUS"
    assert rollup_days == [DAY]
    assert rollup_effective == focus_effective, "the rollup sums FOCUS to the cent, per currency"
    assert evaluated > 0, "cost_rollups evaluated the demo budget for DAY"


@contextlib.contextmanager
def _warehouse(deployment: Deployment) -> Iterator[duckdb.DuckDBPyConnection]:
    """The test's DuckDB warehouse, read-only (every run has finished)."""
    connection = duckdb.connect(str(deployment.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()
