"""The embedded warehouse: one DuckDB file per org dataset (``<org>_prod/warehouse.duckdb``, the dataset a schema in
it), or one file holding every org's schema (a warehouse made before per-org files)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cloudcost.config import DuckDBSettings
from cloudcost.core.results import ConvertResult, Landed
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified, quote_identifier
from cloudcost.lookups import REF_DATASET, lookup_files, read_lookup
from cloudcost.paths import data_dir, dataset_file, warehouse_path
from cloudcost.private_files import private_umask
from cloudcost.schemas import TableSchema, duckdb_create_table, duckdb_type, quote_column
from cloudcost.warehouse.base import SliceKey
from cloudcost.warehouse.turns import sessions_open, turn

if TYPE_CHECKING:
    from cloudcost.config import OrgConfig, RawFormat
    from cloudcost.warehouse.base import LandingJob

T = TypeVar("T")

# Another task process may hold DuckDB's single-writer lock; wait for it (in turn) rather than fail.
LOCK_WAIT_SECONDS = 600


class WarehouseLocked(RuntimeError):
    """The DuckDB file stayed locked by another process for longer than ``LOCK_WAIT_SECONDS``."""


class SchemaMigrationNeeded(RuntimeError):
    """An existing table cannot be brought to the current schema automatically."""


def configure(connection: Any, settings: DuckDBSettings, temp_directory: Path, owner: str) -> Path:
    """UTC, no progress bar, and the process's bounds: statements larger than ``memory_limit`` spill to a folder of
    this process and database in ``temp_directory`` (``<pid>-<owner>``), which is returned. DuckDB names its spill
    files without a process id and, closing, deletes the spill files it finds in its folder: with one file per org,
    tasks of several orgs spill at once, and in a shared folder they would read or delete each other's.

    No vacuum at checkpoint: DuckDB would rewrite each day's freshly inserted rows to merge partial row groups,
    which cost a task 1.1-1.5 s per 260 k FOCUS rows when it closed its connection (bench/, 1 M-row AWS export).
    Slices are replaced whole, so the row groups of a replaced day are dropped whole without it (8 replacements
    of a 785 k-row table kept it at 9 row groups and 60-77 MB; with vacuum, 7-8 and 69-98 MB)."""
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = false")  # a statement over 2 s would draw one on the task's stdout
    connection.execute("SET max_vacuum_tasks = 0")
    connection.execute(f"SET memory_limit = '{settings.memory_limit}'")  # validated by DuckDBSettings
    connection.execute(f"SET threads = {int(settings.threads)}")
    temp_directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # spilled rows are billing data: private
    spill = temp_directory / f"{os.getpid()}-{owner}"
    spill.mkdir(exist_ok=True, mode=0o700)
    connection.execute("SET temp_directory = ?", [str(spill)])
    return spill


def remove_spill_folder(spill: Path) -> None:
    """The folder ``configure`` made, once its database is closed (DuckDB removed its files; one it left keeps it)."""
    with contextlib.suppress(OSError):
        spill.rmdir()


class DuckDBSession:
    """A thin wrapper so callers do not depend on DuckDB's connection API directly."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        return self.connection.execute(sql, params) if params is not None else self.connection.execute(sql)

    def fetchall(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple]:
        return self.execute(sql, params).fetchall()


def register_lookups(session: DuckDBSession, names: list[str]) -> dict[str, str]:
    """(Re)load the named ``configs/lookups/*.csv`` into ``cloudcost_ref`` so the warehouse always matches the
    files (every column text); returns name -> qualified table."""
    files = lookup_files()
    session.execute(f"create schema if not exists {quote_identifier(REF_DATASET)}")
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


