"""What every provider's export reader gives the pipeline: a status for the sensor, and the deliveries a day is
made of, each with the files to land."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol


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
    fingerprint: str = ""


@dataclass(frozen=True)
class DeliveryFile:
    """One file of a delivery. ``constants``: raw columns the reader sets for every row of the file (Azure's
    ``x_cost_dataset``); ``expected_rows``: the data rows ``manifest`` announces for it."""

    key: str
    expected_rows: int | None = None
    constants: tuple[tuple[str, str], ...] = ()
    manifest: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What a provider delivered at once, and is landed at once: an AWS manifest's execution, an Azure export
    run pair, a GCP usage day at its watermark, an OCI report object.

    A newer ``version`` of the same ``key`` replaces it; ``fingerprint`` (the files' sizes and times) tells a
    delivery rewritten in place under the same version from the one landed. A delivery with ``days`` (first,
    last) is the whole truth for those billing days: landing it replaces every raw row of them, and a row of
    another day is an error. One without (OCI) replaces only the rows read from its own files: a day is the
    sum of many."""

    key: str
    version: str
    files: tuple[DeliveryFile, ...]
    days: tuple[date, date] | None = None
    fingerprint: str = ""

    def covered_days(self) -> list[date]:
        """Every billing day the delivery is the whole truth for (none for one that replaces only its files)."""
        from cloudcost.billing_window import days_from

        return days_from(*self.days) if self.days is not None else []


class BillingExport(Protocol):
    """One org's export of one provider in one format."""

    format: str

    def status(self, day: date) -> ExportStatus:
        """Whether ``day`` is complete in the export (what the sensor waits for)."""
        ...

    def deliveries(self, day: date) -> list[Delivery]:
        """The deliveries a complete ``day`` is made of; raises ``ExportNotReady`` while it is incomplete."""
        ...

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        """``file`` as a local file DuckDB can read: the file itself in a local landing zone, else a copy
        streamed into ``directory`` (created 0600)."""
        ...
