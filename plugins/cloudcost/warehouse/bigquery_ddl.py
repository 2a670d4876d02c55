"""BigQuery statements generated from the same sources as DuckDB's: table DDL from ``schemas/*.yml`` (with the
partitioning, retention and clustering of ``billing.yml``), the convert procedure from ``procedures/``.

Every statement here is plain text (GoogleSQL); tests parse each one with sqlglot's BigQuery dialect and
compare them with the golden files in ``tests/fixtures/bigquery/``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from cloudcost.config import PROVIDERS, OrgConfig, Provider, RawFormat, load_billing_config
from cloudcost.identifiers import InvalidIdentifier
from cloudcost.lookups import REF_DATASET, lookup_files
from cloudcost.paths import procedures_dir
from cloudcost.schemas import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    TableSchema,
    billing_period_1_4_schema,
    focus_1_4_schema,
    focus_schema,
    load_table_schema,
)
from cloudcost.warehouse import focus_1_4
from cloudcost.warehouse.bigquery_sql import Parameters, TranslationError, duckdb_to_bigquery
from cloudcost.warehouse.focus_1_4_catch_up import missing_slices_select

PROCEDURE = "sp_cloud_1_convert_to_focus"

PROJECT = re.compile(r"^[a-z][a-z0-9\-]{4,28}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
_TOKEN = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")

_TYPES = {
    "string": "STRING",
    "decimal": f"BIGNUMERIC({DECIMAL_PRECISION}, {DECIMAL_SCALE})",  # NUMERIC keeps only 9 decimals
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "json": "JSON",
    "int64": "INT64",
    "bool": "BOOL",
}


def bigquery_type(logical: str) -> str:
    return _TYPES[logical]


def table_ref(project: str, dataset: str, table: str) -> str:
    """```project`.`dataset`.`table``` from validated names (project ids may hold '-', so each part is quoted)."""
    if not PROJECT.fullmatch(project):
        raise InvalidIdentifier(f"invalid BigQuery project id {project!r}")
    for name in (dataset, table):
        if not _NAME.fullmatch(name):
            raise InvalidIdentifier(f"invalid BigQuery dataset or table name {name!r}")
    return f"`{project}`.`{dataset}`.`{table}`"


def column_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidIdentifier(f"invalid column name {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class TableOptions:
    """How BigQuery stores a table: partition column (daily), partition expiration, clustering."""

    partition_by: str | None
    cluster_by: tuple[str, ...]
    partition_expiration_days: int | None


def raw_formats() -> list[tuple[Provider, str, RawFormat]]:
    """Every (provider, format name, format) of every ``billing.yml``."""
    return [(p, name, fmt) for p in PROVIDERS for name, fmt in load_billing_config(p).formats.items()]


def table_options(schema: TableSchema) -> TableOptions:
    """A raw table takes partitioning, retention and clustering from its ``billing.yml`` format; any other
    table from its schema file."""
    for _, _, fmt in raw_formats():
        if fmt.table == schema.table:
            return TableOptions(fmt.partition_by, tuple(fmt.cluster_by), fmt.retention_days)
    return TableOptions(schema.partition_by, tuple(schema.cluster_by), None)


def create_dataset_ddl(project: str, dataset: str, location: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9\-]{2,40}", location):
        raise InvalidIdentifier(f"invalid BigQuery location {location!r}")
    table_ref(project, dataset, "x")  # validates both names
    return f"CREATE SCHEMA IF NOT EXISTS `{project}`.`{dataset}` OPTIONS (location = '{location}')"


def create_table_ddl(project: str, dataset: str, schema: TableSchema, options: TableOptions | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS``, partitioned by day on a DATE column, expiring partitions, clustered."""
    options = options or table_options(schema)
    columns = ",\n  ".join(
        f"{column_name(c.name)} {bigquery_type(c.type)}{'' if c.nullable else ' NOT NULL'}" for c in schema.columns
    )
    sql = f"CREATE TABLE IF NOT EXISTS {table_ref(project, dataset, schema.table)} (\n  {columns}\n)"
    if options.partition_by:
        kind = schema.column(options.partition_by).type
        if kind not in ("date", "timestamp"):
            raise ValueError(f"{schema.table}: partition column {options.partition_by} is {kind}, not a date")
        partition = column_name(options.partition_by)
        sql += f"\nPARTITION BY {partition if kind == 'date' else f'DATE({partition})'}"
    if options.cluster_by:
        for name in options.cluster_by:
            schema.column(name)  # raises KeyError naming the table when a clustering column is not in it
        sql += f"\nCLUSTER BY {', '.join(column_name(c) for c in options.cluster_by)}"
    settings = []
    if options.partition_by and options.partition_expiration_days:
        settings.append(f"partition_expiration_days = {int(options.partition_expiration_days)}")
    if schema.description:
        settings.append(f"description = {_string(schema.description)}")
    if settings:
        sql += f"\nOPTIONS ({', '.join(settings)})"
    return sql


