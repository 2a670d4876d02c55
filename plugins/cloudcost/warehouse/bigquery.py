"""BigQuery as the warehouse: one dataset per org (``<org>_prod``) in the configured project.

The pipeline's stages write their SQL in DuckDB's dialect; ``BigQuerySession.execute`` translates each
statement with ``cloudcost.warehouse.bigquery_sql`` (``$name`` and ``?`` stay bound parameters, never formatted in)
and runs it as a query job. ``run`` takes GoogleSQL as is. A ``transaction`` spans several jobs through a
BigQuery session (``BEGIN TRANSACTION`` ... ``COMMIT TRANSACTION``); slice replacement in ``land_deliveries``
and ``convert_to_focus`` does not need one: each is a single MERGE (``warehouse/bigquery_load.py``).

Credentials are the worker's Application Default Credentials: the warehouse is the deployment's, not an
org's, so its key does not live in the org vault.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from cloudcost.config import BigQuerySettings, DuckDBSettings
from cloudcost.schemas import TableSchema
from cloudcost.warehouse.base import SliceKey
from cloudcost.warehouse.bigquery_ddl import (
    add_column_ddl,
    column_name,
    create_dataset_ddl,
    create_table_ddl,
    table_ref,
)
from cloudcost.warehouse.bigquery_sql import duckdb_to_bigquery
from cloudcost.warehouse.conflicts import retry_concurrent_updates
from cloudcost.warehouse.duckdb import SchemaMigrationNeeded

if TYPE_CHECKING:
    from cloudcost.config import OrgConfig, RawFormat
    from cloudcost.core.results import ConvertResult, Landed
    from cloudcost.core.run_context import RunContext
    from cloudcost.warehouse.base import LandingJob

log = logging.getLogger(__name__)
T = TypeVar("T")

_INFORMATION_SCHEMA = re.compile(r"\binformation_schema\.(tables|columns)\b", re.IGNORECASE)


def query_parameter(name: str | None, value: Any) -> Any:
    """A typed ``ScalarQueryParameter`` (or array) for a Python value; ``name`` None for positional ``?``."""
    from google.cloud import bigquery

    if isinstance(value, list | tuple):
        kinds = {_scalar_type(v) for v in value if v is not None} or {"STRING"}
        if len(kinds) != 1:
            raise TypeError(f"parameter {name}: mixed element types {sorted(kinds)}")
        return bigquery.ArrayQueryParameter(name, kinds.pop(), list(value))
    return bigquery.ScalarQueryParameter(name, _scalar_type(value), value)


def _scalar_type(value: Any) -> str:
    if value is None:
        return "STRING"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        return "BIGNUMERIC"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, str):
        return "STRING"
    raise TypeError(f"no BigQuery parameter type for {type(value).__name__}")


def catalog_view(project: str, location: str, view: str) -> str:
    """A view of the region's INFORMATION_SCHEMA (DuckDB's catalog views are per database, BigQuery's per region
    of the project): it answers for a dataset that does not exist yet."""
    return f"`{project}`.`region-{location.lower()}`.INFORMATION_SCHEMA.{view}"


@functools.lru_cache(maxsize=512)
def _translated(sql: str, project: str, location: str) -> str:
    text = duckdb_to_bigquery(sql, pretty=False)
    return _INFORMATION_SCHEMA.sub(lambda m: catalog_view(project, location, m.group(1).upper()), text)


class BigQuerySession:
    """Query jobs of one client; inside ``transaction`` they share a BigQuery session."""

    def __init__(self, client: Any, project: str, location: str) -> None:
        self.client = client
        self.project = project
        self.location = location
        self.session_id: str | None = None

    def run(self, sql: str, params: list[Any] | dict[str, Any] | None = None, create_session: bool = False) -> Any:
        """Run GoogleSQL as one query job, values bound as query parameters; returns the finished job."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig()
        if isinstance(params, dict):
            config.query_parameters = [query_parameter(k, v) for k, v in params.items()]
        elif params:
            config.query_parameters = [query_parameter(None, v) for v in params]
        if create_session:
            config.create_session = True
        elif self.session_id:
            config.connection_properties = [bigquery.ConnectionProperty("session_id", self.session_id)]
        job = self.client.query(sql, job_config=config, location=self.location)
        job.result()
        if create_session:
            self.session_id = job.session_info.session_id
        return job

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """DuckDB-dialect SQL (what the stages write), translated to GoogleSQL, then ``run``."""
        return self.run(_translated(sql, self.project, self.location), params)

    def fetchall(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple]:
        return [tuple(row.values()) for row in self.execute(sql, params).result()]

    def close(self) -> None:
        if self.session_id:
            self.run("CALL BQ.ABORT_SESSION()")
            self.session_id = None


