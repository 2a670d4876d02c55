"""Moving a warehouse of one DuckDB file (every org a schema in it, as made before per-org files) to one file per
org, losing nothing: each table is created with its own DDL (constraints kept) and filled from the old file, the
rows of every table are counted on both sides, and only then is the old file renamed away.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from cloudcost.identifiers import quote_identifier
from cloudcost.lookups import REF_DATASET
from cloudcost.paths import DATASET_FILE_NAME, dataset_file
from cloudcost.warehouse.duckdb import DuckDBSession, DuckDBWarehouse

NOT_ORG_SCHEMAS = {"main", "information_schema", "pg_catalog", REF_DATASET}


class SplitRefused(RuntimeError):
    """The split cannot start (a per-org file exists already) or did not copy every row (the old file is kept)."""


def split_warehouse(shared: Path, folder: Path) -> dict[str, dict[str, int]]:
    """Copy every org schema of the one-file warehouse ``shared`` into its own file under ``folder``; returns
    dataset -> table -> rows. The old file's turn is held throughout, and while both exist every task refuses to
    guess which is the warehouse (``paths.WarehouseLayoutError``), so nothing writes to either meanwhile."""
    if not shared.is_file():
        raise SplitRefused(f"{shared}: no such file: nothing to split")
    made = sorted(folder.glob(f"*/{DATASET_FILE_NAME}"))
    if made:
        raise SplitRefused(f"{folder} already holds per-org files ({made[0]}): the split would mix two warehouses")
    copied: dict[str, dict[str, int]] = {}
    try:
        with DuckDBWarehouse(shared).session(REF_DATASET) as session:
            session.execute("CHECKPOINT")  # everything in the file itself, none of it in a WAL
            (catalog,) = session.fetchall("select current_database()")[0]
            names = session.fetchall("select schema_name from duckdb_schemas() where database_name = ?", [catalog])
            for dataset in sorted(name for (name,) in names if name not in NOT_ORG_SCHEMAS):
                copied[dataset] = {}  # its folder is this split's from here on (removed if the split fails)
                copied[dataset] = _copy(session, catalog, dataset, dataset_file(folder, dataset))
    except BaseException:
        for dataset in copied:  # a half-made per-org warehouse must not outlive the failure: the old file stays
            shutil.rmtree(dataset_file(folder, dataset).parent, ignore_errors=True)
        raise
    shared.rename(shared.with_name(f"{shared.name}.split-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"))
    return copied


def _copy(session: DuckDBSession, catalog: str, dataset: str, target: Path) -> dict[str, int]:
    """The dataset's tables, and the lookups, into ``target`` (a new file); rows counted on both sides."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    session.execute("ATTACH ? AS split_target", [str(target)])
    counts: dict[str, int] = {}
    try:
        session.execute("USE split_target")
        for schema in (dataset, REF_DATASET):
            tables = session.fetchall(
                "select table_name, sql from duckdb_tables() where database_name = ? and schema_name = ? order by 1",
                [catalog, schema],
            )
            if not tables:
                continue
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
            for table, ddl in tables:
                session.execute(ddl)  # the table's own DDL, constraints included, into the target (USE)
                source = f"{quote_identifier(catalog)}.{quote_identifier(schema)}.{quote_identifier(table)}"
                destination = f"{quote_identifier(schema)}.{quote_identifier(table)}"
                session.execute(f"INSERT INTO {destination} SELECT * FROM {source}")
                (before,) = session.fetchall(f"select count(*) from {source}")[0]
                (after,) = session.fetchall(f"select count(*) from {destination}")[0]
                if before != after:
                    raise SplitRefused(f"{schema}.{table}: {after} rows copied of {before}; {target} is incomplete")
                if schema == dataset:
                    counts[table] = int(after)
    finally:
        session.execute(f"USE {quote_identifier(catalog)}")
        session.execute("DETACH split_target")
    return counts
