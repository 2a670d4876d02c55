"""Where things live: the repository, its configs, schemas and procedures, and the local data folder.

Every location can be moved with an environment variable so tests and deployments stay isolated.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cloudcost.identifiers import quote_identifier

if TYPE_CHECKING:  # config imports this module; the Literal is needed for the annotation only
    from cloudcost.config import Provider
    from cloudcost.identifiers import OrgSlug

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def config_dir() -> Path:
    """``configs/`` (override: ``CLOUDCOST_CONFIG_DIR``)."""
    return _env_path("CLOUDCOST_CONFIG_DIR", REPO_ROOT / "configs")


def schemas_dir() -> Path:
    return REPO_ROOT / "schemas"


def procedures_dir() -> Path:
    return REPO_ROOT / "procedures"


def data_dir() -> Path:
    """Local data folder (override: ``CLOUDCOST_DATA_DIR``); holds the landing zone and the warehouse."""
    return _env_path("CLOUDCOST_DATA_DIR", REPO_ROOT / "data")


def landing_dir(org: OrgSlug, provider: Provider) -> Path:
    """Embedded stand-in for a provider's bucket or export: ``data/landing/<org>/<provider>/``."""
    return data_dir() / "landing" / org / provider


SINGLE_FILE_SUFFIXES = (".duckdb", ".db", ".ddb")  # DuckDB's usual extensions: such a path is one file
DATASET_FILE_NAME = "warehouse.duckdb"  # each dataset's file in the per-org folder: <folder>/<dataset>/warehouse.duckdb


class WarehouseLayoutError(RuntimeError):
    """The data folder holds a warehouse of each layout: which one is the warehouse cannot be guessed."""


def warehouse_path() -> Path:
    """The embedded warehouse (override: ``CLOUDCOST_WAREHOUSE``): a folder holding one DuckDB file per org dataset,
    ``data/warehouse/<org>_prod/warehouse.duckdb``; or one DuckDB file for every org — an existing file, or a path
    ending in ``.duckdb``, ``.db`` or ``.ddb`` — which is how a warehouse made before per-org files
    (``data/warehouse.duckdb``) is found, and kept, when it exists. Both layouts at once in the data folder are
    refused: a file appearing beside the folder must not switch every task to it (and hide the orgs' files)."""
    if os.environ.get("CLOUDCOST_WAREHOUSE"):
        return _env_path("CLOUDCOST_WAREHOUSE", data_dir())
    shared, folder = data_dir() / "warehouse.duckdb", data_dir() / "warehouse"
    if not shared.exists():
        return folder
    if folder.exists():
        raise WarehouseLayoutError(
            f"{shared} (every org in one file, made before per-org files) and {folder} (a file per org) both exist: "
            "move one away (or set CLOUDCOST_WAREHOUSE to the one to use)"
        )
    return shared


def dataset_file(location: Path, dataset: str) -> Path:
    """The DuckDB file that holds ``dataset`` in the warehouse at ``location`` (see ``warehouse_path``)."""
    quote_identifier(dataset)  # raises unless an identifier: a dataset name never walks out of the folder
    if location.is_file() or location.suffix in SINGLE_FILE_SUFFIXES:
        return location
    # a folder per dataset, every file named alike: DuckDB names a file's catalog after its name up to the first dot,
    # and a catalog named like the dataset's schema inside it would make ``<dataset>.<table>`` ambiguous
    return location / dataset / DATASET_FILE_NAME


def warehouse_file(dataset: str) -> Path:
    return dataset_file(warehouse_path(), dataset)
