"""Files holding billing data or secrets are created 0600 (their folders 0700), whatever the umask of the
process that creates them: the DuckDB warehouse and its WAL, the vault and its key, the local Airflow home's
metadata database, and what the ``cloudcost`` command writes."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cloudcost.airflow.local_home import write_airflow_config
from cloudcost.cli import main
from cloudcost.paths import warehouse_file
from cloudcost.vault import default_vault
from cloudcost.warehouse import open_warehouse


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask 022 (files 0644), so a private mode can only come from the code under test."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_duckdb_warehouse_and_its_wal_are_created_0600(data_dir: Path) -> None:
    path = warehouse_file("demo_prod")
    with open_warehouse().session("demo_prod") as session:
        session.execute("create table t as select range as n from range(1000)")
        wal = path.with_name(path.name + ".wal")
        assert wal.exists(), "DuckDB keeps the WAL until the connection checkpoints"
        assert _mode(wal) == 0o600
        assert _mode(path) == 0o600
    assert _mode(path) == 0o600
    assert path.parent == data_dir / "warehouse" / "demo_prod", "one file per org dataset, in its own folder"
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
    assert _mode(data_dir / "tmp" / "duckdb") == 0o700
    assert os.umask(0o022) == 0o022, "the session gives the process its umask back"
    connection = duckdb.connect(str(path), read_only=True)
    try:
        assert connection.execute("select count(*) from t").fetchone() == (1000,)
    finally:
        connection.close()


def test_warehouse_folder_is_created_0700(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private" / "warehouse.duckdb"
    monkeypatch.setenv("CLOUDCOST_WAREHOUSE", str(path))
    monkeypatch.setenv("CLOUDCOST_DATA_DIR", str(tmp_path / "data"))
    with open_warehouse().session("demo_prod") as session:
        session.execute("select 1")
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600


def test_vault_files_and_folders_are_private(data_dir: Path, config_dir: Path) -> None:
    assert main(["demo", "credentials", "--org", "demo"]) == 0  # the demo's path through the vault
    vault_dir, key_file = data_dir / "vault", data_dir / "keys" / "kek.key"
    assert _mode(vault_dir) == 0o700 and _mode(key_file.parent) == 0o700
    assert _mode(vault_dir / "demo.json") == 0o600 and _mode(key_file) == 0o600
    assert _mode(vault_dir / ".demo.lock") == 0o600
    assert {info.provider for info in default_vault().list("demo")} == {"aws", "gcp", "azure", "oci"}


def test_cloudcost_command_writes_private_files_and_restores_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "pools.json"
    assert main(["airflow-pools", "--out", str(out)]) == 0
    assert _mode(out) == 0o600
    assert os.umask(0o022) == 0o022


def test_local_airflow_home_and_sqlite_database_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_airflow_config(home)
    database = home / "airflow.db"
    assert _mode(home) == 0o700
    assert _mode(database) == 0o600 and database.stat().st_size == 0
    with sqlite3.connect(database) as db:  # SQLite takes the empty file as a new database, as `db migrate` does
        db.execute("create table t (a)")
    assert _mode(database) == 0o600 and database.stat().st_size > 0
    write_airflow_config(home)  # written again: the filled database is left alone
    assert database.stat().st_size > 0


def test_session_airflow_home_database_stays_0600_after_db_migrate(airflow_home: Path) -> None:
    """The session's home is written by ``write_airflow_config`` (tests/conftest.py) and migrated by the real
    ``airflow db migrate``, as ``make airflow-home`` does."""
    database = airflow_home / "airflow.db"
    assert database.stat().st_size > 0
    assert _mode(database) == 0o600