def add_column_ddl(project: str, dataset: str, table: str, name: str, logical: str) -> str:
    return (
        f"ALTER TABLE {table_ref(project, dataset, table)} ADD COLUMN IF NOT EXISTS "
        f"{column_name(name)} {bigquery_type(logical)}"
    )


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ") + "'"


# --------------------------------------------------------------------------- the convert procedure


def _quoted_ref(project: str, dataset: str, table: str) -> str:
    """The DuckDB spelling of a BigQuery table reference (what the procedure's placeholders are filled with)."""
    table_ref(project, dataset, table)
    return f'"{project}"."{dataset}"."{table}"'


def render_for_bigquery(project: str, dataset: str, fmt: RawFormat) -> str:
    """The format's DuckDB procedure with ``{{raw_table}}`` and lookups filled in as BigQuery tables."""
    path = procedures_dir() / fmt.procedure
    known = lookup_files()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "raw_table":
            return _quoted_ref(project, dataset, fmt.table)
        if name in known:
            return _quoted_ref(project, REF_DATASET, name)
        raise TranslationError(f"{path}: unknown placeholder {{{{{name}}}}}")

    return _TOKEN.sub(replace, path.read_text(encoding="utf-8"))


def procedure_lookups(fmt: RawFormat) -> list[str]:
    names = set(_TOKEN.findall((procedures_dir() / fmt.procedure).read_text(encoding="utf-8")))
    return sorted(names & set(lookup_files()))


def output_columns(duckdb_sql: str) -> list[str]:
    """The names a procedure's final SELECT produces (following ``select * from <cte>``)."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    select = tree
    while isinstance(select, exp.Select) and select.is_star:
        source = select.args["from_"].this
        ctes = {cte.alias: cte.this for cte in tree.find_all(exp.CTE)}
        if not isinstance(source, exp.Table) or source.name not in ctes:
            break
        select = ctes[source.name]
    if not isinstance(select, exp.Query):
        raise TranslationError(f"a procedure must end in a query, not {select.key}: {duckdb_sql[:80]!r}")
    return list(select.named_selects)


def convert_select(project: str, dataset: str, fmt: RawFormat, parameters: Parameters = "variables") -> str:
    """The translated SELECT of one format, checked to produce exactly the FOCUS columns."""
    sql = render_for_bigquery(project, dataset, fmt)
    produced = output_columns(sql)
    expected = focus_schema().column_names
    if sorted(produced) != sorted(expected):
        missing, extra = sorted(set(expected) - set(produced)), sorted(set(produced) - set(expected))
        raise TranslationError(f"procedures/{fmt.procedure}: output columns differ from FOCUS: {missing=} {extra=}")
    json_columns = [c.name for c in load_table_schema(fmt.schema_file).columns if c.type == "json"]
    return duckdb_to_bigquery(sql, json_columns=json_columns, parameters=parameters)


def _coerced(column: str, logical: str) -> str:
    """What DuckDB's INSERT does implicitly: round decimals to the column's scale, DATE/DATETIME to TIMESTAMP."""
    ref = f"S.{column_name(column)}"
    if logical == "decimal":
        return f"ROUND(CAST({ref} AS BIGNUMERIC), {DECIMAL_SCALE})"
    if logical == "timestamp":
        return f"CAST({ref} AS TIMESTAMP)"
    return ref


def replace_slice_merge(target: str, source: str, schema: TableSchema, slice_condition: str) -> str:
    """One MERGE that deletes the slice and inserts the source's rows: a single atomic DML statement."""
    columns = ", ".join(column_name(c.name) for c in schema.columns)
    values = ", ".join(_coerced(c.name, c.type) for c in schema.columns)
    return (
        f"MERGE {target} AS T\nUSING (\n{source}\n) AS S\nON FALSE\n"
        f"WHEN NOT MATCHED BY SOURCE AND {slice_condition} THEN DELETE\n"
        f"WHEN NOT MATCHED BY TARGET THEN INSERT ({columns})\nVALUES ({values})"
    )


