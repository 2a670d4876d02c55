"""Turn an export's record batch into typed raw-table rows, in SQL (DuckDB dialect), never row by row.

Text from CSV and doubles from Parquet become exact DECIMALs here; provider maps become JSON; a value
that does not convert gets an error naming the file, the row and the column.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pyarrow as pa

from cloudcost.paths import config_dir
from cloudcost.schemas import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    Column,
    TableSchema,
    duckdb_type,
    quote_column,
    quote_header,
)
from cloudcost.warehouse.base import Session

BATCH_VIEW = "cloudcost_export_batch"
LINEAGE_COLUMNS = (
    "ingestion_date",
    "x_pipeline_id",
    "x_credential_id",
    "x_run_id",
    "x_ingested_at",
    "x_pipeline_run_date",
    "x_source_object",
    "x_source_version",
)


class MissingColumn(ValueError):
    """A required column is absent from an export file."""


class BadValue(ValueError):
    """A value in an export file cannot be converted to its column's type."""


def _is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _is_nested(arrow_type: pa.DataType) -> bool:
    return pa.types.is_map(arrow_type) or pa.types.is_struct(arrow_type) or pa.types.is_list(arrow_type)


def resolve(column: Column, arrow_schema: pa.Schema) -> tuple[str | None, pa.DataType | None]:
    """Where ``column`` is in the batch: SQL reference and Arrow type, or ``(None, None)`` if absent.

    ``column.source`` (default: the column's name) may be a dotted path: a flattened header such as
    ``service.id`` (CSV), or a field inside a struct column (``service`` -> ``id``, native exports).
    """
    path = column.source or column.name
    names = arrow_schema.names
    if path in names:
        return quote_header(path), arrow_schema.field(path).type
    folded = {name.lower(): name for name in names}
    for candidate in (path, *column.aliases):
        if candidate.lower() in folded:
            found = folded[candidate.lower()]
            return quote_header(found), arrow_schema.field(found).type
    head, *rest = path.split(".")
    if head not in names or not rest:
        return None, None
    ref, arrow_type = quote_column(head), arrow_schema.field(head).type
    for part in rest:
        if not pa.types.is_struct(arrow_type) or arrow_type.get_field_index(part) < 0:
            return None, None
        ref = f"struct_extract({ref}, '{part}')"
        arrow_type = arrow_type.field(part).type
    return ref, arrow_type


def iso_4217_codes() -> tuple[str, ...]:
    """configs/lookups/iso_4217_currencies.csv: the codes the FOCUS referee accepts."""
    return _codes(config_dir() / "lookups" / "iso_4217_currencies.csv")


@cache
def _codes(path: Path) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(row["currency_code"] for row in csv.DictReader(handle))


def column_expression(column: Column, arrow_schema: pa.Schema, *, lenient: bool = False) -> str:
    """The SQL that reads ``column`` from the batch; ``lenient`` uses TRY_CAST (for diagnosis only)."""
    target = duckdb_type(column.type)
    if column.collect_prefix:
        return collected_object(column.collect_prefix, arrow_schema)
    ref, arrow_type = resolve(column, arrow_schema)
    if ref is None or arrow_type is None:
        return f"cast(null as {target})"
    cast = "try_cast" if lenient else "cast"
    if _is_text(arrow_type):
        text = f"nullif(trim({ref}), '')"
        if column.type == "string" and column.check == "iso_4217":
            allowed = f"{text} in ({', '.join(repr(code) for code in iso_4217_codes())})"
            if lenient:
                return f"case when {allowed} then {text} end"
            return f"case when {text} is null or {allowed} then {text} else error('not an ISO 4217 currency code') end"
        if column.type == "string":
            return text
        if column.type == "json" and column.wrap_json_object:
            text = f"case when left({text}, 1) in ('{{', '[') then {text} else '{{' || {text} || '}}' end"
        if column.type in ("timestamp", "date") and column.formats:
            formats = ", ".join("'" + f.replace("'", "''") + "'" for f in column.formats)
            parse = "try_strptime" if lenient else "strptime"
            parsed = f"coalesce(try_cast({text} as {target}), {parse}({text}, [{formats}])::{target})"
            return f"case when {text} is null then null else {parsed} end"
        return f"{cast}({text} as {target})"
    if column.type == "json" and _is_nested(arrow_type):
        return f"to_json({ref})"
    if column.type == "decimal" and pa.types.is_floating(arrow_type):
        # Parquet exports carry doubles; round once, at ingestion, to the decimal they stand for.
        return f"{cast}(round({ref}, {DECIMAL_SCALE}) as decimal({DECIMAL_PRECISION}, {DECIMAL_SCALE}))"
    return f"{cast}({ref} as {target})"


