"""The local Airflow home used by ``make demo`` and the tests: ``.airflow/`` in the repo, SQLite metadata.

Writing an explicit ``airflow.cfg`` (absolute paths) means ``AIRFLOW_HOME=.airflow airflow dags list``
works from the repo without any other environment variable, and that a scheduler, dag-processor and
api-server started from the same home agree with each other: one ``[api_auth] jwt_secret`` (otherwise each
process makes up its own and every task is refused with "Invalid auth token") and an execution API URL on
the api-server's own port. The secrets are generated once and kept when the file is written again, so
components started before a rewrite keep working; the file is mode 0600 because it holds them, and so is the
SQLite metadata database (created empty here, filled by ``airflow db migrate``).

Also builds the pool file for ``airflow pools import`` from the ``pool`` block of each ``billing.yml``.
"""

from __future__ import annotations

import configparser
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from cloudcost.paths import REPO_ROOT
from cloudcost.private_files import create_private_file
from cloudcost.sqlalchemy_urls import require_importable_driver

CONFIG_TEMPLATE = """\
# Written by `cloudcost airflow-config` for the local demo and tests. Regenerate rather than edit.
# Holds this home's generated secrets ([api_auth] jwt_secret, [api] secret_key): never commit it.
[core]
dags_folder = {repo}/dags
plugins_folder = {repo}/plugins
load_examples = False
executor = {executor}
parallelism = {parallelism}
max_active_tasks_per_dag = {parallelism}
dagbag_import_timeout = 60
simple_auth_manager_all_admins = True
execution_api_server_url = http://localhost:{api_port}/execution/

[database]
sql_alchemy_conn = {sql_alchemy_conn}

[logging]
base_log_folder = {home}/logs
logging_level = INFO

[dag_processor]
refresh_interval = 30
min_file_process_interval = 30

[api]
port = {api_port}
secret_key = {secret_key}

[api_auth]
jwt_secret = {jwt_secret}
"""

CELERY_TEMPLATE = """
[celery]
broker_url = {broker_url}
result_backend = {result_backend}
worker_concurrency = {worker_concurrency}
"""

FIRST_LOG_SERVER_PORT = 8793  # Airflow's default [logging] worker_log_server_port


@dataclass(frozen=True)
class CelerySettings:
    """The CeleryExecutor's broker (Redis) and result backend (the metadata Postgres, ``db+`` URL), and how
    many tasks each worker runs at once."""

    broker_url: str
    result_backend: str
    worker_concurrency: int = 4


def worker_commands(home: Path, workers: int) -> list[str]:
    """How to start ``workers`` Celery workers on one host from this home: each its own Celery hostname and
    log-server port (two workers on one host otherwise both bind 8793, and the second cannot serve its logs)."""
    return [
        f"AIRFLOW_HOME={home.resolve()} AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT={FIRST_LOG_SERVER_PORT + i} "
        f"airflow celery worker --celery-hostname worker-{i + 1}@%h"
        for i in range(workers)
    ]


# (section, option) of each secret kept across rewrites of airflow.cfg
_SECRETS = {"jwt_secret": ("api_auth", "jwt_secret"), "secret_key": ("api", "secret_key")}


def _kept_secrets(path: Path) -> dict[str, str]:
    """The secrets of an existing airflow.cfg, or new random ones for those it lacks."""
    existing = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        existing.read(path, encoding="utf-8")
    return {
        name: existing.get(section, option, fallback="") or secrets.token_urlsafe(48)
        for name, (section, option) in _SECRETS.items()
    }


# How long a process waits for SQLite's write lock before "database is locked" (Python's default is 5 s). The
# scheduler, dag-processor, api-server and the CLI all write one file; `airflow backfill create` failing after 5 s
# of another component's write has left its half-made backfill behind (seen in the backfill test).
SQLITE_WAIT = "timeout=60"


def write_airflow_config(
    home: Path,
    sql_alchemy_conn: str | None = None,
    api_port: int = 8080,
    celery: CelerySettings | None = None,
    parallelism: int = 4,
) -> Path:
    """Write ``<home>/airflow.cfg`` pointing Airflow at this repo's dags/ and plugins/ (secrets kept, 0600):
    the LocalExecutor on SQLite by default, or the CeleryExecutor (which needs a database several processes
    can write: Postgres). Every database URL must name a driver this venv imports.

    A new home is made 0700, and a SQLite metadata file is created empty with mode 0600 before ``airflow db
    migrate`` fills it (SQLite takes an empty file as a new database and gives its journals the same mode)."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # secrets, the metadata DB and task logs: private
    conn = require_importable_driver(
        "sql_alchemy_conn", sql_alchemy_conn or f"sqlite:///{home}/airflow.db?{SQLITE_WAIT}"
    )
    if celery is not None:
        if conn.startswith("sqlite"):
            raise ValueError("the CeleryExecutor needs a metadata database its processes share: --sql-alchemy-conn")
        require_importable_driver("result_backend", celery.result_backend)
    if conn.startswith("sqlite:////"):  # an absolute SQLite path: `airflow db migrate` fills the empty 0600 file
        create_private_file(Path(conn.removeprefix("sqlite:///").split("?", 1)[0]))
    path = home / "airflow.cfg"
    text = CONFIG_TEMPLATE.format(
        repo=REPO_ROOT,
        home=home,
        sql_alchemy_conn=conn,
        api_port=api_port,
        executor="CeleryExecutor" if celery else "LocalExecutor",
        parallelism=parallelism,
        **_kept_secrets(path),
    )
    if celery is not None:
        text += CELERY_TEMPLATE.format(**asdict(celery))
    tmp = path.with_suffix(".cfg.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)  # also when the file already existed with wider permissions
    os.replace(tmp, path)
    return path


def airflow_pools() -> dict[str, dict]:
    """Every provider's pool as ``airflow pools import`` reads it: ``{name: {slots, description, ...}}``."""
    from cloudcost.config import PROVIDERS, billing_config_path, load_billing_config

    pools: dict[str, dict] = {}
    for provider in PROVIDERS:
        if not billing_config_path(provider).is_file():
            continue
        pool = load_billing_config(provider).pool
        if pool.name in pools:
            raise ValueError(f"pool {pool.name!r} is named by two billing.yml files; each cloud API needs its own")
        pools[pool.name] = {"slots": pool.slots, "description": pool.description, "include_deferred": False}
    return pools


def write_airflow_pools(path: Path) -> Path:
    """Write the pool file for ``airflow pools import <path>`` (creates or resizes; other pools untouched)."""
    path.write_text(json.dumps(airflow_pools(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
