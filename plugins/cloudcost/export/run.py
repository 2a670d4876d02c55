"""Export an org's FOCUS 1.3 rows (or its FOCUS 1.4 Cost and Usage rows) for billing days A..B to one file, with a
sidecar, and record the run's metrics.

Rows stream from the warehouse as Arrow record batches straight into the writer, typed for Parquet and as exact
text for CSV and JSON (``focus_arrow``: the same text whichever warehouse sent the batch). Row counts, charge
period and exact sums for the sidecar come from one aggregate over the same rows, in the same session, and the
rows written are checked against its count. The file
is written under a temporary name and renamed when complete: a failed export leaves no half file behind.

The sidecar ``<file>.metadata.json`` carries the FOCUS metadata a consumer needs without opening the file
(FocusVersion, DataGenerator, DataGeneratorVersion, a SchemaId and ColumnDefinition as the FOCUS metadata
section names them), plus row counts, exact sums per provider and currency, the billing days and charge period.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from cloudcost.config import load_org_by_slug
from cloudcost.export import DATA_GENERATOR, FOCUS_VERSION
from cloudcost.export.metrics import Metric, export_freshness, new_run_id, record_metrics
from cloudcost.export.pulumicost import exact_text, load_mapping, rfc3339
from cloudcost.export.writers import EXTENSIONS, FORMATS, open_writer
from cloudcost.focus_arrow import arrow_schema, as_text, typed
from cloudcost.identifiers import OrgSlug, qualified
from cloudcost.paths import data_dir
from cloudcost.schemas import DECIMAL_PRECISION, DECIMAL_SCALE, Column, quote_column
from cloudcost.validate.export import ExportError as FocusTableError
from cloudcost.validate.export import focus_columns, require_every_day, version_schema
from cloudcost.warehouse import Warehouse, open_warehouse
from cloudcost.warehouse.base import Session

BATCH_ROWS = 50_000
MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
SIDECAR_SUFFIX = ".metadata.json"
_FOCUS_TYPES = {"string": "String", "decimal": "Decimal", "timestamp": "Date/Time", "json": "JSON", "date": "Date"}


class ExportError(RuntimeError):
    """Nothing can be exported (no FOCUS table, a FOCUS column missing, bad arguments)."""


def generator_version() -> str:
    """cloudcost's package version: the FOCUS DataGeneratorVersion."""
    try:
        return metadata.version("cloudcost")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_path(org: OrgSlug, fmt: str, first_day: date, last_day: date, focus_version: str = FOCUS_VERSION) -> Path:
    """``data/exports/<org>/focus-<version>_<org>_<from>_<to>.<ext>``."""
    return data_dir() / "exports" / org / f"focus-{focus_version}_{org}_{first_day}_{last_day}.{EXTENSIONS[fmt]}"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


