"""The deployment's metadata database and executor, outside Docker: Postgres + Celery workers on Redis.

One private PostgreSQL cluster (Debian's server binaries, ``make postgres``; initdb in a temporary
directory, 127.0.0.1 on a free port, password auth), one private Redis (Debian's ``redis-server``, ``make
redis``; no persistence, its own process group) and one Airflow home written by ``cloudcost airflow-config
--executor celery`` on them, with the scheduler, dag-processor, api-server and two Celery workers (each its
own Celery hostname and log-server port) running, are shared by every test here (starting them is most of
the cost). The provider API pools are imported from the billing.yml files, as the compose init service does.
The orgs are an estate of two (``cloudcost demo estate --orgs 2``: org001 and org002, each its own figures).

An external system then does what the README's "Trigger from another system" shows, for two orgs and two
billing days: it gets a JWT from ``POST /auth/token`` as a user of role ``user`` and starts, per provider, org
and day, ``POST /api/v2/dags/cloud_<provider>_cost_billing/dagRuns``: for the first org with the billing day as
logical date and ``{"org_slug": …}`` as conf; for the second, whose run cannot have the same logical date (one
run per DAG and logical date), with ``"logical_date": null`` and the day as ``billing_day``. Once they have
succeeded, ``cost_rollups`` for each day (every org). The Celery workers run the tasks; the warehouse must then
hold exactly those days for every org and provider, loaded by those runs, equal to the generator's figures,
reconciled and rolled up; every task must have succeeded at its first try, and both workers must have run some.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.airflow.local_home import FIRST_LOG_SERVER_PORT, CelerySettings, write_airflow_config
from cloudcost.config import PROVIDERS, load_billing_config
from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.demo.estate import seed_of
from tests.airflow.airflow_stack import (
    AirflowStack,
    ApiClient,
    PostgresCluster,
    Redis,
    free_port,
    postgres_bindir,
    stack_env,
    start_celery_workers,
    start_redis,
)
from tests.conftest import REPO

pytestmark = pytest.mark.airflow

ORGS = ("org001", "org002")  # cloudcost demo estate --orgs 2
SEEDS = dict(zip(ORGS, (seed_of(1), seed_of(2)), strict=True))
DAYS = (date(2026, 11, 2), date(2026, 11, 3))
LOGICAL_DATE = f"{DAYS[0].isoformat()}T00:00:00Z"
BILLING_DAGS = {provider: f"cloud_{provider}_cost_billing" for provider in PROVIDERS}
ROLLUPS = "cost_rollups"
DAG_IDS = [*BILLING_DAGS.values(), ROLLUPS]
WORKERS = ("worker-1", "worker-2")
TRIGGER_USER = "pipeline-trigger"  # role "user": may trigger and unpause DAGs, nothing else
RUN_TIMEOUT = 600  # seconds for the billing runs, then for cost_rollups
GENERATORS = {"aws": aws_cur2, "azure": azure_cost_details, "gcp": gcp_detailed, "oci": oci_cost_reports}
RunKey = tuple[str, str, date]  # dag_id, org, billing day


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
    """A copy of configs/ without its org files (the estate brings its own) where a failing task fails at once
    and the gates poke every 30 s.

    Not shorter: Airflow 3.3 can fail a reschedule-mode sensor whose previous poke's executor event arrives
    after the next poke was queued (apache/airflow#71172); on a loaded machine that lag reached 7 s.
    """
    shutil.copytree(REPO / "configs", path, ignore=shutil.ignore_patterns("orgs"))
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
        redis = start_redis(root)
        port = free_port()
        # 3 slots per worker, parallelism = all 6: the night benchmark's knee on a 2-core host (BENCHMARKS.md)
        celery = CelerySettings(redis.url, f"db+{cluster.sql_alchemy_conn}", worker_concurrency=3)
        write_airflow_config(
            home, sql_alchemy_conn=cluster.sql_alchemy_conn, api_port=port, celery=celery, parallelism=2 * 3
        )
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
        # org files, credentials, budgets and exports of both orgs; the day after the last too, as the demo has it
        last = str(DAYS[-1] + timedelta(1))
        stack.cloudcost("demo", "estate", "--orgs", str(len(ORGS)), "--from", DAYS[0].isoformat(), "--to", last)
        stack.prepare()  # airflow db migrate on Postgres, then the pools from billing.yml
        stack.start_components()
        # log-server ports off the default, away from a developer's own
        start_celery_workers(stack, list(WORKERS), FIRST_LOG_SERVER_PORT + 100)
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


def trigger(client: ApiClient, dag_id: str, org: str | None, day: date, by_logical_date: bool) -> dict:
    """The README's external trigger of one org (``None``: every org) and billing day: the day as logical date,
    or (a second org's run of the same day) ``"logical_date": null`` and the day as ``billing_day``."""
    conf: dict[str, str] = {} if org is None else {"org_slug": org}
    if by_logical_date:
        body = {"logical_date": f"{day.isoformat()}T00:00:00Z", "conf": conf}
    else:
        body = {"logical_date": None, "conf": conf | {"billing_day": day.isoformat()}}
    return client.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)


@pytest.fixture(scope="module")
def runs(deployment: Deployment) -> dict[RunKey, dict]:
    """The four billing DAGs unpaused and triggered for each org and day (16 runs at once); once they have
    succeeded, cost_rollups for each day and every org (its gate then passes at the first poke)."""
    client = deployment.client()
    triggered: dict[RunKey, dict] = {}

    def finish(keys: list[RunKey]) -> None:
        def finished() -> dict[RunKey, dict] | None:
            now = {
                key: client.call("GET", f"/api/v2/dags/{key[0]}/dagRuns/{triggered[key]['dag_run_id']}") for key in keys
            }
            return now if all(run["state"] in ("success", "failed") for run in now.values()) else None

        done = deployment.stack.wait_for(f"{len(keys)} runs to finish", finished, RUN_TIMEOUT, interval=3)
        assert {key: run["state"] for key, run in done.items()} == dict.fromkeys(keys, "success")

    try:
        for dag_id in DAG_IDS:
            client.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})  # new DAGs start paused
        billing = [(dag_id, org, day) for dag_id in BILLING_DAGS.values() for org in ORGS for day in DAYS]
        for dag_id, org, day in billing:
            triggered[(dag_id, org, day)] = trigger(client, dag_id, org, day, by_logical_date=org == ORGS[0])
        finish(billing)
        rollups = [(ROLLUPS, "*", day) for day in DAYS]
        for key in rollups:
            triggered[key] = trigger(client, ROLLUPS, None, key[2], by_logical_date=True)
        finish(rollups)
    except BaseException:
        print(deployment.stack.diagnostics(DAG_IDS))
        raise
    return triggered


