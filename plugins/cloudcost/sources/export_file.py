"""How DuckDB reads one delivered export file verbatim: no type is guessed, no value is altered on the way in.

* CSV (``.csv``, ``.csv.gz``): the header is read here (Python's csv module, so quoting and a byte-order mark are
  handled), then DuckDB's ``read_csv`` reads every column as text under a positional name (``c0``, ``c1``, ...).
  Nothing is inferred, the only null is the empty field (``NA``, ``null``, ``N/A``, ``NaN`` stay text), and
  headers that differ only in letter case (``tags/free-form.team`` and ``tags/free-form.Team``) stay two
  columns, which DuckDB's case-insensitive names would otherwise merge.
* Parquet: ``read_parquet``; columns keep the types the file declares.
* Newline-delimited JSON (``.jsonl``, ``.json``, optionally gzipped, as BigQuery extracts tables): ``read_json``
  with the top-level keys the caller names and no detection: a scalar key is read as its text (a label holding a
  timestamp is not reparsed; a number is the text of its double), a record or array as JSON, into which a
  dotted path reaches. BigQuery omits null fields, so a key is never "missing" from such a file.

Every column is described by its header, its Arrow type (as DuckDB hands the file over) and the SQL that
reads it, so the typing SQL (``sources/normalize.py``) never depends on how a header is spelled.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:  # DuckDB loads when a file is read, not when the sources package is imported
    from duckdb import DuckDBPyConnection

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet",)
JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
SUFFIXES = PARQUET_SUFFIXES + CSV_SUFFIXES + JSON_SUFFIXES
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


class UnreadableExportFile(ValueError):
    """An export file cannot be parsed; the message names the file (and the row, when one is at fault)."""


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ExportFile:
    """One local export file as a DuckDB relation: ``relation`` is its FROM clause; field ``i`` of ``schema``
    (header and Arrow type) is read by ``refs[i]``; ``json_fields`` name the columns that hold JSON."""

    name: str
    path: Path
    kind: str  # "csv" | "parquet" | "json"
    relation: str
    schema: pa.Schema
    refs: tuple[str, ...]
    json_fields: frozenset[str] = frozenset()  # columns holding JSON (records and arrays of a JSON file)

    @property
    def headers(self) -> list[str]:
        return list(self.schema.names)

    def ref(self, header: str) -> str:
        return self.refs[self.schema.get_field_index(header)]

    def numbered(self) -> str:
        """The file's rows with their 1-based data row number as ``__row`` (CSV and JSON: in file order only
        when the connection runs single-threaded, as diagnosis does)."""
        if self.kind == "parquet":
            location = sql_literal(str(self.path))
            numbered = f"read_parquet({location}, hive_partitioning = false, file_row_number = true)"
            return f"(select * exclude (file_row_number), file_row_number + 1 as __row from {numbered})"
        return f"(select *, row_number() over () as __row from {self.relation})"

    def json_ref(self, header: str, path: list[str], as_json: bool) -> str:
        """The value at ``path`` inside JSON column ``header``: as JSON (arrays, objects) or as its text."""
        pointer = "$" + "".join(f'."{part}"' for part in path)
        function = "json_extract" if as_json else "json_extract_string"
        return f"{function}({self.ref(header)}, {sql_literal(pointer)})"


def kind_of(name: str, label: str | None = None) -> str:
    """The format of file ``name`` by its suffix; errors name ``label`` (the export object) if given."""
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    if lower.endswith(JSON_SUFFIXES):
        return "json"
    raise UnreadableExportFile(
        f"{label or name}: unsupported file type (expected .parquet, .csv(.gz) or newline-delimited .json(l)(.gz))"
    )


def csv_header(path: Path, name: str) -> list[str]:
    """The header record of a CSV file (gzipped or not), as the file spells it. Only the header's own lines
    are read; the rest of the file is DuckDB's to read (and to refuse, row by row)."""
    lines: list[str] = []
    try:
        with gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb") as raw:
            while len(lines) < 1000:
                line = raw.readline()
                if not line:
                    break
                lines.append(line.decode("utf-8-sig" if not lines else "utf-8"))
                records = list(csv.reader(io.StringIO("".join(lines), newline="")))
                if records and not "".join(lines).count('"') % 2:  # a quoted header may span lines
                    break
    except UnicodeDecodeError as exc:
        raise UnreadableExportFile(f"{name}: cannot be read: the header is not valid UTF-8 ({exc.reason})") from exc
    except (OSError, EOFError, zlib.error, csv.Error) as exc:
        raise UnreadableExportFile(f"{name}: cannot be read: {exc}") from exc
    header = next(csv.reader(io.StringIO("".join(lines), newline="")), None)
    if not header or header == [""]:
        raise UnreadableExportFile(f"{name}: the file is empty (no header row)")
    return header


