"""The package's layers, read from the source with ``ast``: Airflow is imported only in ``cloudcost/airflow/``,
only the command line (the edge) and the DAG files reach into that package, and no module imports from a layer
above its own (``LAYERS``; lazy imports inside functions count)."""

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


# Lowest first. A module may import from its own layer and the layers below it, never from one above.
LAYERS: tuple[frozenset[str], ...] = (
    # values and files every layer reads: a run's identity and results, config models, names, paths, money
    frozenset(
        {
            "__init__",
            "core",
            "paths",
            "identifiers",
            "money_format",
            "billing_window",
            "private_files",
            "sqlalchemy_urls",
            "cli_args",
            "cli_errors",
            "schemas",
            "config",
            "lookups",
            "focus_arrow",
            "yaml_text",
        }
    ),
    frozenset({"sources", "vault"}),  # the providers' exports, the org credentials
    frozenset({"warehouse"}),  # DuckDB and BigQuery behind one interface: the only place that names an engine
    frozenset({"pipeline", "loaded_range"}),  # land, convert, check, record: engine-neutral
    frozenset({"rollups", "evaluation", "report", "export", "validate"}),  # the features over FOCUS rows
    frozenset({"demo", "airflow", "cli"}),  # the edges that drive it all
)


def layer_of(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def unit_of(module: str) -> str:
    """``cloudcost/pipeline/stages.py`` -> ``pipeline``; ``cloudcost.warehouse.base`` -> ``warehouse``."""
    return module.replace("/", ".").split(".")[1]


def test_every_package_and_module_has_a_layer() -> None:
    units = {unit_of(module) for module in modules()}
    assert units - set().union(*LAYERS) == set()


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    climbs = {
        (module, name)
        for module, names in modules().items()
        for name in names
        if name.startswith("cloudcost.") and layer_of(unit_of(name)) > layer_of(unit_of(module))
    }
    assert climbs == set()


def test_the_layers_judge_the_imports_they_should() -> None:
    """The layer check is not vacuous: the pipeline's known imports are below it, an import of the pipeline from
    the warehouse would be a climb."""
    assert layer_of(unit_of("cloudcost.warehouse.base")) < layer_of(unit_of("cloudcost/pipeline/land_raw.py"))
    assert layer_of(unit_of("cloudcost.pipeline.landed")) > layer_of(unit_of("cloudcost/warehouse/bigquery_load.py"))
    assert "cloudcost.warehouse.base" in modules()["cloudcost/pipeline/land_raw.py"]


def test_the_pipeline_reaches_a_warehouse_only_through_its_interface() -> None:
    """No engine library and no engine's module in ``pipeline/``: ``warehouse`` (``open_warehouse``) and
    ``warehouse.base`` (the ``Warehouse`` protocol) only."""
    interface = {"cloudcost.warehouse", "cloudcost.warehouse.base"}
    offenders = {
        module: sorted(
            n
            for n in names
            if n.split(".")[0] in {"duckdb", "google"} or (n.startswith("cloudcost.warehouse") and n not in interface)
        )
        for module, names in modules().items()
        if module.startswith("cloudcost/pipeline/")
    }
    assert {m: n for m, n in offenders.items() if n} == {}
    assert "cloudcost.warehouse.base" in modules()["cloudcost/pipeline/land_raw.py"]


def test_the_scan_sees_the_imports_it_judges() -> None:
    """The checks above would pass vacuously if the scan found nothing: it must see the known imports."""
    found = modules()
    assert "airflow.sdk" in found["cloudcost/airflow/billing_dag.py"]
    assert "cloudcost.airflow.demo_runs" in found["cloudcost/cli.py"]
