"""AWS Data Exports (CUR 2.0 and FOCUS 1.2) as delivered to S3, or to a local folder with the same layout.

Layout (AWS documentation, "Understanding export delivery")::

    <prefix>/<export-name>/data/BILLING_PERIOD=YYYY-MM/[<timestamp>-<execution-id>/]<export-name>-00001.snappy.parquet
    <prefix>/<export-name>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json

The manifest is written after every data file and always points at the latest refresh, so it is the
only list of files we trust (an overwrite refresh may leave stale chunks behind in the folder).
A refresh is month to date: the day it was written on is still partial. A day counts as delivered in
full once the manifest was (re)written after the day's end plus ``export_lag_hours``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from cloudcost.sources.base import BadExport, ExportBatch, ExportNotReady, ExportStatus
from cloudcost.sources.object_store import ObjectStore
from cloudcost.sources.streaming import (
    day_closed,
    declared_incomplete,
    modified_at,
    require_complete,
    stream_objects,
)


@dataclass(frozen=True)
class DataExportManifest:
    key: str
    billing_period: str
    execution_id: str | None
    data_files: tuple[str, ...]


def billing_period_of(day: date) -> str:
    return f"{day:%Y-%m}"


def _object_key(entry: object, manifest_key: str) -> str:
    """A ``dataFiles`` entry is an ``s3://bucket/key`` URI (or, in some deliveries, ``{"s3Uri"|"key": ...}``)."""
    if isinstance(entry, dict):
        entry = entry.get("s3Uri") or entry.get("key")
    if not isinstance(entry, str) or not entry:
        raise BadExport(f"{manifest_key}: key 'dataFiles': entry {entry!r} is not an S3 URI or key")
    if entry.startswith("s3://"):
        bucket_and_key = entry[len("s3://") :]
        if "/" not in bucket_and_key:
            raise BadExport(f"{manifest_key}: key 'dataFiles': {entry!r} has no object key")
        return bucket_and_key.split("/", 1)[1]
    return entry.lstrip("/")


class AwsDataExport:
    """One Data Exports export (CUR 2.0 or FOCUS 1.2) of one org."""

    def __init__(self, store: ObjectStore, prefix: str, export_name: str, format: str, lag_hours: float = 0) -> None:
        self.store = store
        self.lag_hours = lag_hours
        self.root = f"{prefix.strip('/')}/{export_name}" if prefix.strip("/") else export_name
        self.export_name = export_name
        self.format = format

    def manifest_key(self, billing_period: str) -> str:
        return f"{self.root}/metadata/BILLING_PERIOD={billing_period}/{self.export_name}-Manifest.json"

    def read_manifest(self, billing_period: str) -> DataExportManifest:
        key = self.manifest_key(billing_period)
        if not self.store.exists(key):
            raise ExportNotReady(f"{self.store.uri}/{key}: manifest not delivered yet")
        with self.store.open(key) as handle:
            raw = handle.read()
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadExport(f"{key}: manifest is not valid JSON: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("dataFiles"), list):
            raise BadExport(f"{key}: key 'dataFiles': missing or not a list")
        files = tuple(_object_key(entry, key) for entry in document["dataFiles"])
        execution_id = document.get("executionId")
        return DataExportManifest(key, billing_period, str(execution_id) if execution_id else None, files)

    def status(self, day: date) -> ExportStatus:
        """Complete when the period's manifest exists and every data file it lists is present."""
        try:
            manifest = self.read_manifest(billing_period_of(day))
        except ExportNotReady as exc:
            return ExportStatus(False, str(exc))
        missing = [key for key in manifest.data_files if not self.store.exists(key)]
        if missing:
            return ExportStatus(
                False,
                f"{manifest.key} lists {len(missing)} data file(s) not present yet, first: {missing[0]}",
                manifest.execution_id,
            )
        # AWS's FOCUS export may say of itself that it is incomplete (a completion-status column); CUR 2.0 has
        # no such column, so its files are not read here
        if self.format == "focus_1_2" and (reason := declared_incomplete(self.store, manifest.data_files)):
            return ExportStatus(False, reason, manifest.execution_id)
        delivered, due = modified_at(self.store, manifest.key), day_closed(day, self.lag_hours)
        if delivered is not None and delivered < due:
            return ExportStatus(
                False,
                f"{manifest.key} was delivered at {delivered.isoformat()}, before {due.isoformat()} "
                f"(the end of {day} + {self.lag_hours:g} h): {day} may still be partial",
                manifest.execution_id,
            )
        return ExportStatus(True, "manifest and all data files present", manifest.execution_id, manifest.data_files)

    def iter_batches(self, day: date, string_columns: list[str]) -> Iterator[ExportBatch]:
        """Every record batch of the period's files; the caller keeps the rows of ``day``."""
        yield from stream_objects(self.store, require_complete(self.status(day)).objects, string_columns)
