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

from cloudcost.local_airflow import write_airflow_config


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
