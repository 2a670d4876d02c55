"""Stage ``land_raw``: replace one billing day of an org's raw table with the export's rows, atomically."""

from __future__ import annotations

import contextlib
import logging
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
            for item in export.iter_batches(run.billing_day, string_columns):
                objects.add(item.source_object)
                check_required(schema, item.batch.schema, item.source_object)
                targets, select = select_sql(schema, item.batch.schema)
                params = {
                    "billing_day": day_start,
                    "ingestion_date": day_start,
                    "x_pipeline_id": run.pipeline_id,
                    "x_credential_id": run.credential_id,
                    "x_run_id": run.run_id,
                    "x_ingested_at": run.ingested_at,
                    "x_pipeline_run_date": run.logical_date,
                    "x_source_object": item.source_object,
                    "x_source_version": version,
                }
                columns = ", ".join(quote_column(t) for t in targets)
                session.connection.register(BATCH_VIEW, pa.Table.from_batches([item.batch]))
                try:
                    session.execute(f"insert into {table} ({columns}) {select}", params)
                except Exception as exc:
                    if type(exc).__name__ not in {"ConversionException", "InvalidInputException"}:
                        raise
                    # The failed statement aborted the transaction: roll it back (the old slice stays),
                    # find the offending value outside it, and leave an empty transaction to roll back.
                    session.execute("ROLLBACK")
                    session.execute("BEGIN TRANSACTION")
                    session.connection.register(BATCH_VIEW, pa.Table.from_batches([item.batch]))
                    message = diagnose(session, schema, item.batch.schema, item.source_object, item.row_offset)
                    raise BadValue(message) from exc
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
