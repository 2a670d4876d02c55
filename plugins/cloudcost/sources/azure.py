"""Azure Cost Management exports (cost details), as delivered to Blob Storage or a local folder.

Layout of a partitioned export (one folder per run, ``manifest.json`` written last)::

    <prefix>/<export-name>/<YYYYMMDD-YYYYMMDD>/<run>/[<guid>/]part_0_0001.csv.gz  + manifest.json

Following the FinOps toolkit's conversion, an org exports both *amortized* cost (every usage row, with
commitments spread over the usage they cover) and *actual* cost (what is invoiced, including
commitment purchases and refunds). Each run's manifest lists its blobs and row counts: the export is
complete for a month when both manifests exist and every blob they list is present; while reading,
each blob's row count must match the manifest. A run covers the month to date, so a day is complete
once both runs were submitted (``runInfo.submittedTime``) after the day's end plus ``export_lag_hours``.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa

from cloudcost.sources.base import BadExport, ExportBatch, ExportStatus
from cloudcost.sources.object_store import ObjectStore
from cloudcost.sources.streaming import day_closed, require_complete, stream_objects

DATASET_COLUMN = "x_cost_dataset"


@dataclass(frozen=True)
class AzureRun:
    dataset: str  # "amortized" or "actual"
    manifest_key: str
    run_id: str
    blobs: tuple[tuple[str, int | None], ...]  # (blob name, dataRowCount)
    submitted: datetime | None = None  # runInfo.submittedTime


def month_folder(day: date) -> str:
    last = calendar.monthrange(day.year, day.month)[1]
    return f"{day:%Y%m}01-{day:%Y%m}{last:02d}"


def _parse_time(text: str, manifest_key: str) -> datetime | None:
    """``runInfo.submittedTime`` (ISO 8601, ``Z``, up to 7 fractional digits as .NET writes them)."""
    if not text:
        return None
    main, _, fraction = text.strip().removesuffix("Z").partition(".")
    try:
        moment = datetime.fromisoformat(main + (f".{fraction[:6]}" if fraction else ""))
    except ValueError:
        raise BadExport(f"{manifest_key}: key 'runInfo.submittedTime': {text!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=moment.tzinfo or UTC)


class AzureCostExport:
    """One org's pair of Azure cost-details exports (amortized + actual) for a billing month."""

    def __init__(
        self, store: ObjectStore, prefix: str, amortized: str, actual: str, format: str, lag_hours: float = 0
    ) -> None:
        self.store = store
        self.lag_hours = lag_hours
        self.prefix = prefix.strip("/")
        self.exports = {"amortized": amortized, "actual": actual}
        self.format = format

    def _root(self, export_name: str, day: date) -> str:
        base = f"{self.prefix}/{export_name}" if self.prefix else export_name
        return f"{base}/{month_folder(day)}/"

    def latest_run(self, dataset: str, day: date) -> AzureRun | None:
        """The newest run of the month that has a manifest (by its runInfo.submittedTime, then name)."""
        manifests = [
            o.key for o in self.store.list(self._root(self.exports[dataset], day)) if o.key.endswith("manifest.json")
        ]
        runs = []
        for key in manifests:
            with self.store.open(key) as handle:
                try:
                    document = json.loads(handle.read())
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise BadExport(f"{key}: manifest is not valid JSON: {exc}") from exc
            blobs = document.get("blobs")
            if not isinstance(blobs, list):
                raise BadExport(f"{key}: key 'blobs': missing or not a list")
            run_info = document.get("runInfo") or {}
            submitted = str(run_info.get("submittedTime") or "")
            listed = tuple((str(b["blobName"]), b.get("dataRowCount")) for b in blobs)
            counts = [count for _, count in listed]
            if "dataRowCount" in document and None not in counts and sum(counts) != document["dataRowCount"]:
                raise BadExport(f"{key}: blob row counts do not add up to dataRowCount {document['dataRowCount']}")
            run_id = str(run_info.get("runId") or key.rsplit("/", 2)[-2])
            runs.append((submitted, key, AzureRun(dataset, key, run_id, listed, _parse_time(submitted, key))))
        return max(runs)[2] if runs else None

    def status(self, day: date) -> ExportStatus:
        objects, versions = [], []
        for dataset in ("amortized", "actual"):
            run = self.latest_run(dataset, day)
            if run is None:
                return ExportStatus(
                    False, f"{self.store.uri}/{self._root(self.exports[dataset], day)}: no {dataset} manifest yet"
                )
            missing = [name for name, _ in run.blobs if not self.store.exists(name)]
            if missing:
                return ExportStatus(
                    False, f"{run.manifest_key} lists {len(missing)} blob(s) not present, first: {missing[0]}"
                )
            due = day_closed(day, self.lag_hours)
            if run.submitted is not None and run.submitted < due:
                return ExportStatus(
                    False,
                    f"{run.manifest_key}: run {run.run_id} was submitted at {run.submitted.isoformat()}, before "
                    f"{due.isoformat()} (the end of {day} + {self.lag_hours:g} h): {day} may still be partial",
                )
            objects += [name for name, _ in run.blobs]
            versions.append(f"{dataset}:{run.run_id}")
        return ExportStatus(True, "both manifests and all their blobs present", ";".join(versions), tuple(objects))

    def iter_batches(self, day: date, string_columns: list[str]) -> Iterator[ExportBatch]:
        require_complete(self.status(day))
        for dataset in ("amortized", "actual"):
            run = self.latest_run(dataset, day)
            assert run is not None
            for name, expected_rows in run.blobs:
                rows = 0
                for item in stream_objects(self.store, [name], string_columns):
                    tag = pa.array([dataset] * item.batch.num_rows, type=pa.string())
                    yield ExportBatch(name, item.row_offset, item.batch.append_column(DATASET_COLUMN, tag))
                    rows += item.batch.num_rows
                if expected_rows is not None and rows != expected_rows:
                    raise BadExport(f"{name}: {rows} data rows, but {run.manifest_key} says {expected_rows}")
