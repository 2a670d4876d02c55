"""The lower bound: one bare DuckDB ``COPY (SELECT <the same projection>) TO 'out.parquet'`` per export.

The projection is not a copy of our SQL: it is assembled from the pipeline's own building blocks, so it
changes when they change.

* raw typing: ``normalize.column_expression`` for every export column and ``normalize.row_day_expression``
  for ``ingestion_date`` (exactly what ``land_raw``'s ``select_sql`` puts in its INSERT), over the export
  files read by DuckDB itself (``read_parquet``, or ``read_csv`` with every column as text, which is how
  our reader hands CSV columns to DuckDB);
* FOCUS: the provider's procedure rendered by ``convert_to_focus.render_procedure`` with its lookups
  loaded by ``lookups.refresh_lookups``, over that typed view instead of the raw table.

One textual change: the procedure keeps the rows of ``$billing_day``; here ``$billing_day`` becomes the
row's own ``ingestion_date``, so one statement converts every day of the export in one pass (the OCI
procedure's per-tenant currency fallback then looks across the export instead of one day).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from exports import ExportFiles

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.lookups import refresh_lookups
from cloudcost.pipeline.convert_to_focus import procedure_lookups, render_procedure
from cloudcost.pipeline.normalize import LINEAGE_COLUMNS, column_expression, export_columns, row_day_expression
from cloudcost.schemas import duckdb_type, focus_schema, load_table_schema, quote_column
from cloudcost.warehouse.duckdb import DuckDBSession

RAW_VIEW = "bench_raw"
DATASET_COLUMN = "x_cost_dataset"  # Azure: which export a row came from (cloudcost.sources.azure adds it)


def _listed(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def reader_sql(provider: str, files: ExportFiles) -> str:
    """The export's rows as DuckDB reads them, with no pipeline code in between."""
    if files.format == "parquet":
        return f"read_parquet({_listed(files.main)})"
    options = "header = true, all_varchar = true, union_by_name = true"
    if provider == "azure":
        return (
            f"(select *, 'amortized' as {DATASET_COLUMN} from read_csv({_listed(files.main)}, {options}) "
            f"union all by name select *, 'actual' as {DATASET_COLUMN} from read_csv({_listed(files.companion)}, "
            f"{options}))"
        )
    return f"read_csv({_listed(files.main)}, {options})"


def _lineage(name: str, day_expression: str) -> str:
    constants = {
        "ingestion_date": day_expression,
        "x_pipeline_id": "'bench-lower-bound'",
        "x_credential_id": "'none'",
        "x_run_id": "'bench'",
        "x_ingested_at": "now()",
        "x_pipeline_run_date": f"cast({day_expression} as date)",
        "x_source_object": "'bench'",
        "x_source_version": "'bench'",
    }
    return f"{constants[name]} as {quote_column(name)}"


def build(con: duckdb.DuckDBPyConnection, provider: str, files: ExportFiles, org_slug: str) -> str:
    """Create the typed raw view and return the COPY's SELECT (FOCUS columns, cast to the FOCUS types)."""
    config, org = load_billing_config(provider), load_org_by_slug(org_slug)
    fmt = config.formats[org.providers[provider].export.format]  # type: ignore[index]
    raw = load_table_schema(fmt.schema_file)
    reader = reader_sql(provider, files)
    arrow_schema = con.sql(f"select * from {reader} limit 0").to_arrow_table().schema
    day = row_day_expression(raw, arrow_schema)
    columns = [f"{column_expression(c, arrow_schema)} as {quote_column(c.name)}" for c in export_columns(raw)]
    columns += [_lineage(name, day) for name in LINEAGE_COLUMNS]
    con.execute(f"create or replace temp view {RAW_VIEW} as select {', '.join(columns)} from {reader}")
    lookups = refresh_lookups(DuckDBSession(con), procedure_lookups(fmt.procedure))
    procedure = render_procedure(fmt.procedure, RAW_VIEW, lookups).replace("$billing_day", "ingestion_date")
    focus = focus_schema()
    projected = ", ".join(
        f"cast({quote_column(c.name)} as {duckdb_type(c.type)}) as {quote_column(c.name)}" for c in focus.columns
    )
    return f"select {projected} from ({procedure})"


def run(provider: str, files: ExportFiles, out: Path, org_slug: str) -> dict:
    """Build the statement (not timed), then time the COPY alone."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    select = build(con, provider, files, org_slug)
    started = time.perf_counter()
    con.execute(f"COPY ({select}) TO '{out}' (FORMAT parquet)")
    work = time.perf_counter() - started
    con.close()
    return {"work_s": work}
