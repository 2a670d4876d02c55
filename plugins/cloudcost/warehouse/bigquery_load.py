"""Landing and converting on BigQuery (``BigQueryWarehouse.land_deliveries`` and ``.convert_to_focus``).

Landing: each export batch is typed by the very normalization SQL the DuckDB back end runs
(``sources/normalize.py``), in an in-memory DuckDB on the worker, so a bad value fails with the same
file/row/column message and BigQuery receives typed rows. The rows go to a Parquet file, one load job puts
them in a staging table (expiring after a day), and one MERGE replaces the ``ingestion_date`` partition
from it, inside the landing's transaction with the ledger, the guards and the load state: all or nothing.

Converting: the org's ``sp_cloud_1_convert_to_focus`` stored procedure (translated from ``procedures/``,
``warehouse/bigquery_ddl.py``) is created or replaced when its digest changed, the lookups it joins are
loaded into ``cloudcost_ref``, and ``CALL`` runs the provider's branch: one MERGE of the (provider, day)
slice of the FOCUS 1.3 table, then the FOCUS 1.4 slice and billing periods from it, in one transaction. BigQuery
cancels that transaction when another convert of the org holds the same tables: the CALL then runs again
(``warehouse/conflicts.py``).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from cloudcost.config import OrgConfig
from cloudcost.core.results import ConvertResult, Landed
from cloudcost.core.run_context import RunContext
from cloudcost.lookups import REF_DATASET, lookup_files
from cloudcost.schemas import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    TableSchema,
    billing_period_1_4_schema,
    focus_1_4_schema,
    focus_schema,
    quote_column,
)
from cloudcost.sources.bad_input import explain, is_data_error
from cloudcost.sources.base import BillingExport, Delivery
from cloudcost.sources.delivery_checks import check_count, refuse_identical_files
from cloudcost.sources.export_file import describe
from cloudcost.sources.normalize import check_required, json_keys, select_sql
from cloudcost.sources.spool import spool_directory
from cloudcost.warehouse.bigquery import BigQuerySession, BigQueryWarehouse
from cloudcost.warehouse.bigquery_ddl import (
    CATCH_UP_PROCEDURE,
    PROCEDURE,
    column_name,
    convert_procedure,
    enabled_formats,
    focus_1_4_catch_up_procedure,
    procedure_digest,
    procedure_lookups,
    raw_schema,
    replace_slice_merge,
    table_ref,
)
from cloudcost.warehouse.duckdb import configure, remove_spill_folder
from cloudcost.warehouse.lineage import lineage_parameters

if TYPE_CHECKING:
    from google.cloud.bigquery import SchemaField

    from cloudcost.warehouse.base import LandingJob

BATCH_ROWS = 131_072

_ARROW = {
    "string": pa.string(),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),  # staged as text, parsed into JSON by the MERGE
    "int64": pa.int64(),
    "bool": pa.bool_(),
}
_STAGING = {
    "string": "STRING",
    "decimal": "BIGNUMERIC",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "json": "STRING",
    "int64": "INTEGER",
    "bool": "BOOLEAN",
}


def arrow_schema(schema: TableSchema) -> pa.Schema:
    """The typed rows of ``schema`` as Arrow (and so Parquet) types."""
    return pa.schema([pa.field(c.name, _ARROW[c.type], nullable=c.nullable) for c in schema.columns])


def staging_fields(schema: TableSchema) -> list[SchemaField]:
    from google.cloud import bigquery

    fields = []
    for c in schema.columns:
        mode = "NULLABLE" if c.nullable else "REQUIRED"
        if c.type == "decimal":
            field = bigquery.SchemaField(
                c.name, _STAGING[c.type], mode=mode, precision=DECIMAL_PRECISION, scale=DECIMAL_SCALE
            )
        else:
            field = bigquery.SchemaField(c.name, _STAGING[c.type], mode=mode)
        fields.append(field)
    return fields


def staging_select(staging: str, schema: TableSchema) -> str:
    """The staged rows with JSON text parsed back into JSON (numbers kept as closely as JSON allows)."""
    columns = [
        f"PARSE_JSON({column_name(c.name)}, wide_number_mode => 'round') AS {column_name(c.name)}"
        if c.type == "json"
        else column_name(c.name)
        for c in schema.columns
    ]
    return f"SELECT {', '.join(columns)} FROM {staging}"


def land_merge(warehouse: BigQueryWarehouse, dataset: str, staging_table: str, schema: TableSchema, scope: str) -> str:
    """The MERGE that replaces the rows ``scope`` selects in the raw table (a delivery's days, or its own files'
    rows) with the staged rows."""
    return replace_slice_merge(
        warehouse.table(dataset, schema.table),
        staging_select(warehouse.table(dataset, staging_table), schema),
        schema,
        scope,
    )


def _typed_rows(
    warehouse: BigQueryWarehouse,
    export: BillingExport,
    delivery: Delivery,
    schema: TableSchema,
    run: RunContext,
    directory: Path,
) -> tuple[Path, int]:
    """Every file of ``delivery`` typed by the DuckDB normalization SQL (in an in-memory DuckDB on the worker,
    over the files DuckDB reads itself), written to one Parquet file in the raw table's column order."""
    import duckdb

    connection = duckdb.connect()
    settings = warehouse.worker
    spills = Path(settings.temp_directory) if settings.temp_directory else directory
    spill = configure(connection, settings, spills, "load")
    target_schema = arrow_schema(schema)
    path = directory / "typed-rows.parquet"
    total = 0
    with_rows: list[tuple[str, Path]] = []
    try:
        with pq.ParquetWriter(path, target_schema) as writer:
            for item in delivery.files:
                file = describe(connection, export.local_path(item, directory), item.key, json_keys(schema))
                constants = dict(item.constants)
                check_required(schema, file, constants)
                targets, select = select_sql(schema, file, constants, days_bound=delivery.days is not None)
                params = lineage_parameters(run, item, delivery)
                outer = ", ".join(
                    f"cast({quote_column(c.name)} as varchar) as {quote_column(c.name)}"
                    if c.type == "json"
                    else quote_column(c.name)
                    for c in schema.columns
                )
                inner = ", ".join(quote_column(t) for t in targets)
                count = 0
                try:
                    reader = connection.sql(f"select {outer} from ({select}) as typed ({inner})", params=params)
                    for batch in reader.to_arrow_reader(BATCH_ROWS):
                        writer.write_table(pa.Table.from_batches([batch]).cast(target_schema))
                        count += batch.num_rows
                except Exception as exc:
                    if not is_data_error(exc):
                        raise
                    raise explain(exc, file, schema, constants, delivery) from None
                check_count(item, count)
                if count:
                    with_rows.append((item.key, file.path))
                total += count
    finally:
        connection.close()
        remove_spill_folder(spill)
    refuse_identical_files(delivery, with_rows)
    return path, total


