"""Stage ``land_raw``: land each delivery of the export once, then report the run's billing day.

A delivery (``sources/base.py``) is landed whole, for every billing day it covers, by one ``INSERT … SELECT``
per file that DuckDB reads itself (``sources/export_file.py``), typed by ``pipeline/normalize.py``. All the
deliveries a run lands go in one transaction with their rows in ``landed_deliveries``: a bad file rolls
everything back and the previous rows stay. A delivery already landed at the same version is not read again,
so a 30-day backfill over one month's delivery reads its files once, and re-running a day changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cloudcost.identifiers import qualified
from cloudcost.pipeline.normalize import (
    FILE_COLUMN,
    FILES_VIEW,
    OUTSIDE_DAYS,
    BadValue,
    check_required,
    diagnose,
    diagnose_day,
    json_keys,
    per_file,
    select_sql,
)
from cloudcost.pipeline.run_context import RunContext
from cloudcost.schemas import TableSchema, load_table_schema, quote_column
from cloudcost.sources.base import BadExport, BillingExport, Delivery, DeliveryFile
from cloudcost.sources.export_file import (
    ExportFile,
    UnreadableExportFile,
    describe,
    first_line,
    layout,
    read_error,
    together,
)
from cloudcost.sources.spool import spool_directory
from cloudcost.warehouse.base import Session
from cloudcost.warehouse.duckdb import DuckDBSession, DuckDBWarehouse

log = logging.getLogger(__name__)
DELIVERIES = "state/landed_deliveries.yml"


@dataclass(frozen=True)
class LandResult:
    """What the stage reports (and returns to XCom): counts and sums, never data or secrets.

    ``rows``, ``billed_cost``, ``source_version``: the run's billing day after landing; ``replaced_rows``: that
    day's rows before; ``objects``: files of the day's deliveries; ``landed_deliveries``/``landed_rows``: what
    this run read and inserted (0 when every delivery was already landed at its version)."""

    rows: int
    billed_cost: str
    replaced_rows: int
    objects: int
    source_version: str | None
    landed_deliveries: int = 0
    landed_rows: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Landed:
    deliveries: int
    rows: int


def land_raw(
    warehouse: DuckDBWarehouse,
    export: BillingExport,
    schema: TableSchema,
    dataset: str,
    run: RunContext,
    billed_cost_column: str,
    only_where: dict[str, str] | None = None,
) -> LandResult:
    """Land what the day's deliveries hold that is not landed yet, then summarise the day."""
    deliveries = export.deliveries(run.billing_day)  # ExportNotReady while the day is incomplete
    with warehouse.session() as session:
        ensure_tables(warehouse, session, dataset, schema)
        replaced = day_rows(session, dataset, schema, run.billing_day)
        landed = land_deliveries(warehouse, session, export, deliveries, schema, dataset, run)
        rows, billed = day_totals(session, dataset, schema, run.billing_day, billed_cost_column, only_where)
        version = day_version(session, dataset, schema, run.billing_day)
    result = LandResult(
        rows, billed, replaced, sum(len(d.files) for d in deliveries), version, landed.deliveries, landed.rows
    )
    log.info(
        "land_raw %s/%s %s: landed %d new deliveries (%d rows, all days); the day holds %d rows, billed %s, "
        "from %d file(s), version %s (%d rows before)",
        run.org,
        run.provider,
        run.billing_day,
        landed.deliveries,
        landed.rows,
        rows,
        billed,
        result.objects,
        version,
        replaced,
    )
    return result


def ensure_tables(warehouse: DuckDBWarehouse, session: DuckDBSession, dataset: str, schema: TableSchema) -> None:
    warehouse.ensure_table(session, dataset, schema)
    warehouse.ensure_table(session, dataset, load_table_schema(DELIVERIES))