class DuckDBWarehouse:
    """The ``Warehouse`` interface on DuckDB (see ``warehouse/base.py``). ``path`` is a folder with one file per org
    dataset, so a task waits only for its own org's turns and opens one org's catalog (DuckDB reads a file's whole
    catalog on every open: 17 ms with one org's tables, 48 ms with 50 orgs', ``bench/catalog_connect.py``); or, when
    it ends in ``.duckdb``, one file for every org, as warehouses were made before."""

    name = "duckdb"

    def __init__(
        self, path: Path, lock_wait_seconds: float = LOCK_WAIT_SECONDS, settings: DuckDBSettings | None = None
    ) -> None:
        self.path = Path(path)
        self.lock_wait_seconds = lock_wait_seconds
        self.settings = settings or DuckDBSettings()

    @classmethod
    def from_environment(cls, settings: DuckDBSettings | None = None) -> DuckDBWarehouse:
        return cls(warehouse_path(), settings=settings)

    @property
    def temp_directory(self) -> Path:
        return Path(self.settings.temp_directory) if self.settings.temp_directory else data_dir() / "tmp" / "duckdb"

    @property
    def spool_directory(self) -> Path:
        """Where copies of cloud export objects wait while they land (private subdirectories, removed after)."""
        return Path(self.settings.spool_directory) if self.settings.spool_directory else data_dir() / "tmp" / "spool"

    def file_for(self, dataset: str) -> Path:
        """The file that holds ``dataset`` (validated: an identifier, never a path)."""
        return dataset_file(self.path, dataset)

    def _connect(self, path: Path) -> Any:
        import duckdb

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.2
        while True:
            try:
                return duckdb.connect(str(path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    if "lock" in str(exc).lower():
                        raise WarehouseLocked(
                            f"{path} stayed locked by another process for {self.lock_wait_seconds:.0f} s"
                        ) from exc
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    @contextmanager
    def session(self, dataset: str) -> Iterator[DuckDBSession]:
        """A connection to ``dataset``'s file, under umask 077 (the database file, its ``.wal`` and spilled rows are
        created 0600), once this process's turn at the file has come (``turns.py``: waiters go in in arrival order).
        The ``duckdb`` module is imported before the turn is taken: a task process's first import costs 0.1-0.3 s,
        which every waiter behind it used to wait for as well."""
        import duckdb  # noqa: F401  (imported here, outside the turn; _connect finds it loaded)

        path = self.file_for(dataset)
        with private_umask(), turn(path, self.lock_wait_seconds):
            connection = self._connect(path)
            spill: Path | None = None
            try:
                spill = configure(connection, self.settings, self.temp_directory, dataset)
                yield DuckDBSession(connection)
            finally:
                connection.close()
                if spill is not None and sessions_open(path) == 1:  # the outermost: its database is closed now
                    remove_spill_folder(spill)

    @contextmanager
    def transaction(self, session: DuckDBSession) -> Iterator[None]:
        """All-or-nothing: a failure (or a killed process) leaves the previous state intact."""
        session.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            session.execute("ROLLBACK")
            raise
        session.execute("COMMIT")

    def retry_conflicts(self, work: Callable[[], T], what: str) -> T:
        """Run ``work`` once: DuckDB never cancels a transaction for another's, writers wait for the file's
        lock in turn (``turn``, ``LOCK_WAIT_SECONDS``)."""
        return work()

    def ensure_dataset(self, session: DuckDBSession, dataset: str) -> None:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(dataset)}")

    def ensure_table(self, session: DuckDBSession, dataset: str, schema: TableSchema) -> None:
        """Create the table, or add columns a newer schema introduced (nullable ones only)."""
        self.ensure_dataset(session, dataset)
        table = qualified(dataset, schema.table)
        session.execute(duckdb_create_table(schema, table))
        # the table's own catalog entry: information_schema scans every table of the file (every org's), which
        # made each landing's four ensure_table calls slower as the estate grew, inside the writer's turn
        existing = {name for (name,) in session.fetchall("select name from pragma_table_info(?)", [table])}
        for column in schema.columns:
            if column.name in existing:
                continue
            if not column.nullable:
                raise SchemaMigrationNeeded(
                    f"{table} lacks NOT NULL column {column.name}: migrate it explicitly (no default exists)"
                )
            session.execute(f"alter table {table} add column {quote_column(column.name)} {duckdb_type(column.type)}")

    def delete_slice(self, session: DuckDBSession, key: SliceKey) -> int:
        conditions = " AND ".join(f"{quote_column(col)} = ?" for col, _ in key.where)
        params = [value for _, value in key.where]
        table = qualified(key.dataset, key.table)
        (count,) = session.fetchall(f"SELECT count(*) FROM {table} WHERE {conditions}", params)[0]
        session.execute(f"DELETE FROM {table} WHERE {conditions}", params)
        return int(count)

    def land_deliveries(self, session: DuckDBSession, job: LandingJob) -> Landed:
        """DuckDB reads the delivered files itself and inserts them (``duckdb_load.py``)."""
        from cloudcost.warehouse.duckdb_load import land_deliveries

        return land_deliveries(self, session, job)

    def convert_to_focus(self, org: OrgConfig, source_format: str, fmt: RawFormat, run: RunContext) -> ConvertResult:
        """The format's procedure rendered with this org's tables and run (``duckdb_convert.py``)."""
        from cloudcost.warehouse.duckdb_convert import convert_to_focus

        return convert_to_focus(self, org.dataset, fmt.table, fmt.procedure, run)

    def register_lookups(self, session: DuckDBSession, names: list[str]) -> dict[str, str]:
        return register_lookups(session, names)

    def arrow_batches(
        self, session: DuckDBSession, sql: str, params: list[Any] | None, batch_rows: int
    ) -> Iterator[Any]:
        """Record batches of ``batch_rows`` rows, read while DuckDB produces them (nothing is held whole)."""
        yield from session.connection.sql(sql, params=params).to_arrow_reader(batch_rows)

    def tables(self, session: DuckDBSession, dataset: str) -> set[str]:
        # duckdb_tables(), not information_schema (a view over every catalog entry of every org): less time held
        rows = session.fetchall("select table_name from duckdb_tables() where schema_name = ?", [dataset])
        return {name.lower() for (name,) in rows}

    def table_exists(self, session: DuckDBSession, dataset: str, table: str) -> bool:
        return bool(
            session.fetchall("select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [dataset, table])
        )

    def columns(self, session: DuckDBSession, dataset: str, table: str) -> list[str]:
        rows = session.fetchall(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [dataset, table],
        )
        return [name for (name,) in rows]
