"""Pins that keep the installed dependencies quiet: a warning on every task log hides the ones that matter."""

from __future__ import annotations

import warnings
from pathlib import Path


def test_airflow_dag_discovery_raises_no_pathspec_deprecation(tmp_path: Path) -> None:
    """Airflow 3.3.2 reads .airflowignore through pathspec's GitWildMatchPattern, deprecated since pathspec 1.0
    (requirements.in pins pathspec<1): the DAG processor and every task would log the DeprecationWarning."""
    from airflow._shared.module_loading.file_discovery import find_path_from_directory

    (tmp_path / ".airflowignore").write_text("skipped_*.py\n")
    (tmp_path / "dag.py").write_text("")
    (tmp_path / "skipped_dag.py").write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        found = sorted(Path(p).name for p in find_path_from_directory(tmp_path, ".airflowignore"))
    assert found == ["dag.py"]