def land_deliveries(warehouse: BigQueryWarehouse, session: BigQuerySession, job: LandingJob) -> Landed:
    """Each delivery: staging load, then one MERGE replacing what it covers, in the caller's transaction
    (``Warehouse.land_deliveries``)."""
    return Landed({d.key: _land_delivery(warehouse, session, job, d) for d in job.deliveries})


def _land_delivery(warehouse: BigQueryWarehouse, session: BigQuerySession, job: LandingJob, delivery: Delivery) -> int:
    """Typed rows to a staging table (a load job, outside the transaction), then one MERGE that replaces what
    the delivery covers: its billing days, or the rows of its own files. The MERGE, ``landed_deliveries``, the
    guards and the load state commit together (the caller's transaction, which records the ledger)."""
    from google.cloud import bigquery

    schema, dataset, run = job.schema, job.dataset, job.run
    digest = hashlib.sha256(f"{run.run_id}|{delivery.key}".encode()).hexdigest()[:10]
    staging = f"_staging_{schema.table}_{run.billing_day:%Y%m%d}_{digest}"
    spool = warehouse.worker.spool_directory
    with spool_directory(Path(spool) if spool else None) as tmp:
        path, rows = _typed_rows(warehouse, job.export, delivery, schema, run, tmp)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            schema=staging_fields(schema),
        )
        staging_ref = f"{warehouse.project}.{dataset}.{staging}"
        try:
            with path.open("rb") as handle:
                warehouse.client.load_table_from_file(
                    handle, staging_ref, job_config=config, location=warehouse.location
                ).result()
            _expire_in_a_day(warehouse, dataset, staging)
            scope = "T.ingestion_date BETWEEN @first_day AND @last_day"
            params: dict[str, Any] = (
                {"first_day": delivery.days[0], "last_day": delivery.days[1]} if delivery.days else {}
            )
            if delivery.days is None:
                scope, params = "T.x_source_object IN UNNEST(@objects)", {"objects": [f.key for f in delivery.files]}
            session.run(land_merge(warehouse, dataset, staging, schema, scope), params)
        finally:
            warehouse.client.delete_table(staging_ref, not_found_ok=True)
    return rows


def _expire_in_a_day(warehouse: BigQueryWarehouse, dataset: str, table: str) -> None:
    """A staging table left behind by a killed worker deletes itself. A job of its own, outside the session:
    BigQuery refuses DDL on a permanent table inside a transaction."""
    BigQuerySession(warehouse.client, warehouse.project, warehouse.location).run(
        f"ALTER TABLE {warehouse.table(dataset, table)} "
        "SET OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))"
    )


def _one(session: BigQuerySession, sql: str, params: dict[str, Any]) -> Any:
    rows = list(session.run(sql, params).result())
    return rows[0][0] if rows else None


# --------------------------------------------------------------------------- convert_to_focus


