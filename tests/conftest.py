"""Shared fixtures. Every test gets its own data folder, config copy and (once per session) Airflow home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
VENV_BIN = Path(sys.executable).parent

# Airflow reads AIRFLOW_HOME when first imported: point it at a throwaway home before any test imports
# airflow, so the suite never touches a developer's .airflow/.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="cloudcost-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.pop("CLOUDCOST_WAREHOUSE", None)
sys.path.insert(0, str(REPO / "plugins"))

from cloudcost.airflow.local_home import write_airflow_config  # noqa: E402

write_airflow_config(_AIRFLOW_HOME)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CLOUDCOST_DATA_DIR (landing zone + warehouse) per test."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("CLOUDCOST_DATA_DIR", str(path))
    monkeypatch.delenv("CLOUDCOST_WAREHOUSE", raising=False)
    monkeypatch.delenv("CLOUDCOST_KEY_FILE", raising=False)
    return path


@pytest.fixture
def demo_credentials(data_dir: Path) -> list[str]:
    """The demo org's credentials stored in the test's own vault (as `make demo` does)."""
    from cloudcost.demo.credentials import store_demo_credentials

    return store_demo_credentials("demo")


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of configs/ (CLOUDCOST_CONFIG_DIR), free to break."""
    path = tmp_path / "configs"
    shutil.copytree(REPO / "configs", path)
    monkeypatch.setenv("CLOUDCOST_CONFIG_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's Airflow home with a migrated SQLite metadata database."""
    result = subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"],
        env={**os.environ, "AIRFLOW_HOME": str(_AIRFLOW_HOME)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return _AIRFLOW_HOME


@pytest.fixture
def shared_reference() -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {SHARED_REFERENCE} (../shared must sit beside the repo)")
    return SHARED_REFERENCE