def expected_billed(provider: str, org: str, day: date) -> Decimal:
    """The generator's own BilledCost of ``org``'s ``provider`` on ``day`` (all its billing accounts)."""
    figures = GENERATORS[provider].expected_billed_cost(list(DAYS), seed=SEEDS[org])
    return sum((cost for (_, d), cost in figures.items() if d == day), Decimal(0))


def test_metadata_on_postgres_and_tasks_on_two_celery_workers(deployment: Deployment, runs: dict) -> None:
    stack = deployment.stack
    assert stack.cli("config", "get-value", "core", "executor").stdout.strip() == "CeleryExecutor"
    # read from Postgres: the scheduler that ran the tasks keeps its job row and the task instances there
    assert stack.metadata("select state from job where job_type = 'SchedulerJob'") == [("running",)]
    by_group = stack.metadata(
        "select substr(task_id, 1, 8) = 'restate.', state, try_number, count(*) from task_instance "
        "where dag_id in (?, ?, ?, ?, ?) group by 1, 2, 3",
        tuple(DAG_IDS),
    )
    tries = sorted((state, try_number) for restate, state, try_number, _ in by_group if not restate)
    assert tries == [("success", 1)], f"every task succeeded at its first try: {by_group}"
    # nothing was restated (each day loaded once): the restate group's mapped tasks are skipped, never run
    restated = sorted((state, try_number) for restate, state, try_number, _ in by_group if restate)
    assert restated == [("skipped", 0)], by_group
    ran = sum(count for restate, _, _, count in by_group if not restate)
    finished = (stack.home / "scheduler.log").read_text()
    assert "TaskInstance Finished: dag_id=cost_rollups" in finished and "executor=CeleryExecutor(" in finished
    received = {worker: (stack.home / f"{worker}.log").read_text().count("] received") for worker in WORKERS}
    assert all(received.values()), f"tasks ran on both workers: {received}"
    assert sum(received.values()) == ran, (received, by_group)


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
    a second request for the same day is refused (409: re-running a day is a clear), even for another org, as
    is an unknown org. The other org's run of that day names it as billing_day instead."""
    day = DAYS[0]
    run = runs[(BILLING_DAGS["aws"], ORGS[0], day)]
    assert run["conf"] == {"org_slug": ORGS[0]}
    assert run["run_type"] == "manual"
    keys = ("logical_date", "data_interval_start", "data_interval_end")
    start, end = f"{day}T00:00:00+00:00", f"{day + timedelta(1)}T00:00:00+00:00"
    assert [datetime.fromisoformat(run[key].replace("Z", "+00:00")).isoformat() for key in keys] == [start, start, end]
    other = runs[(BILLING_DAGS["aws"], ORGS[1], day)]
    assert other["conf"] == {"org_slug": ORGS[1], "billing_day": day.isoformat()}
    assert other["logical_date"] is None

    client = deployment.client()
    for org in ORGS:
        status, body = client.request(
            "POST", "/api/v2/dags/cloud_aws_cost_billing/dagRuns",
            {"logical_date": LOGICAL_DATE, "conf": {"org_slug": org}}, auth=True,
        )  # fmt: skip
        assert status == 409, body
    status, body = client.request(
        "POST", "/api/v2/dags/cloud_aws_cost_billing/dagRuns",
        {"logical_date": f"{day - timedelta(1)}T00:00:00Z", "conf": {"org_slug": "no-such-org"}}, auth=True,
    )  # fmt: skip
    assert status == 400, body

    for org in ORGS:
        org_runs = [runs[(BILLING_DAGS["aws"], org, d)]["dag_run_id"] for d in DAYS]
        with _warehouse(deployment, f"{org}_prod") as warehouse:
            (landed_by,) = warehouse.execute(
                f"select list(distinct x_run_id) from {org}_prod.cloud_aws_billing_raw_daily"
            ).fetchone()
            converted = warehouse.execute(
                f"select x_ingestion_date, list(distinct x_run_id) from {org}_prod.cost_data_standard_1_3 "
                "where x_cloud_provider = 'aws' group by 1 order by 1"
            ).fetchall()
        assert len(landed_by) == 1 and landed_by[0] in org_runs, f"{org}: one of its runs landed the month's delivery"
        # FOCUS rows carry the run that landed them: the month's delivery, landed once, for both days
        assert converted == [(d, landed_by) for d in DAYS], f"{org}: both days converted from that one landing"


