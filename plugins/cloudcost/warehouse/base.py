"""The interface every warehouse back end implements."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from cloudcost.schemas import TableSchema


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
    """What the stages need from a back end. The DuckDB one is today's only implementation; BigQuery's
    will add a load path for Arrow batches (DuckDB registers them as views)."""

    name: str

    def session(self) -> AbstractContextManager[Session]: ...

    def ensure_table(self, session: Session, dataset: str, schema: TableSchema) -> None: ...

    def transaction(self, session: Session) -> AbstractContextManager[None]: ...

    def delete_slice(self, session: Session, key: SliceKey) -> int: ...
