"""The local Airflow home's airflow.cfg: what lets separately started components work together.

One JWT secret for all of them, kept when the file is written again (components already running keep
their tokens valid), the execution API on the api-server's port, only option names Airflow 3.3 knows,
and the file readable by its owner only, since it holds the secrets.
"""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

from airflow.configuration import retrieve_configuration_description

from cloudcost.airflow.local_home import write_airflow_config


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    path = write_airflow_config(tmp_path / "home", api_port=8123)
    first = _read(path)
    secret, key = first.get("api_auth", "jwt_secret"), first.get("api", "secret_key")
    assert len(secret) >= 32 and len(key) >= 32 and secret != key
    again = _read(write_airflow_config(tmp_path / "home", api_port=8124))
    assert (again.get("api_auth", "jwt_secret"), again.get("api", "secret_key")) == (secret, key)
    other = _read(write_airflow_config(tmp_path / "other"))
    assert other.get("api_auth", "jwt_secret") != secret, "each home has its own"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tasks_report_to_the_api_servers_own_port(tmp_path: Path) -> None:
    config = _read(write_airflow_config(tmp_path, api_port=8123))
    assert config.get("api", "port") == "8123"
    assert config.get("core", "execution_api_server_url") == "http://localhost:8123/execution/"


def test_only_option_names_airflow_knows(tmp_path: Path) -> None:
    """No option Airflow 3 renamed ([scheduler] dag_dir_list_interval) or ignores ([scheduler]
    min_file_process_interval): every one is in Airflow's own configuration description."""
    known = retrieve_configuration_description()
    config = _read(write_airflow_config(tmp_path))
    unknown = [
        f"[{section}] {option}"
        for section in config.sections()
        for option in config[section]
        if option not in known.get(section, {}).get("options", {})
    ]
    assert not unknown, unknown
    assert config.get("dag_processor", "refresh_interval") == "30"


def test_celery_home_names_broker_backend_and_a_port_per_worker(tmp_path: Path) -> None:
    """`cloudcost airflow-config --executor celery`: the same home runs the CeleryExecutor outside Docker."""
    from airflow.providers_manager import ProvidersManager

    from cloudcost.airflow.local_home import CelerySettings, worker_commands

    celery = CelerySettings("redis://localhost:6379/0", "db+postgresql+psycopg2://airflow:pw@localhost/airflow", 3)
    conn = "postgresql+psycopg2://airflow:pw@localhost:5432/airflow"
    config = _read(write_airflow_config(tmp_path, conn, celery=celery, parallelism=8))
    assert config.get("core", "executor") == "CeleryExecutor" and config.get("core", "parallelism") == "8"
    assert dict(config["celery"]) == {
        "broker_url": "redis://localhost:6379/0",
        "result_backend": "db+postgresql+psycopg2://airflow:pw@localhost/airflow",
        "worker_concurrency": "3",
    }
    known = ProvidersManager().provider_configs
    celery_options = next(c["celery"]["options"] for _, c in known if "celery" in c)
    assert set(config["celery"]) <= set(celery_options), "option names the Celery provider knows"
    first, second = worker_commands(tmp_path, 2)
    assert "WORKER_LOG_SERVER_PORT=8793" in first and "--celery-hostname worker-1@%h" in first
    assert "WORKER_LOG_SERVER_PORT=8794" in second and "--celery-hostname worker-2@%h" in second


def test_a_url_without_an_installed_driver_is_refused(tmp_path: Path) -> None:
    import pytest

    from cloudcost.airflow.local_home import CelerySettings
    from cloudcost.sqlalchemy_urls import MissingDriver

    conn = "postgresql+psycopg2://airflow:pw@localhost:5432/airflow"
    celery = CelerySettings("redis://localhost:6379/0", "db+postgresql://airflow:pw@localhost/airflow")
    with pytest.raises(MissingDriver, match=r"result_backend: postgresql://airflow:\*\*\*@localhost/airflow needs"):
        write_airflow_config(tmp_path, conn, celery=celery)
    with pytest.raises(ValueError, match="the CeleryExecutor needs a metadata database its processes share"):
        write_airflow_config(tmp_path, celery=CelerySettings("redis://x:6379/0", "db+" + conn))
    assert not (tmp_path / "airflow.cfg").exists(), "nothing written"
