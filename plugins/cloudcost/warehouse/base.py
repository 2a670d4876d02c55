"""The interface every warehouse back end implements: the pipeline names no engine and branches on none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cloudcost.schemas import TableSchema

if TYPE_CHECKING:
    import pyarrow as pa

    from cloudcost.config import OrgConfig, RawFormat
    from cloudcost.core.results import ConvertResult, Landed
    from cloudcost.core.run_context import RunContext
    from cloudcost.sources.base import BillingExport, Delivery


@dataclass(frozen=True)
class SliceKey:
    """The unit a run replaces: one table, and equality on a few columns (e.g. provider and day)."""

    dataset: str
    table: str
    where: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, dataset: str, table: str, **where: Any) -> SliceKey:
        return cls(dataset, table, tuple(sorted(where.items())))


@dataclass(frozen=True)
class LandingJob:
    """What one landing needs, built once by the pipeline (``land_guarded``): the deliveries of ``export`` still
    to land, into ``schema``'s table of ``dataset``, for ``run``. One value, so the interface and both engines'
    landing code take ``(session, job)`` instead of repeating the parameter list."""

    export: BillingExport
    deliveries: tuple[Delivery, ...]
    schema: TableSchema
    dataset: str
    run: RunContext


class Session(Protocol):
    """One transaction-capable connection."""

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any: ...

    def fetchall(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple]: ...


SessionT = TypeVar("SessionT", bound=Session)
T = TypeVar("T")


class Warehouse(Protocol[SessionT]):
    """What the stages and the features (rollups, evaluation, report, export, health) need from a
    back end: DuckDB (``duckdb.py``) and BigQuery (``bigquery.py``) implement all
    of it. SQL the pipeline sends through a ``Session`` is DuckDB's dialect (BigQuery's session translates it);
    what differs by engine (landing files, running the convert procedure, loading lookups) is a method here. A
    warehouse takes back only the sessions it opened (``SessionT``); code that works on any writes ``Warehouse``."""

    name: str

    def session(self, dataset: str) -> AbstractContextManager[SessionT]:
        """A session for work on the org dataset ``dataset`` (and the shared lookups): DuckDB opens that dataset's
        own file, BigQuery runs in its project whatever the dataset. Sessions nest within a process."""
        ...

    def ensure_table(self, session: SessionT, dataset: str, schema: TableSchema) -> None: ...

    def transaction(self, session: SessionT) -> AbstractContextManager[None]: ...

    def retry_conflicts(self, work: Callable[[], T], what: str) -> T:
        """``work()``, which opens its own session and transaction, run again whole while the engine cancels that
        transaction because another writer holds the same table (``warehouse/conflicts.py``); ``what`` names it in
        the log. Every other error propagates at once."""
        ...

    def delete_slice(self, session: SessionT, key: SliceKey) -> int: ...

    def land_deliveries(self, session: SessionT, job: LandingJob) -> Landed:
        """Replace what each of the job's deliveries covers (its billing days, or its own files' rows) by its
        typed rows, in the caller's transaction; each file's rows as announced and no two files identical, else
        raise."""
        ...

    def convert_to_focus(self, org: OrgConfig, source_format: str, fmt: RawFormat, run: RunContext) -> ConvertResult:
        """Replace the run's (provider, day) slice of the org's FOCUS 1.3 table by the format's procedure, and in the
        same transaction its FOCUS 1.4 slice and the 1.4 billing periods it holds (``warehouse/focus_1_4.py``)."""
        ...

    def register_lookups(self, session: SessionT, names: list[str]) -> dict[str, str]:
        """(Re)load the named ``configs/lookups/*.csv`` tables; returns name -> table reference."""
        ...

    def arrow_batches(
        self, session: SessionT, sql: str, params: list[Any] | None, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """The rows of one query as Arrow record batches (the export and validate paths stream them)."""
        ...

    def tables(self, session: SessionT, dataset: str) -> set[str]: ...

    def table_exists(self, session: SessionT, dataset: str, table: str) -> bool: ...

    def columns(self, session: SessionT, dataset: str, table: str) -> list[str]: ...