@dataclass
class ExportStats:
    """Counts, charge period and exact sums of the exported rows, per provider and billing currency."""

    rows: int = 0
    rows_by_provider: Counter = field(default_factory=Counter)
    sums: dict[str, dict[str, dict[str, Decimal]]] = field(default_factory=dict)
    charge_start: datetime | None = None
    charge_end: datetime | None = None

    @classmethod
    def measure(cls, session: Session, table: str, condition: str, params: list[Any]) -> ExportStats:
        """The figures, summed exactly by the warehouse over the rows the export selects. The embedded warehouse's
        session holds its write lock, so no load changes those rows in between; elsewhere a changed row count
        fails the export (``export_org``)."""
        stats = cls()
        for provider, currency, rows, start, end, *sums in session.fetchall(
            f"select x_cloud_provider, BillingCurrency, count(*), min(ChargePeriodStart), max(ChargePeriodEnd), "
            f"{', '.join(f'sum({quote_column(m)})' for m in MONEY)} from {table} where {condition} "
            "group by all order by 1, 2",
            params,
        ):
            stats.rows += rows
            stats.rows_by_provider[provider] += rows
            stats.sums.setdefault(provider, {})[currency] = dict(zip(MONEY, sums, strict=True))
            stats.charge_start = start if stats.charge_start is None else min(stats.charge_start, start)
            stats.charge_end = end if stats.charge_end is None else max(stats.charge_end, end)
        return stats

    def totals(self) -> dict[str, dict[str, str]]:
        """Sums per billing currency over all providers, as exact text."""
        out: dict[str, dict[str, Decimal]] = {}
        for by_currency in self.sums.values():
            for currency, sums in by_currency.items():
                total = out.setdefault(currency, {m: Decimal(0) for m in MONEY})
                for money in MONEY:
                    total[money] += sums[money]
        return {c: {m: exact_text(v) for m, v in s.items()} for c, s in sorted(out.items())}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sidecar: Path
    format: str
    run: str
    rows: int
    columns: list[str]
    metrics: list[Metric]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _focus_metadata(columns: list[Column], fmt: str, created_at: str, focus_version: str) -> dict[str, Any]:
    """The FOCUS metadata objects; the SchemaId is a UUID derived from the structure, so it changes with it."""
    definitions = []
    for column in columns:
        definition: dict[str, Any] = {"ColumnName": column.name, "DataType": _FOCUS_TYPES[column.type]}
        if column.type == "decimal":
            definition |= {"NumericPrecision": DECIMAL_PRECISION, "NumberScale": DECIMAL_SCALE}
        if column.type in ("string", "json"):
            definition["StringEncoding"] = "UTF-8"
        definitions.append(definition)
    structure = json.dumps([fmt, focus_version, generator_version(), definitions], sort_keys=True)
    return {
        "DataGenerator": {"DataGenerator": DATA_GENERATOR},
        "Schema": [
            {
                "SchemaId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudcost:focus-export:{structure}")),
                "FocusVersion": focus_version,
                "DataGeneratorVersion": generator_version(),
                "CreationDate": created_at,
                "ColumnDefinition": definitions,
            }
        ],
    }