def describe(
    connection: DuckDBPyConnection, path: Path, name: str, json_keys: Mapping[str, str] | None = None
) -> ExportFile:
    """Describe ``path`` (read as the export object ``name``) for ``connection`` (a DuckDB connection).
    ``json_keys``: for a JSON file, the top-level keys to read, each ``VARCHAR`` (its text) or ``JSON``."""
    kind = kind_of(path.name, name)  # the local file's name: a spooled copy keeps the object's
    if kind == "csv":
        header = csv_header(path, name)
        schema = pa.schema([pa.field(h, pa.string()) for h in header])  # repeated headers: check_required refuses
        refs = tuple(f"c{i}" for i in range(len(header)))
        return ExportFile(name, path, kind, relation(kind, [path], schema), schema, refs)
    if kind == "json":
        keys = dict(json_keys or {})
        if not keys or set(keys.values()) - {"VARCHAR", "JSON"}:
            raise ValueError(f"{name}: a JSON file is read by the keys asked for, each VARCHAR or JSON: {keys}")
        schema = pa.schema([pa.field(k, pa.string()) for k in keys])
        json_fields = frozenset(k for k, t in keys.items() if t == "JSON")
        refs = tuple(quote_name(k) for k in keys)
        return ExportFile(name, path, kind, relation(kind, [path], schema, json_fields), schema, refs, json_fields)
    single = relation(kind, [path], pa.schema([]))
    try:
        schema = connection.sql(f"select * from {single} limit 0").to_arrow_table().schema
    except Exception as exc:  # DuckDB raises its own IOException/InvalidInputException for a broken file
        raise UnreadableExportFile(f"{name}: cannot be read: {first_line(exc)}") from exc
    return ExportFile(name, path, kind, single, schema, tuple(quote_name(n) for n in schema.names))


def relation(
    kind: str,
    paths: list[Path],
    schema: pa.Schema,
    json_fields: frozenset[str] = frozenset(),
    file_column: str | None = None,
) -> str:
    """The FROM clause that reads ``paths`` (files of one kind and one layout) as ``schema`` says; ``file_column``
    names a column holding each row's file path (to read several files in one statement)."""
    listed = "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]" if len(paths) > 1 else sql_literal(str(paths[0]))
    gzipped = {p.name.lower().endswith(".gz") for p in paths}
    if len(gzipped) > 1:
        raise ValueError("files read together are all gzipped or all not")
    options = ["hive_partitioning = false"]  # a BILLING_PERIOD=… or usage_date=… folder is no column
    if file_column:
        options.append(f"filename = {sql_literal(file_column)}")
    if kind == "parquet":
        return f"read_parquet({listed}, {', '.join(options)})"
    compression = "gzip" if gzipped == {True} else "none"
    if kind == "csv":
        columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(schema)))
        return (
            f"read_csv({listed}, header = true, auto_detect = false, columns = {{{columns}}}, delim = ',', "
            f"quote = '\"', escape = '\"', compression = '{compression}', {', '.join(options)})"
        )
    columns = ", ".join(f"{sql_literal(k)}: '{'JSON' if k in json_fields else 'VARCHAR'}'" for k in schema.names)
    return (
        f"read_json({listed}, format = 'newline_delimited', auto_detect = false, columns = {{{columns}}}, "
        f"compression = '{compression}', {', '.join(options)})"
    )


def together(files: list[ExportFile], file_column: str) -> ExportFile:
    """Files of one kind and one layout (same columns, same types) as one relation with a file-path column."""
    first = files[0]
    paths = [f.path for f in files]
    joined = relation(first.kind, paths, first.schema, first.json_fields, file_column)
    return ExportFile(first.name, first.path, first.kind, joined, first.schema, first.refs, first.json_fields)


def layout(file: ExportFile) -> tuple:
    """What files must share to be read together: kind, compression, columns and their types."""
    return (file.kind, file.path.name.lower().endswith(".gz"), str(file.schema), file.json_fields)


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_error(file: ExportFile, exc: BaseException) -> str:
    """DuckDB's reading error in one line that names the file and, for CSV, the data row (1-based)."""
    text = str(exc)
    match = _CSV_LINE.search(text)
    if not match:
        return f"{file.name}: cannot be read: {first_line(exc)}"
    line = int(match.group(1))
    details = [
        ln.strip()
        for ln in text.splitlines()[1:]
        if ln.strip() and not ln.startswith(("Original Line", "Possible ", "* ", "  ")) and "=" not in ln
    ]
    detail = details[0] if details else "malformed row"
    if detail.startswith("Invalid unicode"):
        detail = "invalid UTF-8 (the file is not UTF-8 encoded)"
    return f"{file.name}: data row {line - 1} (line {line}): cannot be read: {detail}"
