"""The local Airflow home used by ``make demo`` and the tests: ``.airflow/`` in the repo, SQLite metadata.

Writing an explicit ``airflow.cfg`` (absolute paths) means ``AIRFLOW_HOME=.airflow airflow dags list``
works from the repo without any other environment variable.
"""

from __future__ import annotations

from pathlib import Path

from cloudcost.paths import REPO_ROOT

CONFIG_TEMPLATE = """\
# Written by `cloudcost airflow-config` for the local demo and tests. Regenerate rather than edit.
[core]
dags_folder = {repo}/dags
plugins_folder = {repo}/plugins
load_examples = False
executor = LocalExecutor
parallelism = 4
max_active_tasks_per_dag = 4
dagbag_import_timeout = 60
simple_auth_manager_all_admins = True

[database]
sql_alchemy_conn = {sql_alchemy_conn}

[logging]
base_log_folder = {home}/logs
logging_level = INFO

[scheduler]
dag_dir_list_interval = 30
min_file_process_interval = 30

[api]
port = {api_port}
"""


def write_airflow_config(home: Path, sql_alchemy_conn: str | None = None, api_port: int = 8080) -> Path:
    """Write ``<home>/airflow.cfg`` pointing Airflow at this repo's dags/ and plugins/."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    conn = sql_alchemy_conn or f"sqlite:///{home}/airflow.db"
    path = home / "airflow.cfg"
    path.write_text(
        CONFIG_TEMPLATE.format(repo=REPO_ROOT, home=home, sql_alchemy_conn=conn, api_port=api_port), encoding="utf-8"
    )
    return path