def collected_object(prefix: str, arrow_schema: pa.Schema) -> str:
    """A JSON object of every non-empty ``<prefix><key>`` column (OCI writes one column per tag)."""
    names = [name for name in arrow_schema.names if name.startswith(prefix) and len(name) > len(prefix)]
    if not names:
        return "cast(null as json)"
    entries = ", ".join(
        "struct_pack(k := '{}', v := nullif(trim(cast({} as varchar)), ''))".format(
            name[len(prefix) :].replace("'", "''"), quote_header(name)
        )
        for name in names
    )
    pairs = f"list_filter([{entries}], lambda x: x.v is not null)"
    return f"case when len({pairs}) = 0 then null else to_json(map_from_entries({pairs})) end"


def export_columns(schema: TableSchema) -> list[Column]:
    return [c for c in schema.columns if c.name not in LINEAGE_COLUMNS]


def check_required(schema: TableSchema, arrow_schema: pa.Schema, source_object: str) -> None:
    duplicated = sorted({n for n in arrow_schema.names if arrow_schema.names.count(n) > 1})
    if duplicated:
        raise BadValue(f"{source_object}: duplicated column(s) in header: {', '.join(duplicated)}")
    missing = [c.source or c.name for c in export_columns(schema) if c.required and resolve(c, arrow_schema)[0] is None]
    if missing:
        raise MissingColumn(f"{source_object}: missing required column(s): {', '.join(missing)}")


def row_day_expression(schema: TableSchema, arrow_schema: pa.Schema) -> str:
    """The billing day a row belongs to: its usage day, clamped into its billing period when known."""
    if schema.day_column is None:
        raise ValueError(f"schema {schema.table} has no day_column")

    def as_date(name: str) -> str:
        return f"cast({column_expression(schema.column(name), arrow_schema)} as date)"

    day = as_date(schema.day_column)
    if schema.period_start_column and schema.period_end_column:
        start, end = as_date(schema.period_start_column), as_date(schema.period_end_column)
        last = end if schema.period_end_inclusive else f"{end} - 1"
        day = f"least(greatest({day}, {start}), {last})"
    return day


def select_sql(schema: TableSchema, arrow_schema: pa.Schema) -> tuple[list[str], str]:
    """Target columns and the SELECT over the registered batch, keeping the rows of ``$billing_day``."""
    targets, expressions = [], []
    for column in export_columns(schema):
        targets.append(column.name)
        expressions.append(column_expression(column, arrow_schema))
    for name in LINEAGE_COLUMNS:
        targets.append(name)
        expressions.append(f"${name}")
    day = row_day_expression(schema, arrow_schema)
    sql = f"select {', '.join(expressions)} from {BATCH_VIEW} where {day} = $billing_day"
    return targets, sql


def diagnose(
    session: Session, schema: TableSchema, arrow_schema: pa.Schema, source_object: str, row_offset: int
) -> str:
    """Find the first value that does not convert: ``file row N column C: value 'x' is not a <type>``."""
    for column in export_columns(schema):
        ref, arrow_type = resolve(column, arrow_schema)
        if ref is None or arrow_type is None or (column.type == "string" and not column.check):
            continue
        strict_input = f"nullif(trim({ref}), '')" if _is_text(arrow_type) else ref
        lenient = column_expression(column, arrow_schema, lenient=True)
        if column.type == "json" and _is_text(arrow_type):
            lenient = f"case when json_valid({strict_input}) then {strict_input} end"
        rows = session.fetchall(
            f"select rn, value from (select row_number() over () as rn, cast({strict_input} as varchar) as value, "
            f"{lenient} as converted from {BATCH_VIEW}) where value is not null and converted is null limit 1"
        )
        if rows:
            rn, value = rows[0]
            shown = value if len(value) <= 60 else value[:57] + "..."
            return (
                f"{source_object}: data row {row_offset + rn}, column '{column.source or column.name}': "
                f"value {shown!r} is not a valid {'ISO 4217 currency code' if column.check else column.type}"
            )
    return f"{source_object}: a value in the batch starting at data row {row_offset + 1} could not be converted"
