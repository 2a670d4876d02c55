"""The two floors: bare DuckDB doing the conversion with nothing of ours around it, over the same export files.

Both read the export with DuckDB's own multi-file readers (``read_parquet``, or ``read_csv`` with every column as
text) and type it with the pipeline's own building blocks, so they change when those change:
``normalize.column_expression`` for every raw column and ``normalize.row_day_expression`` for ``ingestion_date``,
then the provider's procedure rendered by ``duckdb_convert.render_procedure`` with the lookups of
``register_lookups``. One textual change: the procedure keeps the rows of ``$billing_day``; here that becomes the
row's own ``ingestion_date``, so one statement converts every day of the export (the OCI procedure's per-tenant
currency fallback then looks across the export instead of one day).

* **projection floor**: one in-memory ``COPY (SELECT <FOCUS> FROM <typed view over the files>) TO 'out.parquet'``:
  no raw table at all.
* **raw-table floor**: what the mission requires and nothing else, in a DuckDB file: create the raw table (the
  pipeline's DDL: every source column and the lineage columns) from the files in one ``INSERT … SELECT``, then
  insert FOCUS (the pipeline's DDL) from it in one statement, commit, close.

Both run under the pipeline's DuckDB bounds (``configs/warehouse.yml``: memory limit, threads, temp directory), as
a task of ours would.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from exports import ExportFiles

from cloudcost.config import load_billing_config, load_org_by_slug, load_warehouse_config
from cloudcost.schemas import duckdb_create_table, duckdb_type, focus_schema, load_table_schema, quote_column
from cloudcost.sources.export_file import ExportFile, quote_name
from cloudcost.sources.normalize import LINEAGE_COLUMNS, column_expression, export_columns, row_day_expression
from cloudcost.warehouse.duckdb import DuckDBSession, configure, register_lookups
from cloudcost.warehouse.duckdb_convert import procedure_lookups, render_procedure

RAW_VIEW = "bench_raw"
DATASET_COLUMN = "x_cost_dataset"  # Azure: which export a row came from (the reader sets it)


def _listed(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def reader_sql(provider: str, files: ExportFiles) -> str:
    """The export's rows as DuckDB reads them, with no pipeline code in between."""
    if files.format == "parquet":
        return f"read_parquet({_listed(files.main)}, union_by_name = true, hive_partitioning = false)"
    options = "header = true, all_varchar = true, union_by_name = true, hive_partitioning = false"
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
        "x_pipeline_id": "'bench-floor'",
        "x_credential_id": "'none'",
        "x_run_id": "'bench'",
        "x_ingested_at": "now()",
        "x_pipeline_run_date": f"cast({day_expression} as date)",
        "x_source_object": "'bench'",
        "x_source_version": "'bench'",
    }
    return constants[name]


def _connect(database: str) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(database)
    settings = load_warehouse_config().duckdb
    temp = Path(settings.temp_directory) if settings.temp_directory else Path("/tmp/cloudcost-bench-duckdb")
    configure(connection, settings, temp, "floor")
    return connection


def typed_raw(con: duckdb.DuckDBPyConnection, provider: str, files: ExportFiles, org_slug: str) -> tuple:
    """The raw table's columns and the SELECT that types the export's rows into them, and the format's config."""
    config, org = load_billing_config(provider), load_org_by_slug(org_slug)
    fmt = config.formats[org.providers[provider].export.format]  # type: ignore[index]
    raw = load_table_schema(fmt.schema_file)
    reader = reader_sql(provider, files)
    schema = con.sql(f"select * from {reader} limit 0").to_arrow_table().schema
    file = ExportFile("bench", files.all[0], files.format, reader, schema, tuple(quote_name(n) for n in schema.names))
    day = row_day_expression(raw, file)
    names = [c.name for c in export_columns(raw)] + list(LINEAGE_COLUMNS)
    expressions = [column_expression(c, file) for c in export_columns(raw)]
    expressions += [_lineage(name, day) for name in LINEAGE_COLUMNS]
    select = f"select {', '.join(f'{e} as {quote_column(n)}' for e, n in zip(expressions, names, strict=True))} "
    return raw, fmt, names, select + f"from {reader}"


def focus_select(con: duckdb.DuckDBPyConnection, fmt: object, raw_relation: str) -> tuple[list[str], str]:
    lookups = register_lookups(DuckDBSession(con), procedure_lookups(fmt.procedure))  # type: ignore[attr-defined]
    procedure = render_procedure(fmt.procedure, raw_relation, lookups).replace("$billing_day", "ingestion_date")  # type: ignore[attr-defined]
    focus = focus_schema()
    projected = ", ".join(
        f"cast({quote_column(c.name)} as {duckdb_type(c.type)}) as {quote_column(c.name)}" for c in focus.columns
    )
    return [c.name for c in focus.columns], f"select {projected} from ({procedure})"


def run(provider: str, files: ExportFiles, out: Path, org_slug: str) -> dict:
    """Projection floor: build the statement (not timed), then time the COPY alone."""
    con = _connect(":memory:")
    _, fmt, _, select = typed_raw(con, provider, files, org_slug)
    con.execute(f"create or replace temp view {RAW_VIEW} as {select}")
    _, focus = focus_select(con, fmt, RAW_VIEW)
    started = time.perf_counter()
    con.execute(f"COPY ({focus}) TO '{out}' (FORMAT parquet)")
    work = time.perf_counter() - started
    con.close()
    return {"work_s": work}


def run_raw_table(provider: str, files: ExportFiles, out: Path, org_slug: str) -> dict:
    """Raw-table floor: raw table from the files, FOCUS from the raw table, in a DuckDB file; timed from the
    first statement to the closed file (commit and checkpoint included, as ours pays them)."""
    con = _connect(str(out))
    raw, fmt, names, select = typed_raw(con, provider, files, org_slug)
    con.execute("create schema demo_prod")
    con.execute(duckdb_create_table(raw, f"demo_prod.{raw.table}"))
    focus = focus_schema()
    con.execute(duckdb_create_table(focus, f"demo_prod.{focus.table}"))
    columns, focus_sql = focus_select(con, fmt, f"demo_prod.{raw.table}")
    started = time.perf_counter()
    con.execute(f"insert into demo_prod.{raw.table} ({', '.join(map(quote_column, names))}) {select}")
    landed = time.perf_counter()
    con.execute(f"insert into demo_prod.{focus.table} ({', '.join(map(quote_column, columns))}) {focus_sql}")
    con.close()
    finished = time.perf_counter()
    return {"work_s": finished - started, "raw_s": landed - started, "focus_s": finished - landed}