def test_every_org_provider_and_day_through_the_rollups(deployment: Deployment, runs: dict) -> None:
    """Each (org, provider, day) is landed by one of the org's runs of that provider, converted and recorded as
    succeeded by its own day's run, equal to the generator's figures, reconciled; each org's rollups of both
    days add up to its FOCUS table."""
    for org in ORGS:
        dataset = f"{org}_prod"
        with _warehouse(deployment, dataset) as warehouse:
            states = {
                (provider, day): (status, run_id, billed)
                for provider, day, status, run_id, billed in warehouse.execute(
                    f"select provider, billing_day, status, run_id, billed_cost from {dataset}.load_state"
                ).fetchall()
            }
            focus = {
                (provider, day): (run_ids, rows, billed)
                for provider, day, run_ids, rows, billed in warehouse.execute(
                    "select x_cloud_provider, x_ingestion_date, list(distinct x_run_id), count(*), sum(BilledCost) "
                    f"from {dataset}.cost_data_standard_1_3 group by 1, 2"
                ).fetchall()
            }
            (rollup_days,) = warehouse.execute(
                f"select list(distinct charge_day order by charge_day) from {dataset}.daily_cost_by_team"
            ).fetchone()
            rollup_effective = dict(
                warehouse.execute(
                    f"select billing_currency, sum(effective_cost) from {dataset}.daily_cost_by_team group by 1"
                ).fetchall()
            )
            focus_effective = dict(
                warehouse.execute(
                    f"select BillingCurrency, sum(EffectiveCost) from {dataset}.cost_data_standard_1_3 group by 1"
                ).fetchall()
            )
            evaluated = warehouse.execute(f"select count(*) from {dataset}.budget_status").fetchone()[0]

        wanted = sorted((provider, day) for provider in PROVIDERS for day in DAYS)
        assert sorted(states) == sorted(focus) == wanted, f"{org}: exactly its two days of every provider"
        for provider, dag_id in BILLING_DAGS.items():
            for day in DAYS:
                run_id = runs[(dag_id, org, day)]["dag_run_id"]
                expected = expected_billed(provider, org, day)
                landed_by, rows, billed = focus[(provider, day)]  # FOCUS rows carry the run that landed them
                org_runs = {runs[(dag_id, org, d)]["dag_run_id"] for d in DAYS}
                assert len(landed_by) == 1 and landed_by[0] in org_runs, f"{org}/{provider} {day}: {landed_by}"
                assert billed == expected, f"{org}/{provider} {day}: FOCUS BilledCost is the generator's"
                assert rows > 0
                assert states[(provider, day)] == ("succeeded", run_id, expected), f"{org}/{provider} {day}"
        assert rollup_days == list(DAYS)
        assert rollup_effective == focus_effective, f"{org}: the rollup sums FOCUS to the cent, per currency"
        assert evaluated > 0, f"cost_rollups evaluated {org}'s budgets"
    assert expected_billed("aws", ORGS[0], DAYS[0]) != expected_billed("aws", ORGS[1], DAYS[0]), "orgs differ"


@contextlib.contextmanager
def _warehouse(deployment: Deployment, dataset: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The org dataset's DuckDB file, read-only (every run has finished)."""
    connection = duckdb.connect(str(deployment.data_dir / "warehouse" / dataset / "warehouse.duckdb"), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()
