"""OCI cost reports, as Oracle writes them to the ``bling`` namespace (bucket = tenancy OCID).

Reports land every few hours under ``reports/cost-csv/`` with no manifest, and corrections arrive as
new rows in later reports, so the object name is the unit of loading: a day's slice is rebuilt from
every report that holds rows for it. The day counts as complete once the reports' latest
``intervalUsageEnd`` has passed the day's end by the configured lag.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from cloudcost.sources.base import Delivery, DeliveryFile, ExportStatus
from cloudcost.sources.completeness import fingerprint, latest_values, require_complete
from cloudcost.sources.gcp import parse_export_time
from cloudcost.sources.object_store import ObjectInfo, ObjectStore
from cloudcost.sources.spool import local_path

END_COLUMN = "lineItem/intervalUsageEnd"


def _parse_oci_time(value: object) -> datetime:
    text = str(value).strip()
    if len(text) == len("2023-11-13T10:00Z"):  # OCI drops the seconds
        text = text[:-1] + ":00Z"
    return parse_export_time(text)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class OciCostReports:
    """All cost reports under one prefix of one tenancy's bucket.

    A report is written after the usage it holds, so a report written before a moment cannot hold usage ending
    after it: the sensor reads the end column only of the reports written after the day's end plus the lag,
    and a day's run lands only the reports written since the day began (each once; see ``deliveries``).
    """

    def __init__(self, store: ObjectStore, prefix: str, format: str, lag_hours: float) -> None:
        self.store = store
        self.prefix = prefix.strip("/") + "/"
        self.format = format
        self.lag = timedelta(hours=lag_hours)

    def reports(self) -> list[ObjectInfo]:
        listed = self.store.list(self.prefix)
        return sorted((o for o in listed if o.key.lower().endswith((".csv", ".csv.gz"))), key=lambda o: o.key)

    def _latest_ends(self, reports: list[ObjectInfo]) -> list[datetime | None]:
        """Each report's latest usage end: read once per report version, by whichever process first asks."""
        infos = {r.key: r for r in reports}
        return list(latest_values(self.store, list(infos), END_COLUMN, _parse_oci_time, infos).values())

    def status(self, day: date) -> ExportStatus:
        reports = self.reports()
        if not reports:
            return ExportStatus(False, f"{self.store.uri}/{self.prefix}: no cost reports yet")
        due = _day_start(day + timedelta(days=1)) + self.lag
        recent = [r for r in reports if r.modified is None or r.modified >= due]
        ends = [end for end in self._latest_ends(recent) if end is not None]
        mark = max(ends, default=None)
        if mark is None or mark < due:
            seen = mark.isoformat() if mark else "none"
            return ExportStatus(
                False,
                f"{self.prefix}: latest usage in the {len(recent)} report(s) written since {due.isoformat()} "
                f"ends {seen}, before {due.isoformat()}",
            )
        objects = tuple(r.key for r in self._holding(day, reports))
        return ExportStatus(True, f"reports cover usage up to {mark.isoformat()}", f"{len(objects)} reports", objects)

    def _holding(self, day: date, reports: list[ObjectInfo]) -> list[ObjectInfo]:
        """The reports that may hold rows of ``day``: those written since it began."""
        return [r for r in reports if r.modified is None or r.modified >= _day_start(day)]

    def deliveries(self, day: date) -> list[Delivery]:
        """Each report that may hold rows of ``day`` is its own delivery (a report is never rewritten; corrections
        come as new reports), landed once whatever days its rows are for."""
        require_complete(self.status(day))
        return [
            Delivery(report.key, _version(report), (DeliveryFile(report.key),), None, fingerprint([report]))
            for report in self._holding(day, self.reports())
        ]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        return local_path(self.store, file.key, directory)


def _version(report: ObjectInfo) -> str:
    written = report.modified.isoformat() if report.modified else "unknown time"
    return f"{report.size} bytes written {written}"