def _write(
    warehouse: Warehouse,
    session: Session,
    fmt: str,
    path: Path,
    columns: list[Column],
    rows_of: str,
    params: list[Any],
    meta: dict,
) -> int:
    """Stream ``select <columns> from <rows_of>`` into ``path`` (via ``<path>.partial``, renamed when complete)."""
    as_text_wanted = fmt != "parquet"
    if as_text_wanted:
        target = pa.schema([pa.field(c.name, pa.string()) for c in columns])
    else:
        target = arrow_schema(columns).with_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    sql = f"select {', '.join(quote_column(c.name) for c in columns)} from {rows_of}"
    convert = as_text if as_text_wanted else typed
    writer = open_writer(fmt, partial, target)
    rows = 0
    try:
        for batch in warehouse.arrow_batches(session, sql, params, BATCH_ROWS):
            writer.write(convert(batch, columns).replace_schema_metadata(target.metadata))
            rows += batch.num_rows
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(partial, path)
    return rows


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def export_org(
    org_slug: OrgSlug,
    fmt: str,
    first_day: date,
    last_day: date,
    *,
    path: Path | None = None,
    providers: list[str] | None = None,
    include_custom: bool = True,
    now: datetime | None = None,
    focus_version: str = FOCUS_VERSION,
) -> ExportResult:
    """Write billing days ``first_day..last_day`` of the org's FOCUS table of ``focus_version`` as ``fmt``, its
    sidecar, and metrics. FOCUS 1.4 as JSON: the record's deprecated provider_name and publisher stay empty (1.4
    removed those columns) and the 1.4 columns the proto lacks go to extended_columns when not NULL."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if last_day < first_day:
        raise ExportError(f"--to {last_day} is before --from {first_day}")
    now = now or datetime.now(UTC)
    run = new_run_id("export", now)
    org = load_org_by_slug(org_slug)
    try:
        schema = version_schema(focus_version)
    except FocusTableError as exc:
        raise ExportError(str(exc)) from None
    table = qualified(org.dataset, schema.table)
    path = path or default_path(org.slug, fmt, first_day, last_day, focus_version)
    mapping = load_mapping() if fmt == "json" else None  # a broken mapping fails before any file is opened
    where = ["x_ingestion_date between ? and ?"]
    params: list[Any] = [first_day, last_day]
    if providers:
        where.append(f"x_cloud_provider in ({', '.join('?' for _ in providers)})")
        params += providers
    condition = " and ".join(where)
    warehouse = open_warehouse()
    with warehouse.session(org.dataset) as session:
        try:
            columns = focus_columns(warehouse, session, org.dataset, include_custom, focus_version)
            require_every_day(
                session,
                org.slug,
                org.dataset,
                focus_version,
                first_day=first_day,
                last_day=last_day,
                providers=providers,
            )
        except FocusTableError as exc:
            raise ExportError(str(exc)) from None
        stats = ExportStats.measure(session, table, condition, params)
        meta = {
            "focus_version": focus_version,
            "data_generator": DATA_GENERATOR,
            "data_generator_version": generator_version(),
            "org": org.slug,
            "billing_day_from": first_day.isoformat(),
            "billing_day_to": last_day.isoformat(),
        }
        rows = _write(warehouse, session, fmt, path, columns, f"{table} where {condition}", params, meta)
        if rows != stats.rows:  # a load committed between the count and the read: never publish a wrong sidecar
            raise ExportError(f"{table} changed during the export: {rows} rows written, {stats.rows} counted")

        created_at = rfc3339(datetime.now(UTC))
        focus_names = [c.name for c in columns if not c.name.startswith("x_")]
        sidecar: dict[str, Any] = {
            **{k: v for k, v in meta.items() if not k.startswith("billing_day")},
            "file": path.name,
            "format": fmt,
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
            "billing_days": {"from": first_day.isoformat(), "to": last_day.isoformat()},
            "providers": providers or sorted(stats.rows_by_provider),
            "charge_period": {
                "start": rfc3339(stats.charge_start) if stats.charge_start else None,
                "end": rfc3339(stats.charge_end) if stats.charge_end else None,
            },
            "rows": stats.rows,
            "rows_by_provider": dict(sorted(stats.rows_by_provider.items())),
            "columns_present": [c.name for c in columns],
            "focus_columns_present": len(focus_names),
            "sums": stats.totals(),
            "sums_by_provider": {
                p: {c: {m: exact_text(v) for m, v in s.items()} for c, s in sorted(by.items())}
                for p, by in sorted(stats.sums.items())
            },
            "created_at": created_at,
            "run": run,
            "focus_metadata": _focus_metadata(columns, fmt, created_at, focus_version),
        }
        if mapping is not None:
            sidecar["record"] = {
                "message": mapping.source.message,
                "repository": mapping.source.repository,
                "proto_files": [f.model_dump() for f in mapping.source.files],
                "encoding": "JSON Lines; proto3 JSON with the proto field names, every field present",
            }
        _write_text(sidecar_path(path), json.dumps(sidecar, indent=2) + "\n")

        dimensions = {
            "format": fmt,
            "from": first_day.isoformat(),
            "to": last_day.isoformat(),
            "file": str(path),
            "providers": sidecar["providers"],
        }
        every_focus_column = sum(1 for c in schema.columns if not c.name.startswith("x_"))
        metrics = [
            Metric("focus_rows_exported", Decimal(rows), dimensions),
            Metric("focus_columns_present", Decimal(len(focus_names)), {**dimensions, "of": every_focus_column}),
            Metric("focus_version_supported", Decimal(focus_version), {"focus_version": focus_version}),
            *export_freshness(session, org.dataset, first_day, last_day, providers, focus_version),
        ]
        record_metrics(warehouse, session, org.dataset, run, metrics, now)
    return ExportResult(path, sidecar_path(path), fmt, run, rows, [c.name for c in columns], metrics)