def convert_statement(project: str, dataset: str, provider: str, fmt: RawFormat) -> str:
    """The MERGE one branch of the procedure runs: replace the (provider, billing_day) slice of FOCUS."""
    focus = focus_schema()
    return replace_slice_merge(
        table_ref(project, dataset, focus.table),
        convert_select(project, dataset, fmt),
        focus,
        "T.x_cloud_provider = provider AND T.x_ingestion_date = billing_day",
    )


def focus_1_4_select(project: str, dataset: str, relative_path: str) -> str:
    """One of ``procedures/sp_cloud_1_focus_1_4/``, translated, checked to give exactly its table's columns."""
    sql = focus_1_4.render(relative_path, lambda table: _quoted_ref(project, dataset, table))
    expected = {
        focus_1_4.COST_AND_USAGE: focus_1_4_schema().column_names,
        focus_1_4.BILLING_PERIOD: billing_period_1_4_schema().column_names,
        focus_1_4.REPLACED_PERIODS: focus_1_4.REPLACED_PERIODS_COLUMNS,
    }[relative_path]
    focus_1_4.check_columns(relative_path, output_columns(sql), expected)
    json_columns = [c.name for c in focus_schema().columns if c.type == "json"]
    return duckdb_to_bigquery(sql, json_columns=json_columns, parameters="variables")


BILLING_PERIOD_KEY = (
    "x_cloud_provider",
    "x_BillingAccountId",
    "x_BillingCurrency",
    "BillingPeriodStart",
    "InvoiceIssuerName",
)


def focus_1_4_statements(project: str, dataset: str) -> list[str]:
    """What the procedure runs once after its IF chain's 1.3 MERGE, for any provider: the billing-period keys the
    (provider, billing_day) slice of FOCUS 1.4 holds kept in a TEMP table, the slice replaced from the 1.3 slice, the
    billing periods it holds or held rebuilt (one MERGE on their key), the kept keys that no row holds any more
    deleted, and the TEMP table dropped. Plain ``CREATE TEMP TABLE`` (not ``OR REPLACE``): it and ``DROP TABLE`` of a
    temp table are the DDL a multi-statement transaction allows (cloud.google.com/bigquery/docs/transactions)."""
    replaced = focus_1_4.REPLACED_PERIODS_TABLE
    keep_replaced = f"CREATE TEMP TABLE {replaced} AS\n{focus_1_4_select(project, dataset, focus_1_4.REPLACED_PERIODS)}"
    cau = focus_1_4_schema()
    replace_cau = replace_slice_merge(
        table_ref(project, dataset, cau.table),
        focus_1_4_select(project, dataset, focus_1_4.COST_AND_USAGE),
        cau,
        "T.x_cloud_provider = provider AND T.x_ingestion_date = billing_day",
    )
    periods = billing_period_1_4_schema()
    on = " AND ".join(f"T.{column_name(c)} = S.{column_name(c)}" for c in BILLING_PERIOD_KEY)
    updates = ", ".join(
        f"{column_name(c.name)} = {_coerced(c.name, c.type)}"
        for c in periods.columns
        if c.name not in BILLING_PERIOD_KEY
    )
    columns = ", ".join(column_name(c.name) for c in periods.columns)
    values = ", ".join(_coerced(c.name, c.type) for c in periods.columns)
    rebuild_periods = (
        f"MERGE {table_ref(project, dataset, periods.table)} AS T\nUSING (\n"
        f"{focus_1_4_select(project, dataset, focus_1_4.BILLING_PERIOD)}\n) AS S\nON {on}\n"
        f"WHEN MATCHED THEN UPDATE SET {updates}\n"
        f"WHEN NOT MATCHED BY TARGET THEN INSERT ({columns})\nVALUES ({values})"
    )
    orphans = duckdb_to_bigquery(
        focus_1_4.render(focus_1_4.BILLING_PERIOD_ORPHANS, lambda table: _quoted_ref(project, dataset, table)),
        parameters="variables",
    )
    return [keep_replaced, replace_cau, rebuild_periods, orphans, f"DROP TABLE {replaced}"]


