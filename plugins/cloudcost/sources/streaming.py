"""The loops every export reader shares: stream a list of objects as batches, find a column's latest value."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pyarrow.compute as pc

from cloudcost.sources.base import ExportBatch, ExportNotReady, ExportStatus
from cloudcost.sources.object_store import ObjectStore
from cloudcost.sources.readers import UnreadableExportFile, iter_batches


def day_closed(day: date, lag_hours: float) -> datetime:
    """When a delivery must have been written for it to hold ``day`` in full: the day's end plus the lag."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + timedelta(hours=lag_hours)


def modified_at(store: ObjectStore, key: str) -> datetime | None:
    """The object's last-modified time as the store reports it (S3 LastModified, blob Last-Modified, mtime)."""
    return next((info.modified for info in store.list(key) if info.key == key), None)


def require_complete(status: ExportStatus) -> ExportStatus:
    """Loading an incomplete export is refused with the reason the sensor would give."""
    if not status.complete:
        raise ExportNotReady(status.reason)
    return status


def stream_objects(store: ObjectStore, keys: Iterable[str], string_columns: list[str]) -> Iterator[ExportBatch]:
    """Every record batch of ``keys`` in order, each with its object name and row offset in that object."""
    for key in keys:
        offset = 0
        with store.open(key) as handle:
            for batch in iter_batches(handle, key, string_columns):
                yield ExportBatch(key, offset, batch)
                offset += batch.num_rows


def latest_value(
    store: ObjectStore, keys: Iterable[str], column: str, parse: Callable[[object], datetime]
) -> datetime | None:
    """The greatest ``column`` value across ``keys`` (a completeness watermark), parsed; None if none."""
    latest = None
    for item in stream_objects(store, keys, [column]):
        if column not in item.batch.schema.names or item.batch.num_rows == 0:
            continue
        value = pc.max(item.batch.column(column)).as_py()
        if value:
            moment = parse(value)
            latest = moment if latest is None or moment > latest else latest
    return latest


COMPLETION_COLUMNS = ("x_DatasetCompletionStatus", "DatasetCompletionStatus")


def declared_incomplete(store: ObjectStore, keys: Iterable[str]) -> str | None:
    """Why the export says of itself that it is not complete, or None: a completion-status column
    (``x_DatasetCompletionStatus``, as FOCUS data generators add it) whose value is not ``Complete``.
    A file that cannot be read is not judged here: loading it fails with an error that names it."""
    try:
        return _declared_incomplete(store, keys)
    except UnreadableExportFile:
        return None


def _declared_incomplete(store: ObjectStore, keys: Iterable[str]) -> str | None:
    for item in stream_objects(store, keys, list(COMPLETION_COLUMNS)):
        for column in COMPLETION_COLUMNS:
            if column not in item.batch.schema.names:
                continue
            values = pc.unique(item.batch.column(column).cast("string")).to_pylist()
            bad = sorted({str(v) for v in values if v is None or str(v).strip().lower() != "complete"})
            if bad:
                return f"{item.source_object}: column {column} says {', '.join(repr(v) for v in bad)}, not 'Complete'"
    return None
