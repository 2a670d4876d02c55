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
from pathlib import Path

from cloudcost.paths import REPO_ROOT
from cloudcost.private_files import create_private_file

CONFIG_TEMPLATE = """\
# Written by `cloudcost airflow-config` for the local demo and tests. Regenerate rather than edit.
# Holds this home's generated secrets ([api_auth] jwt_secret, [api] secret_key): never commit it.
[core]
dags_folder = {repo}/dags
plugins_folder = {repo}/plugins
load_examples = False
executor = LocalExecutor
parallelism = 4
max_active_tasks_per_dag = 4
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


def write_airflow_config(home: Path, sql_alchemy_conn: str | None = None, api_port: int = 8080) -> Path:
    """Write ``<home>/airflow.cfg`` pointing Airflow at this repo's dags/ and plugins/ (secrets kept, 0600).

    A new home is made 0700, and a SQLite metadata file is created empty with mode 0600 before ``airflow db
    migrate`` fills it (SQLite takes an empty file as a new database and gives its journals the same mode)."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # secrets, the metadata DB and task logs: private
    conn = sql_alchemy_conn or f"sqlite:///{home}/airflow.db"
    if conn.startswith("sqlite:////"):  # an absolute SQLite path: `airflow db migrate` fills the empty 0600 file
        create_private_file(Path(conn.removeprefix("sqlite:///").split("?", 1)[0]))
    path = home / "airflow.cfg"
    text = CONFIG_TEMPLATE.format(
        repo=REPO_ROOT, home=home, sql_alchemy_conn=conn, api_port=api_port, **_kept_secrets(path)
    )
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
