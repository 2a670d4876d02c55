"""Real Airflow components (and, when wanted, a private PostgreSQL cluster) started by a test.

Shared by the backfill test (SQLite), the Postgres + Celery test and the night benchmark (``bench/night.py``,
which imports this module without pytest). Each component runs in its own
process group, so stopping it also stops every worker or child it started (``airflow standalone`` would
leave children behind). The home's ``airflow.cfg`` comes from ``cloudcost.airflow.local_home``: it carries the
one JWT secret all components must share and the execution API URL on the api-server's port, so the
environment here only adds what a test needs (no time-based runs, no re-parsing).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

VENV_BIN = Path(sys.executable).parent  # the venv's airflow and cloudcost (as tests/conftest.py has it)
START_TIMEOUT = 180  # seconds for api-server, scheduler and dag-processor to be healthy and the DAGs parsed
COMPONENTS = {
    "scheduler": ["scheduler", "--skip-serve-logs"],  # task logs are files in the home; no log server port
    "dag-processor": ["dag-processor"],
    "api-server": ["api-server", "--host", "127.0.0.1", "--workers", "1"],  # --port added by start_components
}


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(home: Path, **extra: str) -> dict[str, str]:
    """The components' environment: this process's (CLOUDCOST_* dirs included) plus the test settings."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        # No time-based runs: unpausing would otherwise also start the latest day's scheduled run (catchup is
        # off), for every org. The tests create their runs themselves (backfill, REST API).
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # The dag-processor parses the DAG files once at start; no re-parse every 30 s during the test (the
        # files do not change), which on a 2-core machine costs CPU and adds writes to the metadata database.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        **extra,
    }
    for name in ("CLOUDCOST_WAREHOUSE", "CLOUDCOST_WAREHOUSE_BACKEND", "CLOUDCOST_KEY_FILE"):
        env.pop(name, None)
    return env


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@dataclass
class AirflowStack:
    """One Airflow installation: its home, environment and the component processes started for it."""

    home: Path
    port: int
    env: dict[str, str]
    sql_alchemy_conn: str | None = None  # None: the home's SQLite file
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)

    def cli(self, *args: str, timeout: int = 300, check: bool = True) -> subprocess.CompletedProcess:
        """``airflow <args>`` in the stack's environment."""
        return self._run(VENV_BIN / "airflow", args, timeout, check)

    def cloudcost(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        """``cloudcost <args>`` in the stack's environment (CLOUDCOST_DATA_DIR / CONFIG_DIR of the test)."""
        return self._run(VENV_BIN / "cloudcost", args, timeout, True)

    def _run(self, program: Path, args: tuple[str, ...], timeout: int, check: bool) -> subprocess.CompletedProcess:
        result = subprocess.run([str(program), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, (
                f"{program.name} {' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def prepare(self) -> None:
        """Migrate the metadata database and import the provider API pools from the billing.yml files
        (without them the scheduler never starts a task of a pool that does not exist)."""
        self.cli("db", "migrate")
        pools = self.home / "pools.json"
        self.cloudcost("airflow-pools", "--out", str(pools))
        self.cli("pools", "import", str(pools))

    def start(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        log = (self.home / f"{name}.log").open("wb")
        self.logs[name] = log
        # own process group: stopping kills the component and every worker or child it started
        self.processes[name] = subprocess.Popen(
            [str(VENV_BIN / "airflow"), *args],
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_components(self) -> None:
        """Scheduler, dag-processor and api-server (on ``self.port``)."""
        for name, args in COMPONENTS.items():
            self.start(name, args + (["--port", str(self.port)] if name == "api-server" else []))

    def stop(self) -> None:
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            _signal_group(process, signal.SIGKILL)  # stragglers of the group, or the leader itself
            process.wait(timeout=30)
        for log in self.logs.values():
            log.close()

    def assert_running(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        assert not dead, f"Airflow component(s) exited: {dead}"

    def metadata(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the metadata database (short, read-only) while the components keep writing to it.

        ``?`` placeholders, as sqlite3 takes them; on Postgres they become psycopg2's ``%s``.
        """
        if self.sql_alchemy_conn is None:
            db = sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        import psycopg2

        connection = psycopg2.connect(self.sql_alchemy_conn.replace("+psycopg2", "", 1))
        try:
            connection.set_session(readonly=True, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall()
        finally:
            connection.close()

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float, interval: float = 2) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.assert_running()
            value = condition()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
            time.sleep(interval)

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5) as resp:
                return json.load(resp)
        except OSError:
            return None

    def wait_until_ready(self, dag_ids: list[str], timeout: float = START_TIMEOUT) -> None:
        """Api-server answering, scheduler and dag-processor healthy, and every one of ``dag_ids`` parsed."""

        def ready() -> bool:
            health = self.health() or {}
            marks = ",".join("?" for _ in dag_ids)
            sql = f"select count(*) from dag where dag_id in ({marks}) and not is_stale"
            parsed = self.metadata(sql, tuple(dag_ids))
            components = [health.get(c, {}).get("status") for c in ("metadatabase", "scheduler", "dag_processor")]
            return parsed[0][0] == len(dag_ids) and components == ["healthy"] * 3

        self.wait_for(f"api-server, scheduler and dag-processor to be up and {dag_ids} parsed", ready, timeout)

    def diagnostics(self, dag_ids: list[str]) -> str:
        """Last lines of each component's log, import errors and the logs of failed tasks of ``dag_ids``."""
        parts = []
        for name in self.processes:
            lines = (self.home / f"{name}.log").read_text(errors="replace").splitlines()
            parts.append(f"----- {name}.log (last 40 lines) -----\n" + "\n".join(lines[-40:]))
        marks = ",".join("?" for _ in dag_ids)
        try:
            failed = self.metadata(
                "select dag_id, run_id, task_id, map_index, try_number from task_instance "
                f"where dag_id in ({marks}) and state in ('failed', 'up_for_retry')",
                tuple(dag_ids),
            )
            errors = self.metadata("select filename, stacktrace from import_error")
        except Exception as exc:  # the diagnostics must not hide the original failure
            failed, errors = [], [("metadata database", str(exc))]
        for filename, stacktrace in errors:
            parts.append(f"----- import error {filename} -----\n{stacktrace[-2000:]}")
        for dag_id, run_id, task_id, map_index, try_number in failed:
            log = (
                self.home
                / "logs"
                / f"dag_id={dag_id}"
                / f"run_id={run_id}"
                / f"task_id={task_id}"
                / (f"map_index={map_index}" if map_index >= 0 else "")
                / f"attempt={try_number}.log"
            )
            text = log.read_text(errors="replace")[-3000:] if log.is_file() else "(no log file)"
            parts.append(f"----- failed task {dag_id} {run_id} {task_id}[{map_index}] -----\n{text}")
        return "\n".join(parts)


class ApiClient:
    """What an external system does: a JWT from ``POST /auth/token``, then the REST API v2 with it."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            status, body = self.request("POST", "/auth/token", {"username": self.username, "password": self.password})
            assert status == 201, f"POST /auth/token as {self.username}: {status} {body}"
            self._token = body["access_token"]
        return self._token

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = False) -> tuple[int, Any]:
        """``(status, parsed JSON body)``; HTTP errors are returned, not raised."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            with contextlib.suppress(ValueError):
                return error.code, json.loads(text)
            return error.code, text

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200) -> Any:
        status, payload = self.request(method, path, body, auth=True)
        assert status == expect, f"{method} {path}: {status} {payload}"
        return payload


def start_celery_workers(stack: AirflowStack, names: list[str], first_log_port: int) -> None:
    """``airflow celery worker`` per name, as ``cloudcost airflow-config --executor celery`` prints them: each its
    own Celery hostname (``<name>@<host>``) and log-server port (two on one host would fight over one)."""
    for i, name in enumerate(names):
        stack.start(
            name,
            ["celery", "worker", "--celery-hostname", f"{name}@%h"],
            {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(first_log_port + i)},
        )


# --------------------------------------------------------------------------- Redis


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


def start_redis(root: Path) -> Redis:
    """Debian's redis-server on a free port of 127.0.0.1, nothing saved to disk, in its own process group."""
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("no redis-server: `make redis` installs Debian's redis-server")
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


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path | None:
    """The newest installed server's bin/ (Debian: /usr/lib/postgresql/<major>/bin), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in a temporary directory, on 127.0.0.1 and a free port, password auth.

    initdb refuses to run as root: as root the cluster belongs to the ``postgres`` user that Debian's package
    creates (every command runs through ``runuser``); as anyone else it belongs to that user.
    """

    root: Path
    bindir: Path
    port: int
    password: str
    os_user: str | None

    @classmethod
    def start(cls, bindir: Path) -> PostgresCluster:
        os_user = "postgres" if os.geteuid() == 0 else None
        if os_user:
            try:
                pwd.getpwnam(os_user)
            except KeyError:
                raise RuntimeError("no 'postgres' user to own the cluster: `make postgres` installs Debian's") from None
        root = Path(tempfile.mkdtemp(prefix="cloudcost-pg-"))
        cluster = cls(root, bindir, free_port(), secrets.token_urlsafe(24), os_user)
        try:
            cluster._init_and_start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.os_user, "--", *args] if self.os_user else list(args)

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._as_owner(*args), capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"

    def _init_and_start(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chmod(pwfile, 0o600)
        if self.os_user:
            shutil.chown(self.root, self.os_user)
            shutil.chown(pwfile, self.os_user)
        data = self.root / "data"
        self._run(
            str(self.bindir / "initdb"), "-D", str(data), "-U", "airflow", f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        # durability off: a throwaway cluster on a loaded 2-core machine; sockets only in our directory
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "postgres.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        import psycopg2

        connection = psycopg2.connect(self.dsn("postgres"))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("create database airflow")
        finally:
            connection.close()

    def dsn(self, database: str = "airflow") -> str:
        return f"postgresql://airflow:{self.password}@127.0.0.1:{self.port}/{database}"

    @property
    def sql_alchemy_conn(self) -> str:
        """What ``[database] sql_alchemy_conn`` takes (the psycopg2 driver of requirements.txt)."""
        return self.dsn().replace("postgresql://", "postgresql+psycopg2://", 1)

    def log_tail(self) -> str:
        path = self.root / "postgres.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-40:]) if path.is_file() else "(no log)"

    def stop(self) -> None:
        """Fast shutdown (disconnects clients), then remove the cluster's directory."""
        data = self.root / "data"
        if (data / "postmaster.pid").is_file():
            result = subprocess.run(
                self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"),
                capture_output=True,
                timeout=120,
            )
            if result.returncode != 0 and (data / "postmaster.pid").is_file():
                with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                    os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
