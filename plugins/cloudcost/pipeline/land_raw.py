"""Stage ``land_raw``: replace one billing day of an org's raw table with the export's rows, atomically."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal

import pyarrow as pa

from cloudcost.identifiers import qualified
from cloudcost.pipeline.normalize import BATCH_VIEW, BadValue, check_required, diagnose, select_sql
from cloudcost.pipeline.run_context import RunContext
from cloudcost.schemas import TableSchema, quote_column
from cloudcost.sources.base import BillingExport
from cloudcost.warehouse.base import SliceKey
from cloudcost.warehouse.duckdb import DuckDBWarehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandResult:
    """What the stage reports (and returns to XCom): counts and sums, never data or secrets."""

    rows: int
    billed_cost: str
    replaced_rows: int
    objects: int
    source_version: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def land_raw(
    warehouse: DuckDBWarehouse,
    export: BillingExport,
    schema: TableSchema,
    dataset: str,
    run: RunContext,
    billed_cost_column: str,
    only_where: dict[str, str] | None = None,
) -> LandResult:
    """Delete the day's partition and insert the export's rows for that day, in one transaction."""
    day_start = run.billing_day
    string_columns = [c.name for c in schema.columns]
    table = qualified(dataset, schema.table)
    objects: set[str] = set()
    version = None
    with warehouse.session() as session:
        warehouse.ensure_table(session, dataset, schema)
        with warehouse.transaction(session):
            replaced = warehouse.delete_slice(session, SliceKey.of(dataset, schema.table, ingestion_date=day_start))
            status = export.status(run.billing_day)
            version = status.version
            items = export.iter_batches(run.billing_day, string_columns)
            for source_object, group in itertools.groupby(items, key=lambda item: item.source_object):
                batches = (item.batch for item in group)  # consumed once, by DuckDB, batch by batch
                first = next(batches)
                objects.add(source_object)
                check_required(schema, first.schema, source_object)
                targets, select = select_sql(schema, first.schema)
                params = {
                    "billing_day": day_start,
                    "ingestion_date": day_start,
                    "x_pipeline_id": run.pipeline_id,
                    "x_credential_id": run.credential_id,
                    "x_run_id": run.run_id,
                    "x_ingested_at": run.ingested_at,
                    "x_pipeline_run_date": run.logical_date,
                    "x_source_object": source_object,
                    "x_source_version": version,
                }
                columns = ", ".join(quote_column(t) for t in targets)
                # One INSERT per object over a stream of its batches: DuckDB consumes each batch and Python
                # drops it, so memory stays one batch deep even inside the day's open transaction
                # (batches registered one by one stay referenced until COMMIT).
                failures: list[Exception] = []
                stream = pa.RecordBatchReader.from_batches(
                    first.schema, _recording(itertools.chain([first], batches), failures)
                )
                session.connection.register(BATCH_VIEW, stream)
                try:
                    session.execute(f"insert into {table} ({columns}) {select}", params)
                except Exception as exc:
                    if failures:  # reading the export failed (a bad file, a row count): that is the error
                        session.execute("ROLLBACK")
                        session.execute("BEGIN TRANSACTION")
                        raise failures[0] from None
                    if type(exc).__name__ not in {"ConversionException", "InvalidInputException"}:
                        raise
                    # The failed statement aborted the transaction: roll it back (the old slice stays),
                    # then find the offending value batch by batch, outside it.
                    session.execute("ROLLBACK")
                    session.execute("BEGIN TRANSACTION")
                    raise BadValue(_diagnose_object(session, export, run, schema, source_object)) from exc
                finally:
                    # after a failed statement the connection refuses even this; the real error is raised
                    with contextlib.suppress(Exception):
                        session.connection.unregister(BATCH_VIEW)
            filters = sorted((only_where or {}).items())
            invoice_rows = "".join(f" and {quote_column(column)} = ?" for column, _ in filters)
            billed = session.fetchall(
                f"select coalesce(sum({quote_column(billed_cost_column)}), 0) from {table} "
                f"where ingestion_date = ?{invoice_rows}",
                [day_start, *(value for _, value in filters)],
            )[0][0]
            rows = session.fetchall(f"select count(*) from {table} where ingestion_date = ?", [day_start])[0][0]
    result = LandResult(int(rows), str(Decimal(billed)), replaced, len(objects), version)
    log.info(
        "land_raw %s/%s %s: %d rows, billed %s, from %d object(s), replaced %d rows, source version %s",
        run.org,
        run.provider,
        day_start,
        result.rows,
        result.billed_cost,
        result.objects,
        replaced,
        version,
    )
    return result


def _recording(batches: Iterator[pa.RecordBatch], failures: list[Exception]) -> Iterator[pa.RecordBatch]:
    """The batches, keeping any error of reading them: DuckDB would otherwise wrap it in its own."""
    try:
        yield from batches
    except Exception as exc:
        failures.append(exc)
        raise


def _diagnose_object(session: object, export: BillingExport, run: RunContext, schema: TableSchema, name: str) -> str:
    """Read the object's batches again and name the first value that does not convert."""
    message = f"{name}: a value could not be converted"
    for item in export.iter_batches(run.billing_day, [c.name for c in schema.columns]):
        if item.source_object != name:
            continue
        session.connection.register(BATCH_VIEW, pa.Table.from_batches([item.batch]))  # type: ignore[attr-defined]
        try:
            message = diagnose(session, schema, item.batch.schema, item.source_object, item.row_offset)  # type: ignore[arg-type]
        finally:
            session.connection.unregister(BATCH_VIEW)  # type: ignore[attr-defined]
        if "could not be converted" not in message:
            return message
    return message
