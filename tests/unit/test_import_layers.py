"""The package's layers, read from the source with ``ast``: Airflow is imported only in ``cloudcost/airflow/``,
and only the command line (the edge) and the DAG files reach into that package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "cloudcost"


def imports_of(path: Path) -> set[str]:
    """Every module name an ``import`` or ``from … import`` in the file names (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE.parent)): imports_of(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if "egg-info" not in path.parts
    }


def test_only_the_airflow_package_imports_airflow() -> None:
    offenders = {
        module: sorted(n for n in names if n == "airflow" or n.startswith("airflow."))
        for module, names in modules().items()
        if not module.startswith("cloudcost/airflow/")
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_only_the_command_line_reaches_into_the_airflow_package() -> None:
    offenders = {
        module
        for module, names in modules().items()
        if not module.startswith("cloudcost/airflow/")
        and module != "cloudcost/cli.py"
        and any(n == "cloudcost.airflow" or n.startswith("cloudcost.airflow.") for n in names)
    }
    assert offenders == set()


def test_the_scan_sees_the_imports_it_judges() -> None:
    """The checks above would pass vacuously if the scan found nothing: it must see the known imports."""
    found = modules()
    assert "airflow.sdk" in found["cloudcost/airflow/billing_dag.py"]
    assert "cloudcost.airflow.demo_runs" in found["cloudcost/cli.py"]