def pending(session: Session, dataset: str, schema: TableSchema, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """The deliveries not landed at their version yet (each once, even if listed for several days)."""
    if not deliveries:
        return []
    landed = set(
        session.fetchall(
            f"select delivery_key, version, fingerprint from {qualified(dataset, 'landed_deliveries')} "
            "where raw_table = ?",
            [schema.table],
        )
    )
    unique = {(d.key, d.version, d.fingerprint): d for d in deliveries}
    return [d for identity, d in unique.items() if identity not in landed]


def land_deliveries(
    warehouse: DuckDBWarehouse,
    session: DuckDBSession,
    export: BillingExport,
    deliveries: Sequence[Delivery],
    schema: TableSchema,
    dataset: str,
    run: RunContext,
) -> Landed:
    """Land every pending delivery in one transaction; returns how many and their rows.

    Files of one layout (same columns and types) are inserted by one statement that reads them all, so DuckDB
    reads them in parallel (a gzipped CSV is read by one thread; an Azure run pair or a day's OCI reports are
    several). Which delivery and file a row came from is joined in from a small registered table."""
    todo = pending(session, dataset, schema, deliveries)
    if not todo:
        return Landed(0, 0)
    table = qualified(dataset, schema.table)
    session.execute("SET preserve_insertion_order = false")  # row order in the table carries no meaning
    try:
        with spool_directory(warehouse.spool_directory) as directory, warehouse.transaction(session):
            for delivery in todo:
                _delete_scope(session, table, delivery)
            entries = []
            for delivery in todo:
                for item in delivery.files:
                    path = export.local_path(item, directory)
                    file = describe(session.connection, path, item.key, json_keys(schema))
                    check_required(schema, file, dict(item.constants))
                    entries.append(FileToLand(delivery, item, file))
            groups: dict[tuple, list[FileToLand]] = {}
            for entry in entries:
                groups.setdefault((layout(entry.file), tuple(sorted(dict(entry.item.constants)))), []).append(entry)
            for group in groups.values():
                _insert_together(session, schema, table, run, group)
            counts = _landed_counts(session, table, run, entries)
            for entry in entries:
                check_count(entry.item, counts.get(entry.item.key, 0))
            rows = 0
            for delivery in todo:
                landed = sum(counts.get(item.key, 0) for item in delivery.files)
                record_delivery(session, dataset, schema, delivery, landed, run)
                rows += landed
    finally:
        session.execute("RESET preserve_insertion_order")
    return Landed(len(todo), rows)


@dataclass(frozen=True)
class FileToLand:
    delivery: Delivery
    item: DeliveryFile
    file: ExportFile


def _delete_scope(session: DuckDBSession, table: str, delivery: Delivery) -> None:
    """What a delivery replaces: every row of its days, or the rows of its own files."""
    if delivery.days is not None:
        session.execute(f"delete from {table} where ingestion_date between ? and ?", list(delivery.days))
    else:
        keys = [f.key for f in delivery.files]
        session.execute(f"delete from {table} where x_source_object in ({', '.join('?' for _ in keys)})", keys)


def _register_files(session: DuckDBSession, group: list[FileToLand]) -> None:
    """``FILES_VIEW``, one row per file: its local path, object key, delivery version, day bounds and the reader's
    constants (a temporary table of this connection, values bound as parameters)."""
    constants = list(dict(group[0].item.constants))
    columns = [per_file(name) for name in ("path", "key", "version")]
    columns += [f"{per_file(name)} date" for name in ("first_day", "last_day")]
    columns += [per_file(f"const_{name}") for name in constants]
    typed = ", ".join(c if c.endswith(" date") else f"{c} varchar" for c in columns)
    session.execute(f"create or replace temp table {FILES_VIEW} ({typed})")
    rows = [
        [
            str(e.file.path),
            e.item.key,
            e.delivery.version,
            *(e.delivery.days or (None, None)),
            *(dict(e.item.constants)[name] for name in constants),
        ]
        for e in group
    ]
    session.connection.executemany(f"insert into {FILES_VIEW} values ({', '.join('?' for _ in columns)})", rows)


RUN_PARAMETERS = ("x_pipeline_id", "x_credential_id", "x_run_id", "x_ingested_at", "x_pipeline_run_date")


def _insert_together(
    session: DuckDBSession, schema: TableSchema, table: str, run: RunContext, group: list[FileToLand]
) -> None:
    constants = dict(group[0].item.constants)
    together_file = together([e.file for e in group], FILE_COLUMN)
    targets, select = select_sql(schema, together_file, constants, days_bound=True, files_view=True)
    columns = ", ".join(quote_column(t) for t in targets)
    lineage = lineage_parameters(run, group[0].item, group[0].delivery)
    params = {name: lineage[name] for name in RUN_PARAMETERS}
    _register_files(session, group)
    try:
        session.execute(f"insert into {table} ({columns}) {select}", params)
    except Exception as exc:
        if not is_data_error(exc):
            raise
        raise _explain_group(exc, schema, group) from None


def _explain_group(exc: Exception, schema: TableSchema, group: list[FileToLand]) -> Exception:
    """Which file of the statement failed, and where: each is read alone until one shows the problem."""
    for entry in group:
        found = problem(str(exc), entry.file, schema, dict(entry.item.constants), entry.delivery)
        if found is not None:
            return found
    return BadValue(f"{group[0].file.name}: {first_line(exc)}")


def _landed_counts(session: DuckDBSession, table: str, run: RunContext, entries: list[FileToLand]) -> dict[str, int]:
    """Rows this run inserted, per object (the run's ingestion time prunes the table to its new row groups)."""
    keys = sorted({e.item.key for e in entries})
    counted = session.fetchall(
        f"select x_source_object, count(*) from {table} where x_ingested_at = ? and x_run_id = ? "
        f"and x_source_object in ({', '.join('?' for _ in keys)}) group by 1",
        [run.ingested_at, run.run_id, *keys],
    )
    return {key: int(count) for key, count in counted}


def lineage_parameters(run: RunContext, item: DeliveryFile, delivery: Delivery) -> dict[str, Any]:
    """The bound parameters of ``select_sql``: lineage, the delivery's days, the reader's constants."""
    params: dict[str, Any] = {
        "x_pipeline_id": run.pipeline_id,
        "x_credential_id": run.credential_id,
        "x_run_id": run.run_id,
        "x_ingested_at": run.ingested_at,
        "x_pipeline_run_date": run.logical_date,
        "x_source_object": item.key,
        "x_source_version": delivery.version,
        **{f"const_{name}": value for name, value in item.constants},
    }
    if delivery.days is not None:
        params |= {"first_day": delivery.days[0], "last_day": delivery.days[1]}
    return params


def check_count(item: DeliveryFile, count: int) -> None:
    """A file must hold the data rows its manifest announces (Azure's ``dataRowCount``)."""
    if item.expected_rows is not None and count != item.expected_rows:
        announced = item.manifest or "its manifest"
        raise BadExport(f"{item.key}: {count} data rows, but {announced} says {item.expected_rows}")


def is_data_error(exc: BaseException) -> bool:
    """DuckDB's errors that the file's content causes (not a fault of our SQL)."""
    import duckdb

    data_errors = (
        duckdb.ConversionException,
        duckdb.InvalidInputException,
        duckdb.ConstraintException,
        duckdb.OutOfRangeException,
        duckdb.IOException,
    )
    return isinstance(exc, data_errors)


def explain(
    exc: Exception, file: ExportFile, schema: TableSchema, constants: dict[str, str], delivery: Delivery
) -> Exception:
    """The one-line error a person can act on: file, data row (1-based) and column by its header."""
    return problem(str(exc), file, schema, constants, delivery) or BadValue(f"{file.name}: {first_line(exc)}")


def problem(
    error: str, file: ExportFile, schema: TableSchema, constants: dict[str, str], delivery: Delivery
) -> Exception | None:
    """What in ``file`` makes a statement fail with ``error``, found by reading it alone (single-threaded, so row
    numbers follow the file): a file that cannot be read, a row outside the delivery's days, a value that does
    not convert or an empty required one. None if the file holds none of these."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET threads = 1")
        connection.execute("SET TimeZone = 'UTC'")
        try:
            every_value = f"hash({', '.join(file.refs)})" if file.refs else "0"  # so every value is read
            connection.execute(f"select count(*) from {file.relation} where {every_value} = 0").fetchall()
        except duckdb.Error as unreadable:
            if "CSV Error on Line" in str(unreadable):
                return UnreadableExportFile(read_error(file, unreadable))
            return UnreadableExportFile(f"{file.name}: cannot be read: {first_line(unreadable)}")
        if OUTSIDE_DAYS in error and delivery.days is not None:
            message = diagnose_day(connection, schema, file, *delivery.days)
        else:
            message = diagnose(connection, schema, file, constants)
    finally:
        connection.close()
    return BadValue(message) if message else None


def record_delivery(
    session: Session, dataset: str, schema: TableSchema, delivery: Delivery, rows: int, run: RunContext
) -> None:
    table = qualified(dataset, "landed_deliveries")
    session.execute(f"delete from {table} where raw_table = ? and delivery_key = ?", [schema.table, delivery.key])
    first, last = delivery.days or (None, None)
    session.execute(
        f"insert into {table} (raw_table, delivery_key, version, fingerprint, first_day, last_day, files, rows, "
        "run_id, landed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            schema.table,
            delivery.key,
            delivery.version,
            delivery.fingerprint,
            first,
            last,
            len(delivery.files),
            rows,
            run.run_id,
            run.ingested_at,
        ],
    )


def day_rows(session: Session, dataset: str, schema: TableSchema, day: date) -> int:
    return int(
        session.fetchall(f"select count(*) from {qualified(dataset, schema.table)} where ingestion_date = ?", [day])[0][
            0
        ]
    )


def day_totals(
    session: Session,
    dataset: str,
    schema: TableSchema,
    day: date,
    billed_cost_column: str,
    only_where: dict[str, str] | None,
) -> tuple[int, str]:
    """The day's raw rows, and its billed cost (of the rows ``only_where`` selects, e.g. Azure's actual cost)."""
    filters = sorted((only_where or {}).items())
    selected = " and ".join(f"{quote_column(column)} = ?" for column, _ in filters) or "true"
    rows, billed = session.fetchall(
        f"select count(*), coalesce(sum(case when {selected} then {quote_column(billed_cost_column)} end), 0) "
        f"from {qualified(dataset, schema.table)} where ingestion_date = ?",
        [*(value for _, value in filters), day],
    )[0]
    return int(rows), str(Decimal(billed))


def day_version(session: Session, dataset: str, schema: TableSchema, day: date) -> str | None:
    """The version of the day's raw rows: the version of the delivery that is the whole truth for the day, or,
    for a day made of many deliveries (OCI reports), a digest of which ones and at which versions."""
    covering = session.fetchall(
        f"select version from {qualified(dataset, 'landed_deliveries')} "
        "where raw_table = ? and ? between first_day and last_day order by delivery_key",
        [schema.table, day],
    )
    if covering:
        return ";".join(version for (version,) in covering)
    parts = session.fetchall(
        f"select distinct x_source_object, x_source_version from {qualified(dataset, schema.table)} "
        "where ingestion_date = ? order by 1, 2",
        [day],
    )
    if not parts:
        return None
    digest = hashlib.sha1("\n".join(f"{o}@{v}" for o, v in parts).encode()).hexdigest()[:12]
    return f"{len(parts)} deliveries, sha1 {digest}"
