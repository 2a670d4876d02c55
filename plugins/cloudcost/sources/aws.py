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

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cloudcost.sources.base import BadExport, Delivery, DeliveryFile, ExportNotReady, ExportStatus
from cloudcost.sources.completeness import (
    day_closed,
    declared_incomplete,
    fingerprint,
    modified_at,
    month_of,
    object_infos,
    require_complete,
)
from cloudcost.sources.object_store import ObjectStore
from cloudcost.sources.spool import local_path


@dataclass(frozen=True)
class DataExportManifest:
    key: str
    billing_period: str
    execution_id: str | None
    data_files: tuple[str, ...]
    digest: str = ""

    @property
    def version(self) -> str:
        """The execution id; a manifest without one is identified by its content."""
        return self.execution_id or f"manifest sha1 {self.digest}"


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
        self._declared: dict[tuple[str, str], str | None] = {}  # per manifest and files' fingerprint

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
        digest = hashlib.sha1(raw).hexdigest()[:12]
        return DataExportManifest(key, billing_period, str(execution_id) if execution_id else None, files, digest)

    def status(self, day: date) -> ExportStatus:
        """Complete when the period's manifest exists and every data file it lists is present."""
        return self._evaluate(day)[0]

    def _evaluate(self, day: date) -> tuple[ExportStatus, DataExportManifest | None]:
        try:
            manifest = self.read_manifest(billing_period_of(day))
        except ExportNotReady as exc:
            return ExportStatus(False, str(exc)), None
        return self._judge(day, manifest), manifest

    def _judge(self, day: date, manifest: DataExportManifest) -> ExportStatus:
        infos = object_infos(self.store, manifest.data_files)
        missing = [key for key in manifest.data_files if key not in infos]
        if missing:
            return ExportStatus(
                False,
                f"{manifest.key} lists {len(missing)} data file(s) not present yet, first: {missing[0]}",
                manifest.version,
            )
        # AWS's FOCUS export may say of itself that it is incomplete (a completion-status column); CUR 2.0 has
        # no such column, so its files are not read here. Read once per manifest version.
        if self.format == "focus_1_2":
            seen = (manifest.key, fingerprint(infos.values()))
            if seen not in self._declared:
                self._declared[seen] = declared_incomplete(self.store, manifest.data_files)
            if reason := self._declared[seen]:
                return ExportStatus(False, reason, manifest.version)
        delivered, due = modified_at(self.store, manifest.key), day_closed(day, self.lag_hours)
        if delivered is not None and delivered < due:
            return ExportStatus(
                False,
                f"{manifest.key} was delivered at {delivered.isoformat()}, before {due.isoformat()} "
                f"(the end of {day} + {self.lag_hours:g} h): {day} may still be partial",
                manifest.version,
            )
        objects = manifest.data_files
        return ExportStatus(
            True, "manifest and all data files present", manifest.version, objects, fingerprint(infos.values())
        )

    def deliveries(self, day: date) -> list[Delivery]:
        """The billing period's delivery: every file of the manifest, the whole truth for every day of the period."""
        status, manifest = self._evaluate(day)
        require_complete(status)
        assert manifest is not None
        files = tuple(DeliveryFile(key) for key in manifest.data_files)
        return [Delivery(manifest.key, manifest.version, files, month_of(day), status.fingerprint)]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        return local_path(self.store, file.key, directory)
