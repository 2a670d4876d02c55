"""What every provider's export reader gives the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pyarrow as pa


class ExportNotReady(RuntimeError):
    """The export for the requested interval is absent or incomplete; the sensor keeps waiting."""


class BadExport(ValueError):
    """The export is present but wrong (e.g. its manifest lists a file that is not there)."""


@dataclass(frozen=True)
class ExportStatus:
    complete: bool
    reason: str
    version: str | None = None
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportBatch:
    source_object: str
    row_offset: int
    batch: pa.RecordBatch


class BillingExport(Protocol):
    """One org's export of one provider in one format."""

    format: str

    def status(self, day: date) -> ExportStatus: ...

    def iter_batches(self, day: date, string_columns: list[str]) -> Iterator[ExportBatch]: ...
