"""A night with many orgs: N orgs × 4 providers × 1 billing day through real Airflow, and what it costs.

``python bench/night.py [--orgs 1 10 50] [--executor local celery] [--workers 2] [--max-minutes 25]`` runs, per
executor and N (and per worker count, for Celery), one night on a fresh stack: an estate of N orgs
(``cloudcost demo estate``, in a scratch config and data dir), a private Postgres (and Redis for Celery), the
scheduler, dag-processor, api-server (and the Celery workers, ``--concurrency`` task slots each) from
``tests/airflow/airflow_stack.py``. It triggers the four billing DAGs for the day and every org (one run each,
as the nightly schedule does: conf ``{}``), then ``cost_rollups``, and reports:

- wall time from the first trigger to the end of cost_rollups, and task instances per minute over it;
- scheduler delay per task instance (queued → running, Airflow's ``queued_dttm`` → ``start_date``) p50/p90/max;
- the warehouse turns (``warehouse/turns.py``): wait p50/p90/max against hold p50/max and total, and how many
  sessions waited longer than the holds ahead of them + 1 s. The turns are watched from outside: a thread
  lists the queue folder every 5 ms (a ticket appears: arrival; becomes the lowest: entered; vanishes: left),
  so the pipeline's code is measured as it is; a session shorter than one look may go unseen (counted);
- the machine load (``uptime``) before and after: other work on the shared machine is in every figure;
- a check, per org and provider: the day ``succeeded`` in load_state with the generator's BilledCost (exact).

A run whose projected time (from the previous N) exceeds ``--max-minutes`` is skipped and the projection said.
Writes ``bench/results/night-<UTC time>.json`` and prints one Markdown table row per night.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))  # tests.airflow.airflow_stack: the stack helpers the suite uses

from cloudcost.airflow.local_home import FIRST_LOG_SERVER_PORT, CelerySettings, write_airflow_config  # noqa: E402
from cloudcost.config import PROVIDERS  # noqa: E402
from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports  # noqa: E402
from cloudcost.demo.estate import estate_slugs, seed_of  # noqa: E402
from cloudcost.paths import dataset_file  # noqa: E402
from tests.airflow.airflow_stack import (  # noqa: E402
    VENV_BIN,
    AirflowStack,
    ApiClient,
    PostgresCluster,
    free_port,
    postgres_bindir,
    stack_env,
    start_celery_workers,
    start_redis,
)

DAY = date(2026, 11, 2)
BILLING_DAGS = [f"cloud_{provider}_cost_billing" for provider in PROVIDERS]
ROLLUPS = "cost_rollups"
GENERATORS = {"aws": aws_cur2, "azure": azure_cost_details, "gcp": gcp_detailed, "oci": oci_cost_reports}
LOOK_SECONDS = 0.005


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def load_average() -> float:
    return os.getloadavg()[0]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Turn:
    arrived: float
    entered: float | None = None
    left: float | None = None


def _queue_of(key: str) -> str:
    """The queue folder a session's key names (``<file>.turns/<ticket>-<pid>``)."""
    return key.rpartition("/")[0]