def refresh_lookups(warehouse: BigQueryWarehouse, session: BigQuerySession, names: list[str]) -> dict[str, str]:
    """(Re)load the named ``configs/lookups/*.csv`` into ``cloudcost_ref`` (all columns STRING, as in DuckDB);
    returns name -> table."""
    from google.cloud import bigquery

    files = lookup_files()
    warehouse.ensure_dataset(session, REF_DATASET)
    tables = {}
    for name in names:
        path = files[name]
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.CSV,
            skip_leading_rows=1,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            schema=[bigquery.SchemaField(column, "STRING") for column in header],
        )
        with path.open("rb") as handle:
            warehouse.client.load_table_from_file(
                handle, f"{warehouse.project}.{REF_DATASET}.{name}", job_config=config, location=warehouse.location
            ).result()
        tables[name] = warehouse.table(REF_DATASET, name)
    return tables


def routine_description(warehouse: BigQueryWarehouse, dataset: str, name: str) -> str | None:
    """The stored routine's description ('' when it has none), or None when the dataset has no such routine."""
    from google.api_core.exceptions import NotFound

    try:
        return warehouse.client.get_routine(f"{warehouse.project}.{dataset}.{name}").description or ""
    except NotFound:
        return None


def ensure_procedure(warehouse: BigQueryWarehouse, session: BigQuerySession, dataset: str, org: OrgConfig) -> str:
    """Create or replace the org's convert procedure unless the stored one carries the same digest."""
    formats = enabled_formats(org)
    for _, _, fmt in formats:
        warehouse.ensure_table(session, dataset, raw_schema(fmt))
    sql = convert_procedure(warehouse.project, dataset, formats)
    wanted = procedure_digest(sql)
    if routine_description(warehouse, dataset, PROCEDURE) != wanted:
        session.run(sql)
    refresh_lookups(warehouse, session, sorted({n for _, _, fmt in formats for n in procedure_lookups(fmt)}))
    return sql


def catch_up_focus_1_4(warehouse: BigQueryWarehouse, session: BigQuerySession, dataset: str) -> None:
    """Once per dataset, CALL ``sp_cloud_1_focus_1_4_catch_up`` (one transaction) to fill FOCUS 1.4 for every day
    1.3 held before 1.4 existed. The procedure is also the mark that the catch-up ran: created just before its CALL
    and dropped again if the CALL fails, so the next convert tries again. The 1.4 tables are never dropped (other
    providers' converts of the org may have written them meanwhile), and a dataset whose 1.4 tables came from a build
    without the catch-up gets it too."""
    if routine_description(warehouse, dataset, CATCH_UP_PROCEDURE) is not None:
        return
    procedure = table_ref(warehouse.project, dataset, CATCH_UP_PROCEDURE)
    session.run(focus_1_4_catch_up_procedure(warehouse.project, dataset))
    try:
        # another provider's convert of the org can cancel it (as the convert's CALL below): run it again whole
        warehouse.retry_conflicts(lambda: session.run(f"CALL {procedure}()"), f"FOCUS 1.4 catch-up {dataset}")
    except Exception:
        session.run(f"DROP PROCEDURE IF EXISTS {procedure}")
        raise


def convert_to_focus(
    warehouse: BigQueryWarehouse, org: OrgConfig, source_format: str, run: RunContext
) -> ConvertResult:
    """CALL the org's ``sp_cloud_1_convert_to_focus`` for the run's provider, format and day."""
    focus = focus_schema()
    dataset = org.dataset
    target = warehouse.table(dataset, focus.table)
    params: dict[str, Any] = {"provider": run.provider, "billing_day": run.billing_day}
    slice_sql = "WHERE x_cloud_provider = @provider AND x_ingestion_date = @billing_day"
    with warehouse.session(dataset) as session:
        warehouse.ensure_table(session, dataset, focus)
        warehouse.ensure_table(session, dataset, focus_1_4_schema())
        warehouse.ensure_table(session, dataset, billing_period_1_4_schema())
        ensure_procedure(warehouse, session, dataset, org)
        catch_up_focus_1_4(warehouse, session, dataset)
        replaced = int(_one(session, f"SELECT COUNT(*) FROM {target} {slice_sql}", params) or 0)
        call = f"CALL {table_ref(warehouse.project, dataset, PROCEDURE)}(@provider, @source_format, @billing_day)"
        # BigQuery cancels the procedure's transaction when another provider's convert of the org mutates the same
        # tables ("Transaction concurrency", https://cloud.google.com/bigquery/docs/transactions): it rolled back
        # whole, so the same CALL runs again (warehouse/conflicts.py). The CALL runs outside a BigQuery session,
        # so a TEMP table the failed script made ended with it.
        warehouse.retry_conflicts(
            lambda: session.run(call, {**params, "source_format": source_format}),
            f"convert_to_focus {run.org}/{run.provider} {run.billing_day}",
        )
        rows = list(
            session.run(
                f"SELECT COUNT(*), COALESCE(SUM(BilledCost), 0), COALESCE(SUM(EffectiveCost), 0) FROM {target} "
                f"{slice_sql}",
                params,
            ).result()
        )
    count, billed, effective = rows[0] if rows else (0, 0, 0)
    return ConvertResult(int(count), str(Decimal(billed)), str(Decimal(effective)), replaced)
