"""Lookup tables (configs/lookups/*.csv) loaded into the warehouse schema ``cloudcost_ref``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from cloudcost.identifiers import qualified
from cloudcost.paths import config_dir
from cloudcost.warehouse.duckdb import DuckDBSession

REF_DATASET = "cloudcost_ref"


def lookup_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted((config_dir() / "lookups").glob("*.csv"))}


def read_lookup(path: Path) -> pa.Table:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8").strip().split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())))


def refresh_lookups(session: DuckDBSession, names: list[str]) -> dict[str, str]:
    """(Re)load the named lookups so the warehouse always matches the files; returns name -> table."""
    files = lookup_files()
    session.execute(f'create schema if not exists "{REF_DATASET}"')
    tables = {}
    for name in names:
        if name not in files:
            raise FileNotFoundError(f"lookup {name!r}: no file configs/lookups/{name}.csv")
        view = f"cloudcost_lookup_{name}"
        session.connection.register(view, read_lookup(files[name]))
        try:
            table = qualified(REF_DATASET, name)
            session.execute(f"create or replace table {table} as select * from {view}")
        finally:
            session.connection.unregister(view)
        tables[name] = table
    return tables
