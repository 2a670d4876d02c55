"""Google Cloud Billing detailed export: the BigQuery table's rows, or the same rows in local files.

Embedded default layout (one folder per usage day, rows as BigQuery exports them — nested records,
repeated labels and credits)::

    <prefix>/<table>/usage_date=YYYY-MM-DD/<any name>.parquet | .jsonl.gz | .json | .csv(.gz)

GCP writes no "final" flag: rows for a usage day keep arriving for a while. The export is complete
for a day when its ``MAX(export_time)`` has passed the day's end by the configured lag; that watermark
is also the slice's source version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from cloudcost.sources.base import Delivery, DeliveryFile, ExportStatus
from cloudcost.sources.completeness import fingerprint, latest_values, require_complete
from cloudcost.sources.export_file import SUFFIXES, UnreadableExportFile
from cloudcost.sources.object_store import ObjectInfo, ObjectStore
from cloudcost.sources.spool import local_path


def parse_export_time(value: object) -> datetime:
    """``export_time`` as Arrow gives it: a timestamp, or text such as ``2022-08-02 01:11:12.066 UTC``."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GcpBillingExportFiles:
    """One org's detailed billing export, read from files laid out per usage day."""

    def __init__(self, store: ObjectStore, prefix: str, table: str, format: str, lag_hours: float) -> None:
        self.store = store
        self.root = f"{prefix.strip('/')}/{table}" if prefix.strip("/") else table
        self.format = format
        self.lag = timedelta(hours=lag_hours)

    def day_prefix(self, day: date) -> str:
        return f"{self.root}/usage_date={day.isoformat()}/"

    def _listed(self, day: date) -> list[ObjectInfo]:
        return [o for o in self.store.list(self.day_prefix(day)) if o.key.lower().endswith(SUFFIXES)]

    def status(self, day: date) -> ExportStatus:
        listed = self._listed(day)
        objects = [o.key for o in listed]
        if not objects:
            return ExportStatus(False, f"{self.store.uri}/{self.day_prefix(day)}: no rows exported yet")
        try:
            marks = latest_values(self.store, objects, "export_time", parse_export_time, {o.key: o for o in listed})
        except UnreadableExportFile as unreadable:
            # a file still being uploaded: wait for it (one that stays broken fails the sensor at its timeout)
            return ExportStatus(False, f"not readable yet (still being written?): {unreadable}")
        mark = max((m for m in marks.values() if m is not None), default=None)
        if mark is None:
            return ExportStatus(False, f"{self.day_prefix(day)}: no export_time in the day's rows")
        due = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + self.lag
        if mark < due:
            return ExportStatus(
                False,
                f"{self.day_prefix(day)}: export_time watermark {mark.isoformat()} has not reached {due.isoformat()} "
                f"(day end + {self.lag.total_seconds() / 3600:g} h)",
                mark.isoformat(),
            )
        reason = f"watermark {mark.isoformat()} past day end + lag"
        return ExportStatus(True, reason, mark.isoformat(), tuple(objects), fingerprint(listed))

    def deliveries(self, day: date) -> list[Delivery]:
        """The usage day's files at its watermark: the whole truth for that one day."""
        status = require_complete(self.status(day))
        files = tuple(DeliveryFile(key) for key in status.objects)
        return [Delivery(self.day_prefix(day), status.version or "", files, (day, day), status.fingerprint)]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        return local_path(self.store, file.key, directory)
