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

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cloudcost.sources.base import BadExport, Delivery, DeliveryFile, ExportStatus
from cloudcost.sources.completeness import day_closed, fingerprint, month_of, object_infos, require_complete
from cloudcost.sources.object_store import ObjectInfo, ObjectStore
from cloudcost.sources.spool import local_path

DATASET_COLUMN = "x_cost_dataset"


@dataclass(frozen=True)
class AzureRun:
    dataset: str  # "amortized" or "actual"
    manifest_key: str
    run_id: str
    blobs: tuple[tuple[str, int | None], ...]  # (blob name, dataRowCount)
    submitted: datetime | None = None  # runInfo.submittedTime


def month_folder(day: date) -> str:
    first, last = month_of(day)
    return f"{first:%Y%m%d}-{last:%Y%m%d}"


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
        return self._evaluate(day)[0]

    def _evaluate(self, day: date) -> tuple[ExportStatus, list[AzureRun]]:
        objects: list[str] = []
        versions: list[str] = []
        runs: list[AzureRun] = []
        infos: list[ObjectInfo] = []
        for dataset in ("amortized", "actual"):
            run = self.latest_run(dataset, day)
            if run is None:
                reason = f"{self.store.uri}/{self._root(self.exports[dataset], day)}: no {dataset} manifest yet"
                return ExportStatus(False, reason), runs
            runs.append(run)
            present = object_infos(self.store, [name for name, _ in run.blobs])
            infos += present.values()
            missing = [name for name, _ in run.blobs if name not in present]
            if missing:
                reason = f"{run.manifest_key} lists {len(missing)} blob(s) not present, first: {missing[0]}"
                return ExportStatus(False, reason), runs
            due = day_closed(day, self.lag_hours)
            if run.submitted is not None and run.submitted < due:
                reason = (
                    f"{run.manifest_key}: run {run.run_id} was submitted at {run.submitted.isoformat()}, before "
                    f"{due.isoformat()} (the end of {day} + {self.lag_hours:g} h): {day} may still be partial"
                )
                return ExportStatus(False, reason), runs
            objects += [name for name, _ in run.blobs]
            versions.append(f"{dataset}:{run.run_id}")
        status = ExportStatus(
            True, "both manifests and all their blobs present", ";".join(versions), tuple(objects), fingerprint(infos)
        )
        return status, runs

    def deliveries(self, day: date) -> list[Delivery]:
        """The month's run pair: every blob of both runs (tagged amortized or actual, with the row count its
        manifest announces), the whole truth for every day of the month."""
        status, runs = self._evaluate(day)
        require_complete(status)
        files = tuple(
            DeliveryFile(name, rows, ((DATASET_COLUMN, run.dataset),), run.manifest_key)
            for run in runs
            for name, rows in run.blobs
        )
        key = f"{self._root(self.exports['amortized'], day)}+{self.exports['actual']}"
        return [Delivery(key, status.version or "", files, month_of(day), status.fingerprint)]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        return local_path(self.store, file.key, directory)