class BigQueryWarehouse:
    """The ``Warehouse`` interface on BigQuery (see ``warehouse/base.py``)."""

    name = "bigquery"

    def __init__(
        self,
        project: str,
        location: str,
        client_factory: Callable[[], Any] | None = None,
        worker: DuckDBSettings | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.project = project
        self.location = location
        self.sleep = sleep  # the pause between retries of an aborted transaction (``conflicts.py``); tests pass theirs
        self.worker = worker or DuckDBSettings()  # the worker's in-memory DuckDB that types rows before they load
        self._client_factory = client_factory
        self._client: Any = None
        self._known: set[str] = set()

    @classmethod
    def from_settings(cls, settings: BigQuerySettings, worker: DuckDBSettings | None = None) -> BigQueryWarehouse:
        return cls(settings.project, settings.location, worker=worker)

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                from google.cloud import bigquery

                self._client = bigquery.Client(project=self.project, location=self.location)
        return self._client

    def table(self, dataset: str, table: str) -> str:
        return table_ref(self.project, dataset, table)

    @contextmanager
    def session(self, dataset: str) -> Iterator[BigQuerySession]:
        """Jobs in the project (``dataset`` names the org's dataset in the SQL, not a connection)."""
        session = BigQuerySession(self.client, self.project, self.location)
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def transaction(self, session: BigQuerySession) -> Iterator[None]:
        """A multi-statement transaction over the session's jobs: all or nothing."""
        from google.api_core.exceptions import GoogleAPICallError

        session.run("BEGIN TRANSACTION", create_session=session.session_id is None)
        try:
            yield
        except BaseException:
            try:
                session.run("ROLLBACK TRANSACTION")
            except GoogleAPICallError as failed:
                # BigQuery may already have ended the transaction (cancelled for a concurrent update, or failed);
                # the caller must see the first error, not this one. Closing the session aborts whatever is left.
                log.warning("ROLLBACK TRANSACTION failed after an error (%s); the first error follows.", failed.message)
            raise
        session.run("COMMIT TRANSACTION")

    def retry_conflicts(self, work: Callable[[], T], what: str) -> T:
        """``work`` run again whole while BigQuery cancels its transaction for a concurrent update of the same
        table (the providers and days of one org share tables), within ``conflicts.DEFAULT_BOUND``."""
        return retry_concurrent_updates(work, what, sleep=self.sleep)

    def ensure_dataset(self, session: BigQuerySession, dataset: str) -> None:
        if dataset not in self._known:
            session.run(create_dataset_ddl(self.project, dataset, self.location))
            self._known.add(dataset)

    def ensure_table(self, session: BigQuerySession, dataset: str, schema: TableSchema) -> None:
        """Create the table (partitioned, clustered, expiring as configured), or add the nullable columns a
        newer schema introduced; a new NOT NULL column needs an explicit migration."""
        from google.api_core.exceptions import NotFound

        key = f"{dataset}.{schema.table}"
        if key in self._known:
            return
        self.ensure_dataset(session, dataset)
        try:
            existing = {field.name.lower() for field in self.client.get_table(f"{self.project}.{key}").schema}
        except NotFound:
            session.run(create_table_ddl(self.project, dataset, schema))
            existing = {c.name.lower() for c in schema.columns}
        for column in schema.columns:
            if column.name.lower() in existing:
                continue
            if not column.nullable:
                raise SchemaMigrationNeeded(
                    f"{self.table(dataset, schema.table)} lacks NOT NULL column {column.name}: migrate it explicitly"
                )
            session.run(add_column_ddl(self.project, dataset, schema.table, column.name, column.type))
        self._known.add(key)

    def delete_slice(self, session: BigQuerySession, key: SliceKey) -> int:
        conditions = " AND ".join(f"{column_name(col)} = @w{i}" for i, (col, _) in enumerate(key.where))
        params = {f"w{i}": value for i, (_, value) in enumerate(key.where)}
        job = session.run(f"DELETE FROM {self.table(key.dataset, key.table)} WHERE {conditions}", params)
        return int(job.num_dml_affected_rows or 0)

    def land_deliveries(self, session: BigQuerySession, job: LandingJob) -> Landed:
        """Typed rows staged by a load job, then one MERGE per delivery (``bigquery_load.py``)."""
        from cloudcost.warehouse.bigquery_load import land_deliveries

        return land_deliveries(self, session, job)

    def convert_to_focus(self, org: OrgConfig, source_format: str, fmt: RawFormat, run: RunContext) -> ConvertResult:
        """CALL the org's stored procedure, created or replaced when its digest changed (``bigquery_load.py``)."""
        from cloudcost.warehouse.bigquery_load import convert_to_focus

        return convert_to_focus(self, org, source_format, run)

    def register_lookups(self, session: BigQuerySession, names: list[str]) -> dict[str, str]:
        from cloudcost.warehouse.bigquery_load import refresh_lookups

        return refresh_lookups(self, session, names)

    def arrow_batches(
        self, session: BigQuerySession, sql: str, params: list[Any] | None, batch_rows: int
    ) -> Iterator[Any]:
        """The query's result pages as Arrow record batches (BigQuery decides the page size; ``batch_rows`` is
        DuckDB's knob). BIGNUMERIC arrives as ``decimal256(76, 38)``: callers cast to the schema's type."""
        yield from session.execute(sql, params).result().to_arrow_iterable()

    def tables(self, session: BigQuerySession, dataset: str) -> set[str]:
        """Table names of one dataset, from the region's catalog (a dataset not created yet has none); the dataset
        travels as a bound parameter."""
        view = catalog_view(self.project, self.location, "TABLES")
        rows = session.run(
            f"SELECT table_name FROM {view} WHERE table_schema = @dataset", {"dataset": dataset}
        ).result()
        return {row[0].lower() for row in rows}

    def table_exists(self, session: BigQuerySession, dataset: str, table: str) -> bool:
        return table.lower() in self.tables(session, dataset)

    def columns(self, session: BigQuerySession, dataset: str, table: str) -> list[str]:
        """Column names in table order; empty for a missing table or dataset."""
        view = catalog_view(self.project, self.location, "COLUMNS")
        rows = session.run(
            f"SELECT column_name FROM {view} WHERE table_schema = @dataset AND table_name = @table "
            "ORDER BY ordinal_position",
            {"dataset": dataset, "table": table},
        ).result()
        return [row[0] for row in rows]
