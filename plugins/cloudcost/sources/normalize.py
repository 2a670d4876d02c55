"""Type an export file's columns into raw-table rows, in SQL (DuckDB dialect), never row by row.

The file is read verbatim (``sources/export_file.py``); the rules of typing are all here:

* text columns land byte for byte (no trimming; only the empty field is NULL);
* money and quantities are ``DECIMAL(38,10)`` parsed from the file's text (exact up to the 10th decimal; a value
  with more decimals is rounded half away from zero at the 10th);
* a Parquet (or JSON) double, as CUR 2.0 and BigQuery declare money, becomes the decimal its shortest
  round-trip text shows (``5656952.81`` stays ``5656952.81``, not ``5656952.8099999992``), then as above;
* timestamps are ISO 8601 or one of the column's documented formats (Azure's ``MM/DD/YYYY``);
* provider maps and records become JSON; OCI's one-column-per-tag becomes one JSON object, keys exactly as the
  headers spell them.

A value that does not convert, or a required value that is empty, gets an error naming the file, the data row
(1-based) and the column by its header.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from cloudcost.paths import config_dir
from cloudcost.schemas import DECIMAL_PRECISION, DECIMAL_SCALE, Column, TableSchema, duckdb_type
from cloudcost.sources.export_file import ExportFile, quote_name, sql_literal

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

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
DECIMAL = f"decimal({DECIMAL_PRECISION}, {DECIMAL_SCALE})"


class MissingColumn(ValueError):
    """A required column is absent from an export file."""


class BadValue(ValueError):
    """A value in an export file cannot be converted to its column's type, or a required value is empty."""


