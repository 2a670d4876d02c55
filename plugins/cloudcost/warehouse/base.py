"""The interface every warehouse back end implements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cloudcost.schemas import TableSchema

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class SliceKey:
    """The unit a run replaces: one table, and equality on a few columns (e.g. provider and day)."""

    dataset: str
    table: str
    where: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, dataset: str, table: str, **where: Any) -> SliceKey:
        return cls(dataset, table, tuple(sorted(where.items())))


class Session(Protocol):
    """One transaction-capable connection."""

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any: ...

    def fetchall(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple]: ...


class Warehouse(Protocol):
    """What the stages and the features (rollups, evaluation, report, export, health) need from a back end;
    ``DuckDBWarehouse`` and ``BigQueryWarehouse`` implement it. SQL goes in DuckDB's dialect; a back end with
    another dialect translates it."""

    name: str

    def session(self) -> AbstractContextManager[Session]: ...

    def ensure_table(self, session: Session, dataset: str, schema: TableSchema) -> None: ...

    def transaction(self, session: Session) -> AbstractContextManager[None]: ...

    def delete_slice(self, session: Session, key: SliceKey) -> int: ...

    def arrow_batches(
        self, session: Session, sql: str, params: list[Any] | None, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """The rows of one query as Arrow record batches (the export and validate paths stream them)."""
        ...

    def tables(self, session: Session, dataset: str) -> set[str]: ...

    def table_exists(self, session: Session, dataset: str, table: str) -> bool: ...

    def columns(self, session: Session, dataset: str, table: str) -> list[str]: ...