class TurnWatcher(threading.Thread):
    """Sessions at the DuckDB files, seen from their turn queue folders: ``location`` is one queue folder
    (``<file>.turns/``) or the warehouse folder, whose per-org files' queues (``<dataset>/warehouse.duckdb.turns/``)
    are found as they appear. A session is keyed ``<queue>/<ticket>``; only sessions of the same queue (the same file)
    are ahead of one another."""

    def __init__(self, location: Path) -> None:
        super().__init__(daemon=True)
        self.location = location
        self.turns: dict[str, Turn] = {}
        self.looks = 0
        self._done = threading.Event()

    def _queues(self) -> list[Path]:
        if self.location.name.endswith(".turns"):
            return [self.location]
        return [queue for queue in self.location.glob("*/*.turns") if queue.is_dir()]  # <dataset>/<file>.turns

    def run(self) -> None:
        while not self._done.is_set():
            now = time.time()
            seen: set[str] = set()
            for queue in self._queues():
                try:
                    present = sorted(entry.name for entry in os.scandir(queue) if entry.name[0].isdigit())
                except FileNotFoundError:
                    present = []
                prefix = queue.name if queue == self.location else queue.relative_to(self.location).as_posix()
                keys = [f"{prefix}/{name}" for name in present]
                for key in keys:
                    self.turns.setdefault(key, Turn(arrived=now))
                if keys and self.turns[keys[0]].entered is None:
                    self.turns[keys[0]].entered = now  # the lowest ticket goes in (dead waiters are rare here)
                seen.update(keys)
            self.looks += 1
            for key, turn in self.turns.items():
                if turn.left is None and key not in seen:
                    turn.left = now
                    turn.entered = turn.entered or now
            time.sleep(LOOK_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def behind_own_org(self, org_of_pid: dict[int, str]) -> dict:
        """How much of the waiting was behind a session of the waiter's own org, and how much behind other orgs'
        (possible only where one file holds several orgs). Sessions are matched to task instances by process id;
        sessions of tasks that are not per org (a night-wide task) count as another org's."""
        done = {n: t for n, t in self.turns.items() if t.left is not None and t.entered is not None}
        orgs = {n: org_of_pid.get(int(n.rpartition("-")[2])) for n in done}
        own = other = 0.0
        for name, t in done.items():
            for other_name, o in done.items():
                overlap = max(0.0, min(o.left, t.entered) - max(o.entered, t.arrived))  # type: ignore[arg-type,type-var]
                if other_name == name or overlap <= 0 or _queue_of(other_name) != _queue_of(name):
                    continue
                if orgs[name] is not None and orgs[name] == orgs[other_name]:
                    own += overlap
                else:
                    other += overlap
        matched = sum(1 for org in orgs.values() if org is not None)
        return {"matched_sessions": matched, "wait_behind_own_org": own, "wait_behind_other_orgs": other}

    def sessions(self, task_of_pid: dict[int, str]) -> list[dict]:
        """Each session: its task (by process id), arrival, wait and hold, for reading where the time goes."""
        return [
            {
                "task": task_of_pid.get(int(name.rpartition("-")[2]), "?"),
                "arrived": t.arrived,
                "wait": t.entered - t.arrived,
                "hold": t.left - t.entered,
            }
            for name, t in sorted(self.turns.items())
            if t.left is not None and t.entered is not None
        ]

    def summary(self) -> dict:
        done_keyed = [(k, t) for k, t in self.turns.items() if t.left is not None and t.entered is not None]
        done = [t for _, t in done_keyed]
        waits = [t.entered - t.arrived for t in done]
        holds = [t.left - t.entered for t in done]
        unfair = 0
        for key, t in done_keyed:  # the time others held t's file while t waited: the turns ahead of it
            ahead = sum(
                max(0.0, min(o.left, t.entered) - max(o.entered, t.arrived))
                for other, o in done_keyed
                if o is not t and _queue_of(other) == _queue_of(key)
            )
            unfair += (t.entered - t.arrived) > ahead + 1.0
        return {
            "sessions": len(done),
            "wait_p50": statistics.median(waits) if waits else 0.0,
            "wait_p90": percentile(waits, 0.9),
            "wait_max": max(waits, default=0.0),
            "wait_total": sum(waits),
            "hold_p50": statistics.median(holds) if holds else 0.0,
            "hold_max": max(holds, default=0.0),
            "hold_total": sum(holds),
            "over_holds_ahead_plus_1s": unfair,
        }


@dataclass
class Night:
    executor: str
    orgs: int
    workers: int
    slots: int
    wall_seconds: float = 0.0
    task_instances: int = 0
    per_minute: float = 0.0
    delay_p50: float = 0.0
    delay_p90: float = 0.0
    delay_max: float = 0.0
    retried: int = 0
    not_success: int = 0
    skipped: int = 0
    per_worker: dict[str, int] = field(default_factory=dict)
    turns: dict = field(default_factory=dict)
    sessions: list[dict] = field(default_factory=list)
    reconciled: str = ""
    estate_seconds: float = 0.0
    start_seconds: float = 0.0
    uptime_before: str = ""
    uptime_after: str = ""

    def row(self) -> str:
        t = self.turns
        executor = "Local" if self.executor == "local" else f"Celery × {self.workers}"
        load = f"{self.uptime_before.split('load average: ')[-1]} → {self.uptime_after.split('load average: ')[-1]}"
        return (
            f"| {executor} ({self.slots} slots) | {self.orgs} | {self.task_instances} | {self.wall_seconds:.0f} s | "
            f"{self.per_minute:.1f} | {self.delay_p50:.1f} / {self.delay_p90:.1f} / {self.delay_max:.1f} s | "
            f"{t.get('wait_p50', 0):.2f} / {t.get('wait_p90', 0):.2f} / {t.get('wait_max', 0):.1f} s | "
            f"{t.get('hold_p50', 0):.2f} / {t.get('hold_max', 0):.1f} s ({t.get('sessions', 0)}, "
            f"total wait {t.get('wait_total', 0):.0f} s / hold {t.get('hold_total', 0):.0f} s) | "
            f"{t.get('over_holds_ahead_plus_1s', 0)} | {self.retried} | {self.reconciled} | {load} |"
        )


HEADER = (
    "| executor | orgs | task instances | wall | TIs/min | scheduler delay p50/p90/max | lock wait p50/p90/max | "
    "hold p50/max (sessions, totals) | waits > holds ahead + 1 s | retried | reconciled | load 1-min before → after |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _parse_time(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def write_estate(env: dict[str, str], orgs: int) -> None:
    subprocess.run(
        [str(VENV_BIN / "cloudcost"), "demo", "estate", "--orgs", str(orgs), "--from", str(DAY),
         "--to", str(DAY + timedelta(1))],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip


def wait_for_runs(stack: AirflowStack, client: ApiClient, runs: dict[str, str], timeout: float) -> None:
    def finished() -> bool:
        states = {}
        for dag_id, run_id in runs.items():
            status, run = client.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            states[dag_id] = run["state"] if status == 200 else "unknown"
        if any(state == "failed" for state in states.values()):
            raise RuntimeError(f"a run failed: {states}\n{stack.diagnostics(list(runs))}")
        return all(state == "success" for state in states.values())

    stack.wait_for(f"runs {sorted(runs)}", finished, timeout, interval=2)


def trigger(client: ApiClient, dag_id: str) -> str:
    status, run = client.request(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": f"{DAY}T00:00:00Z", "conf": {}}
    )
    assert status == 200, (dag_id, status, run)
    return run["dag_run_id"]


def reconcile(data_dir: Path, orgs: int) -> str:
    """Per org and provider: the day succeeded in load_state with the generator's own BilledCost."""
    import duckdb

    ok, total = 0, 0
    for index, slug in enumerate(estate_slugs(orgs), start=1):
        connection = duckdb.connect(str(dataset_file(data_dir / "warehouse", f"{slug}_prod")), read_only=True)
        try:
            states = dict(
                (provider, (status, billed))
                for provider, status, billed in connection.execute(
                    f"select provider, status, billed_cost from {slug}_prod.load_state where billing_day = ?", [DAY]
                ).fetchall()
            )
        finally:
            connection.close()
        for provider, generator in GENERATORS.items():
            figures = generator.expected_billed_cost([DAY, DAY + timedelta(1)], seed=seed_of(index))
            expected = sum((c for (_, d), c in figures.items() if d == DAY), Decimal(0))
            total += 1
            ok += states.get(provider) == ("succeeded", expected)
    return f"{ok}/{total}"


def run_night(executor: str, orgs: int, workers: int, concurrency: int, timeout: float) -> Night:
    root = Path(tempfile.mkdtemp(prefix=f"night-{executor}-{orgs}-"))
    config_dir, data_dir, home = root / "configs", root / "data", root / "airflow"
    data_dir.mkdir()
    slots = workers * concurrency if executor == "celery" else 4
    night = Night(executor, orgs, workers if executor == "celery" else 0, slots)
    cluster = PostgresCluster.start(postgres_bindir())
    redis = None
    stack: AirflowStack | None = None
    watcher = TurnWatcher(data_dir / "warehouse")  # one file, and one queue, per org
    try:
        base_env = {**os.environ, "CLOUDCOST_CONFIG_DIR": str(config_dir), "CLOUDCOST_DATA_DIR": str(data_dir)}
        started = time.time()
        write_estate(base_env, orgs)
        night.estate_seconds = time.time() - started
        port = free_port()
        celery = None
        if executor == "celery":
            redis = start_redis(root)
            celery = CelerySettings(redis.url, f"db+{cluster.sql_alchemy_conn}", worker_concurrency=concurrency)
        write_airflow_config(
            home, sql_alchemy_conn=cluster.sql_alchemy_conn, api_port=port, celery=celery, parallelism=slots
        )
        env = stack_env(home, CLOUDCOST_CONFIG_DIR=str(config_dir), CLOUDCOST_DATA_DIR=str(data_dir))
        stack = AirflowStack(home=home, port=port, env=env, sql_alchemy_conn=cluster.sql_alchemy_conn)
        started = time.time()
        stack.prepare()
        stack.start_components()
        names = [f"worker-{i + 1}" for i in range(workers)] if executor == "celery" else []
        start_celery_workers(stack, names, FIRST_LOG_SERVER_PORT + 200)
        stack.wait_until_ready([*BILLING_DAGS, ROLLUPS])
        night.start_seconds = time.time() - started
        client = ApiClient(f"http://127.0.0.1:{port}", "admin", "")  # the local home: everyone is admin
        for dag_id in [*BILLING_DAGS, ROLLUPS]:
            client.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        night.uptime_before = uptime()
        watcher.start()
        started = time.time()
        wait_for_runs(stack, client, {dag_id: trigger(client, dag_id) for dag_id in BILLING_DAGS}, timeout)
        wait_for_runs(stack, client, {ROLLUPS: trigger(client, ROLLUPS)}, timeout)
        night.wall_seconds = time.time() - started
        night.uptime_after = uptime()
        watcher.stop()
        night.turns = watcher.summary()
        rows = stack.metadata("select state, try_number, queued_dttm, start_date from task_instance")
        night.task_instances = len(rows)
        night.per_minute = len(rows) / (night.wall_seconds / 60)
        delays = [_parse_time(start) - _parse_time(queued) for _, _, queued, start in rows if queued and start]
        night.delay_p50, night.delay_p90 = statistics.median(delays), percentile(delays, 0.9)
        night.delay_max = max(delays)
        night.retried = sum(1 for _, tries, _, _ in rows if tries > 1)
        # a restate group with nothing to restate is skipped (never ran): not a failure
        night.not_success = sum(1 for state, _, _, _ in rows if state not in ("success", "skipped"))
        night.skipped = sum(1 for state, _, _, _ in rows if state == "skipped")
        night.per_worker = {n: (home / f"{n}.log").read_text().count("] received") for n in names}
        slugs = estate_slugs(orgs)  # every per-org task is mapped over the orgs in this order
        instances = stack.metadata("select pid, dag_id, task_id, map_index from task_instance where pid is not null")
        org_of_pid = {int(pid): slugs[index] for pid, _, _, index in instances if 0 <= index < len(slugs)}
        night.turns.update(watcher.behind_own_org(org_of_pid))
        task_of_pid = {int(pid): f"{dag_id}.{task_id}" for pid, dag_id, task_id, _ in instances}
        night.sessions = watcher.sessions(task_of_pid)
        night.reconciled = reconcile(data_dir, orgs)
        return night
    finally:  # each step in its own try: a failing one must not leave Airflow, Redis or Postgres running
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, root, ignore_errors=True)
            cleanup.callback(cluster.stop)
            if redis is not None:
                cleanup.callback(redis.stop)
            if stack is not None:
                cleanup.callback(stack.stop)
            if watcher.is_alive():
                cleanup.callback(watcher.stop)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--executor", nargs="+", choices=["local", "celery"], default=["local", "celery"])
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="Celery workers (one night each)")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    parser.add_argument("--max-minutes", type=float, default=25, help="skip a night projected to take longer")
    args = parser.parse_args()
    nights: list[Night] = []
    skipped: list[str] = []
    print(HEADER, flush=True)
    for executor in args.executor:
        for workers in args.workers if executor == "celery" else [0]:
            previous: Night | None = None
            for orgs in sorted(args.orgs):
                if previous is not None:
                    projected = previous.wall_seconds / previous.orgs * orgs / 60
                    if projected > args.max_minutes:
                        skipped.append(
                            f"{executor} × {workers or ''} {orgs} orgs: projected {projected:.0f} min from "
                            f"{previous.orgs} orgs ({previous.wall_seconds:.0f} s), over {args.max_minutes:.0f}"
                        )
                        print(f"skipped: {skipped[-1]}", flush=True)
                        continue
                night = run_night(executor, orgs, workers, args.concurrency, timeout=args.max_minutes * 120)
                nights.append(night)
                previous = night
                print(night.row(), flush=True)
                print(f"  per worker {night.per_worker}; not success {night.not_success}; skipped (never ran) "
                      f"{night.skipped}; estate {night.estate_seconds:.0f} s, stack start {night.start_seconds:.0f} s",
                      flush=True)  # fmt: skip
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    out = results / f"night-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps({"nights": [asdict(n) for n in nights], "skipped": skipped}, indent=1))
    print(f"wrote {out}")
    return 0 if all(n.not_success == 0 and n.reconciled.split("/")[0] == n.reconciled.split("/")[1]
                    for n in nights) else 1  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