def _kind(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_map(arrow_type) or pa.types.is_struct(arrow_type) or pa.types.is_list(arrow_type):
        return "nested"
    return "typed"


@dataclass(frozen=True)
class Found:
    """Where a column is in a file: the SQL that reads it, its kind (text, double, nested, json, typed) and the
    header a person sees (for messages)."""

    ref: str
    kind: str
    header: str


def resolve(column: Column, file: ExportFile) -> Found | None:
    """Where ``column`` is in the file, or None if absent.

    ``column.source`` (default: the column's name) may be a dotted path: a flattened header such as
    ``service.id`` (CSV), or a field inside a struct column (``service`` -> ``id``, Parquet). A header spelled
    exactly as the path or an alias wins over one that matches only when letter case is ignored.
    """
    path = column.source or column.name
    names = file.headers
    candidates = (path, *column.aliases)
    found = next((c for c in candidates if c in names), None)
    if found is None:
        folded = {name.lower(): name for name in names}
        found = next((folded[c.lower()] for c in candidates if c.lower() in folded), None)
    if found is not None:
        return Found(
            file.ref(found), "json" if found in file.json_fields else _kind(file.schema.field(found).type), found
        )
    head, *rest = path.split(".")
    if head not in names or not rest:
        return None
    if head in file.json_fields:
        as_json = column.type == "json"
        return Found(file.json_ref(head, rest, as_json), "json" if as_json else "text", path)
    ref, arrow_type = file.ref(head), file.schema.field(head).type
    for part in rest:
        if not pa.types.is_struct(arrow_type) or arrow_type.get_field_index(part) < 0:
            return None
        ref = f"struct_extract({ref}, {sql_literal(part)})"
        arrow_type = arrow_type.field(part).type
    return Found(ref, _kind(arrow_type), path)


def iso_4217_codes() -> tuple[str, ...]:
    """configs/lookups/iso_4217_currencies.csv: the codes the FOCUS referee accepts."""
    return _codes(config_dir() / "lookups" / "iso_4217_currencies.csv")


@cache
def _codes(path: Path) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(row["currency_code"] for row in csv.DictReader(handle))


def column_expression(column: Column, file: ExportFile, *, lenient: bool = False) -> str:
    """The SQL that reads ``column`` from the file; ``lenient`` uses TRY_CAST (for diagnosis only)."""
    target = duckdb_type(column.type)
    if column.collect_prefix:
        return collected_object(column.collect_prefix, file)
    found = resolve(column, file)
    if found is None:
        return f"cast(null as {target})"
    ref, kind = found.ref, found.kind
    cast = "try_cast" if lenient else "cast"
    if kind == "text" and column.type == "string":
        text = f"nullif({ref}, '')"  # verbatim: no trimming, and the empty field is the only null
        if column.check == "iso_4217":
            allowed = f"{text} in ({', '.join(sql_literal(code) for code in iso_4217_codes())})"
            if lenient:
                return f"case when {allowed} then {text} end"
            return f"case when {text} is null or {allowed} then {text} else error('not an ISO 4217 currency code') end"
        return text
    if kind == "json":  # a JSON file's record or array, or a value inside one read as JSON
        return ref if column.type == "json" else f"{cast}({ref} as {target})"
    if kind == "text":
        text = f"nullif(trim({ref}), '')"  # parsed values: surrounding blanks carry no meaning
        if column.type == "json":
            if column.wrap_json_object:
                text = f"case when left({text}, 1) in ('{{', '[') then {text} else '{{' || {text} || '}}' end"
            return f"case when json_valid({text}) then cast({text} as json) end" if lenient else f"cast({text} as json)"
        if column.type in ("timestamp", "date") and column.formats:
            formats = ", ".join(sql_literal(f) for f in column.formats)
            parse = "try_strptime" if lenient else "strptime"
            parsed = f"coalesce(try_cast({text} as {target}), {parse}({text}, [{formats}])::{target})"
            return f"case when {text} is null then null else {parsed} end"
        return f"{cast}({text} as {target})"
    if column.type == "json" and kind == "nested":
        return f"to_json({ref})"
    if column.type == "decimal" and kind == "double":
        # A double is the decimal its shortest round-trip text shows (what the provider computed), never the
        # binary expansion of the double: cast(5656952.81::double as decimal) would give 5656952.8099999992.
        return f"{cast}(cast({ref} as varchar) as {DECIMAL})"
    if column.type == "string":
        return f"cast({ref} as varchar)"
    return f"{cast}({ref} as {target})"


def collected_object(prefix: str, file: ExportFile) -> str:
    """A JSON object of every non-empty ``<prefix><key>`` column (OCI writes one column per tag), keyed by the
    header exactly as written: ``tags/free-form.team`` and ``tags/free-form.Team`` are two keys."""
    names = [name for name in file.headers if name.startswith(prefix) and len(name) > len(prefix)]
    if not names:
        return "cast(null as json)"
    entries = ", ".join(
        f"struct_pack(k := {sql_literal(name[len(prefix) :])}, v := nullif(cast({file.ref(name)} as varchar), ''))"
        for name in names
    )
    pairs = f"list_filter([{entries}], lambda x: x.v is not null)"
    return f"case when len({pairs}) = 0 then null else to_json(map_from_entries({pairs})) end"


def export_columns(schema: TableSchema) -> list[Column]:
    return [c for c in schema.columns if c.name not in LINEAGE_COLUMNS]


def json_keys(schema: TableSchema) -> dict[str, str]:
    """The top-level keys a JSON file of ``schema``'s export is read by: a record (a dotted source) or a JSON
    column as JSON, every other as its text."""
    keys: dict[str, str] = {}
    for column in export_columns(schema):
        if column.collect_prefix:
            continue
        head, *rest = (column.source or column.name).split(".")
        kind = "JSON" if rest or column.type == "json" else "VARCHAR"
        keys[head] = "JSON" if keys.get(head) == "JSON" else kind
    return keys


def check_required(schema: TableSchema, file: ExportFile, provided: Collection[str] = ()) -> None:
    """Refuse a file whose header repeats a name, or lacks a required column (``provided``: set by the reader)."""
    names = file.headers
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise BadValue(f"{file.name}: duplicated column(s) in header: {', '.join(duplicated)}")
    missing = [
        c.source or c.name
        for c in export_columns(schema)
        if c.required and c.name not in provided and not c.collect_prefix and resolve(c, file) is None
    ]
    if missing:
        raise MissingColumn(f"{file.name}: missing required column(s): {', '.join(missing)}")


def row_day_expression(schema: TableSchema, file: ExportFile) -> str:
    """The billing day a row belongs to: its usage day, clamped into its billing period when known."""
    if schema.day_column is None:
        raise ValueError(f"schema {schema.table} has no day_column")

    def as_date(name: str) -> str:
        return f"cast({column_expression(schema.column(name), file)} as date)"

    day = as_date(schema.day_column)
    if schema.period_start_column and schema.period_end_column:
        start, end = as_date(schema.period_start_column), as_date(schema.period_end_column)
        last = end if schema.period_end_inclusive else f"{end} - 1"
        day = f"least(greatest({day}, {start}), {last})"
    return day


OUTSIDE_DAYS = "row outside the delivery's billing days"
DAY_ALIAS = '"__cloudcost_billing_day"'


FILES_VIEW = "cloudcost_delivery_files"  # per_file: path, key, version, day bounds and constants of each file
FILE_COLUMN = "__cloudcost_file"


def per_file(name: str) -> str:
    """A column of ``FILES_VIEW``: named so that no export header can collide with it."""
    return quote_name(f"__cloudcost_{name}")


def select_sql(
    schema: TableSchema, file: ExportFile, constants: Collection[str], *, days_bound: bool, files_view: bool = False
) -> tuple[list[str], str]:
    """Target columns and the SELECT that types every row of ``file``.

    The lineage columns except ``ingestion_date`` (each row's billing day) are parameters (``$x_...``). So are,
    for one file, ``$x_source_object``, ``$x_source_version``, ``$const_<name>`` (the columns the reader sets,
    e.g. Azure's ``x_cost_dataset``) and ``$first_day``/``$last_day`` when ``days_bound`` (a row outside them
    fails the statement). With ``files_view``, ``file`` reads several files (``FILE_COLUMN`` holds each row's
    path) and those values come from the registered ``FILES_VIEW``, one row per file (see ``per_file``)."""

    parameters = {"key": "$x_source_object", "version": "$x_source_version"}

    def value(name: str) -> str:
        return per_file(name) if files_view else parameters.get(name, f"${name}")

    source_values = {"x_source_object": value("key"), "x_source_version": value("version")}
    targets, expressions = [], []
    for column in export_columns(schema):
        targets.append(column.name)
        if column.name in constants:
            expressions.append(value(f"const_{column.name}"))
        else:
            expressions.append(column_expression(column, file))
    day = DAY_ALIAS
    if days_bound:
        first, last = value("first_day"), value("last_day")
        day = (
            f"case when {first} is null or {DAY_ALIAS} is null or {DAY_ALIAS} between {first} and {last} "
            f"then {DAY_ALIAS} else error({sql_literal(OUTSIDE_DAYS)}) end"
        )
    for name in LINEAGE_COLUMNS:
        targets.append(name)
        expressions.append(day if name == "ingestion_date" else source_values.get(name, f"${name}"))
    # the billing day is computed once per row, in the subquery, however often the bound check names it
    rows = f"(select *, {row_day_expression(schema, file)} as {DAY_ALIAS} from {file.relation})"
    if files_view:
        rows += f" as r join {FILES_VIEW} as f on r.{quote_name(FILE_COLUMN)} = f.{per_file('path')}"
    return targets, f"select {', '.join(expressions)} from {rows}"


def diagnose(connection: DuckDBPyConnection, schema: TableSchema, file: ExportFile, provided: Collection[str]) -> str:
    """The first value of ``file`` that does not convert, or the first empty required value:
    ``file: data row N, column 'Header': value 'x' is not a valid decimal``. Empty if none is found."""
    numbered = file.numbered()
    for column in export_columns(schema):
        if column.name in provided or column.collect_prefix:
            continue
        found = resolve(column, file)
        label = found.header if found else column.source or column.name
        strict = column_expression(column, file)
        if found is not None and not (column.type == "string" and not column.check):
            raw_text = f"nullif(trim(cast({found.ref} as varchar)), '')"
            lenient = column_expression(column, file, lenient=True)
            bad = _first(
                connection,
                f"select __row, cast({found.ref} as varchar) from {numbered} "
                f"where {raw_text} is not null and ({lenient}) is null order by __row limit 1",
            )
            if bad:
                row, value = bad
                shown = value if len(value) <= 60 else value[:57] + "..."
                what = "ISO 4217 currency code" if column.check else column.type
                return f"{file.name}: data row {row}, column {label!r}: value {shown!r} is not a valid {what}"
        if not column.nullable:
            empty = _first(connection, f"select __row from {numbered} where ({strict}) is null order by __row limit 1")
            if empty:
                return f"{file.name}: data row {empty[0]}, column {label!r}: empty, but the column is required"
    return ""


def diagnose_day(
    connection: DuckDBPyConnection, schema: TableSchema, file: ExportFile, first_day: object, last_day: object
) -> str:
    """The first row whose billing day falls outside the delivery's days."""
    day = row_day_expression(schema, file)
    found = _first(
        connection,
        f"select __row, cast({day} as varchar) from {file.numbered()} "
        f"where ({day}) not between $first_day and $last_day order by __row limit 1",
        {"first_day": first_day, "last_day": last_day},
    )
    if not found:
        return ""
    return (
        f"{file.name}: data row {found[0]}: billing day {found[1]} is outside the days this delivery covers "
        f"({first_day}..{last_day})"
    )


def _first(connection: DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple | None:
    cursor = connection.execute(sql, params) if params else connection.execute(sql)
    rows = cursor.fetchall()  # the queries ask for one row; fetching all of it completes the result
    return rows[0] if rows else None
