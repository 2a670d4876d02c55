"""Lookup tables (configs/lookups/*.csv): the files, read as text. Each warehouse loads them into its schema
``cloudcost_ref`` (``Warehouse.register_lookups``)."""

from __future__ import annotations

import functools
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from cloudcost.paths import config_dir

REF_DATASET = "cloudcost_ref"


def lookup_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted((config_dir() / "lookups").glob("*.csv"))}


def read_lookup(path: Path) -> pa.Table:
    """The file's rows, every column text; read once per process while the file is unchanged (a convert reads its
    lookups before it takes its turn at the embedded warehouse, then loads them from here)."""
    stat = path.stat()
    return _read_lookup(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _read_lookup(path: Path, mtime_ns: int, size: int) -> pa.Table:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8").strip().split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())))
