"""One streaming writer per export format; each takes Arrow record batches and never holds the whole export.

- CSV per RFC 4180: UTF-8, header row, CRLF line ends, a field quoted when it holds a comma, quote, CR or LF
  (quotes doubled) and when it is the empty string, so an unquoted empty field is always NULL. Money and
  quantities are the exact DECIMAL(38,10) text (never through a float), timestamps ISO 8601 UTC with Z; the
  text comes from ``cloudcost.focus_arrow``, the quoting is vectorised with Arrow compute.
- Parquet: pyarrow, decimals as decimal128(38, 10), timestamps UTC, JSON columns as text, and the FOCUS version
  in the file's key-value metadata.
- JSON: JSON Lines, one pulumicost FocusCostRecord (proto3 JSON) per line (``cloudcost.export.pulumicost``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cloudcost.export.pulumicost import RecordBuilder, load_mapping

FORMATS = ("csv", "parquet", "json")
EXTENSIONS = {"csv": "csv", "parquet": "parquet", "json": "jsonl"}
_NEEDS_QUOTES = (",", '"', "\r", "\n")
ROWS_PER_CHUNK = 5_000  # rows turned into Python objects at a time by the CSV and JSON writers


def _chunks(batch: pa.Table) -> Iterator[pa.Table]:
    for offset in range(0, batch.num_rows, ROWS_PER_CHUNK):
        yield batch.slice(offset, ROWS_PER_CHUNK)


class Writer(Protocol):
    def write(self, batch: pa.Table) -> None: ...

    def close(self) -> None: ...


def csv_field(value: str | None) -> str:
    """One RFC 4180 field: NULL is empty, the empty string is ``""``, special characters quoted, quotes doubled."""
    if value is None:
        return ""
    if value == "" or any(c in value for c in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_fields(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``csv_field`` over a whole text column at once (Arrow compute, no Python loop)."""
    quote = pc.or_(pc.match_substring_regex(column, r'[,"\r\n]'), pc.equal(column, ""))  # type: ignore[call-overload]  # pyarrow-stubs 20: compute functions take no plain str scalar
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")  # type: ignore[call-overload]  # pyarrow-stubs 20: compute functions take no plain str scalar
    return pc.fill_null(pc.if_else(quote, quoted, column), "")


class CsvWriter:
    """RFC 4180 CSV from batches whose columns are already text (the export query formats them); see above."""

    def __init__(self, path: Path, names: list[str]) -> None:
        self.names = names
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._file.write(",".join(csv_field(name) for name in names) + "\r\n")

    def write(self, batch: pa.Table) -> None:
        if not batch.num_rows:
            return
        fields = [_csv_fields(batch.column(name)) for name in self.names]
        lines = pc.binary_join_element_wise(*fields, ",") if len(fields) > 1 else fields[0]  # type: ignore[call-overload]  # pyarrow-stubs 20: compute functions take no plain str scalar
        for chunk in _chunks(pa.table({"line": lines})):
            self._file.write("\r\n".join(chunk.column("line").to_pylist()) + "\r\n")  # type: ignore[arg-type]  # no None: _csv_fields fills nulls

    def close(self) -> None:
        self._file.close()


class ParquetFocusWriter:
    """Parquet with the arrow schema given (types and key-value metadata already set)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema)

    def write(self, batch: pa.Table) -> None:
        self._writer.write_table(batch.cast(self.schema))

    def close(self) -> None:
        self._writer.close()


class JsonLinesWriter:
    """One FocusCostRecord per line, UTF-8, LF-terminated (JSON Lines)."""

    def __init__(self, path: Path) -> None:
        self.build = RecordBuilder(load_mapping())
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")

    def write(self, batch: pa.Table) -> None:
        for chunk in _chunks(batch):
            self._file.writelines(
                json.dumps(self.build(row), ensure_ascii=False, separators=(",", ":")) + "\n"
                for row in chunk.to_pylist()
            )

    def close(self) -> None:
        self._file.close()


def open_writer(fmt: str, path: Path, schema: pa.Schema) -> Writer:
    """The writer for ``fmt`` (csv, parquet or json) at ``path``; ``schema`` is what the file holds."""
    if fmt == "csv":
        return CsvWriter(path, schema.names)
    if fmt == "parquet":
        return ParquetFocusWriter(path, schema)
    if fmt == "json":
        return JsonLinesWriter(path)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
