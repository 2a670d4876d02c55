"""FOCUS columns as Arrow: the schema's Arrow types, and batches made typed or exact text whichever warehouse
produced them (the export and validate read FOCUS rows this way).

Warehouses hand the same columns over in different Arrow types (a decimal may come as ``decimal256(76, 38)`` or
``decimal128(38, 10)``, JSON as an extension type or as plain text), so the SQL selects columns as they are
stored and the conversion happens here, once:

- ``typed``: the schema's Arrow types (``arrow_schema``); a cast that would lose a digit raises;
- ``as_text``: exact text for CSV and JSON: decimals with all 10 decimals and no exponent (Arrow writes values
  below 1e-6, and 0, as ``1.234E-7``/``0E-10``; those few are formatted by Python's Decimal), timestamps RFC 3339
  UTC with ``Z`` and a fraction only when there is one, dates ISO, JSON as its text.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cloudcost.schemas import DECIMAL_PRECISION, DECIMAL_SCALE, Column

_ARROW_TYPES = {
    "string": pa.string(),
    "json": pa.string(),  # as text: the validator and the export's readers parse JSON columns from text
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
}


def arrow_schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in columns])


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """An extension-typed column (JSON, from some warehouses) as its storage."""
    if isinstance(column.type, pa.ExtensionType):
        storage = [chunk.storage for chunk in column.chunks if isinstance(chunk, pa.ExtensionArray)]
        return pa.chunked_array(storage, column.type.storage_type)  # type: ignore[call-overload]  # stubs: no overload takes a DataType for a list of arrays
    return column


def typed(batch: pa.RecordBatch, columns: list[Column]) -> pa.Table:
    """The batch in the schema's Arrow types (columns in ``columns`` order)."""
    table = pa.Table.from_batches([batch])
    target = arrow_schema(columns)
    arrays = [_plain(table.column(c.name)).cast(target.field(c.name).type) for c in columns]
    return pa.Table.from_arrays(arrays, schema=target)


def _decimal_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    values = column.combine_chunks()
    text = pc.cast(values, pa.string())
    scientific: pa.BooleanArray = pc.fill_null(pc.match_substring(text, "E"), False)  # type: ignore[assignment,type-var]  # pyarrow-stubs 20 types compute results as generic Arrays/objects (the mask is a BooleanArray)
    if pc.any(scientific).as_py():
        fixed = pa.array([format(v, "f") for v in pc.filter(values, scientific).to_pylist()], pa.string())
        text = pc.replace_with_mask(text, scientific, fixed)
    return pa.chunked_array([text])


def _timestamp_text(values: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    text = pc.strftime(values, format="%Y-%m-%dT%H:%M:%SZ")  # %S carries the microseconds
    return pc.replace_substring_regex(text, pattern=r"\.000000Z$", replacement="Z")


def as_text(batch: pa.RecordBatch, columns: list[Column]) -> pa.Table:
    """Every column of the batch as exact text (NULL stays NULL)."""
    table = typed(batch, columns)
    arrays: list[pa.ChunkedArray | pa.Array] = []
    for column in columns:
        values = table.column(column.name)
        if column.type == "decimal":
            arrays.append(_decimal_text(values))
        elif column.type == "timestamp":
            arrays.append(_timestamp_text(values))
        else:
            arrays.append(pc.cast(values, pa.string()))
    return pa.Table.from_arrays(arrays, schema=pa.schema([pa.field(c.name, pa.string()) for c in columns]))
