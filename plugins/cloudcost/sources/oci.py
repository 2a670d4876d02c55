"""OCI cost reports, as Oracle writes them to the ``bling`` namespace (bucket = tenancy OCID).

Reports land every few hours under ``reports/cost-csv/`` with no manifest, and corrections arrive as
new rows in later reports, so the object name is the unit of loading: a day's slice is rebuilt from
every report that holds rows for it. The day counts as complete once the reports' latest
``intervalUsageEnd`` has passed the day's end by the configured lag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from cloudcost.sources.base import ExportBatch, ExportStatus
from cloudcost.sources.gcp import parse_export_time
from cloudcost.sources.object_store import ObjectStore
from cloudcost.sources.streaming import latest_value, require_complete, stream_objects

END_COLUMN = "lineItem/intervalUsageEnd"


def _parse_oci_time(value: object) -> datetime:
    text = str(value).strip()
    if len(text) == len("2023-11-13T10:00Z"):  # OCI drops the seconds
        text = text[:-1] + ":00Z"
    return parse_export_time(text)


class OciCostReports:
    """All cost reports under one prefix of one tenancy's bucket."""

    def __init__(self, store: ObjectStore, prefix: str, format: str, lag_hours: float) -> None:
        self.store = store
        self.prefix = prefix.strip("/") + "/"
        self.format = format
        self.lag = timedelta(hours=lag_hours)

    def reports(self) -> list[str]:
        return sorted(o.key for o in self.store.list(self.prefix) if o.key.lower().endswith((".csv", ".csv.gz")))

    def watermark(self, reports: list[str]) -> datetime | None:
        return latest_value(self.store, reports, END_COLUMN, _parse_oci_time)

    def status(self, day: date) -> ExportStatus:
        reports = self.reports()
        if not reports:
            return ExportStatus(False, f"{self.store.uri}/{self.prefix}: no cost reports yet")
        mark = self.watermark(reports)
        due = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + self.lag
        version = f"{len(reports)} reports, sha1 {hashlib.sha1('|'.join(reports).encode()).hexdigest()[:12]}"
        if mark is None or mark < due:
            seen = mark.isoformat() if mark else "none"
            return ExportStatus(False, f"{self.prefix}: latest usage in reports ends {seen}, before {due.isoformat()}")
        return ExportStatus(True, f"reports cover usage up to {mark.isoformat()}", version, tuple(reports))

    def iter_batches(self, day: date, string_columns: list[str]) -> Iterator[ExportBatch]:
        yield from stream_objects(self.store, require_complete(self.status(day)).objects, string_columns)