def enabled_formats(org: OrgConfig) -> list[tuple[Provider, str, RawFormat]]:
    """The (provider, format) pairs the org's file selects, in provider order."""
    chosen = []
    for provider, name, fmt in raw_formats():
        entry = org.providers.get(provider)
        if entry is not None and entry.enabled and entry.export.format == name:
            chosen.append((provider, name, fmt))
    return chosen


def convert_procedure(project: str, dataset: str, formats: list[tuple[Provider, str, RawFormat]]) -> str:
    """``CREATE OR REPLACE PROCEDURE sp_cloud_1_convert_to_focus(provider, source_format, billing_day)``: one
    IF branch per format, each one MERGE of the 1.3 slice, then the shared FOCUS 1.4 statements
    (``focus_1_4_statements``), all in one transaction: an error anywhere rolls every table back and is raised
    again. An unknown pair raises. The description carries a digest of the body so a deployment can tell whether
    the stored procedure is the current one."""
    if not formats:
        raise ValueError(f"dataset {dataset}: no export format enabled, no procedure to create")
    branches = []
    for index, (provider, name, fmt) in enumerate(formats):
        keyword = "IF" if index == 0 else "ELSEIF"
        statement = _indent(convert_statement(project, dataset, provider, fmt), 4)
        branches.append(f"  {keyword} provider = '{provider}' AND source_format = '{name}' THEN\n{statement};")
    shared = "".join(f"\n{_indent(statement, 2)};" for statement in focus_1_4_statements(project, dataset))
    body = (
        "  BEGIN TRANSACTION;\n"
        + "\n".join(branches)
        + "\n  ELSE\n    RAISE USING MESSAGE = CONCAT('"
        + PROCEDURE
        + ": no conversion for ', provider, ' export format ', source_format);\n  END IF;"
        + shared
        + "\n  COMMIT TRANSACTION;\nEXCEPTION WHEN ERROR THEN\n  ROLLBACK TRANSACTION;\n"
        "  RAISE USING MESSAGE = @@error.message;"
    )
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    return (
        f"CREATE OR REPLACE PROCEDURE {table_ref(project, dataset, PROCEDURE)}"
        "(provider STRING, source_format STRING, billing_day DATE)\n"
        f"OPTIONS (description = 'cloudcost {PROCEDURE} {digest}')\nBEGIN\n{body}\nEND"
    )


def procedure_digest(sql: str) -> str:
    """The digest ``convert_procedure`` wrote into the description."""
    match = re.search(rf"'cloudcost {PROCEDURE} ([0-9a-f]{{16}})'", sql)
    if not match:
        raise ValueError("not a cloudcost convert procedure")
    return f"cloudcost {PROCEDURE} {match.group(1)}"


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())


def raw_schema(fmt: RawFormat) -> TableSchema:
    return load_table_schema(fmt.schema_file)


CATCH_UP_PROCEDURE = "sp_cloud_1_focus_1_4_catch_up"


def focus_1_4_catch_up_procedure(project: str, dataset: str) -> str:
    """``CREATE OR REPLACE PROCEDURE sp_cloud_1_focus_1_4_catch_up()``: for every (provider, billing day) slice the
    1.3 table holds and 1.4 does not (``focus_1_4_catch_up``), the convert procedure's shared 1.4 statements with
    ``provider`` and ``billing_day`` set to it, in one transaction. No exception handler: on an error BigQuery fails
    the CALL and rolls the open transaction back itself (cloud.google.com/bigquery/docs/transactions)."""
    missing = duckdb_to_bigquery(missing_slices_select(lambda table: _quoted_ref(project, dataset, table)))
    shared = "".join(f"\n{_indent(statement, 4)};" for statement in focus_1_4_statements(project, dataset))
    body = (
        "  DECLARE provider STRING;\n  DECLARE billing_day DATE;\n  BEGIN TRANSACTION;\n"
        f"  FOR missing IN (\n{_indent(missing, 4)}\n  ) DO\n"
        "    SET provider = missing.x_cloud_provider;\n    SET billing_day = missing.x_ingestion_date;"
        f"{shared}\n  END FOR;\n  COMMIT TRANSACTION;"
    )
    return f"CREATE OR REPLACE PROCEDURE {table_ref(project, dataset, CATCH_UP_PROCEDURE)}()\nBEGIN\n{body}\nEND"
