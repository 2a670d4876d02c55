"""Stream record batches out of export files (Parquet, CSV, gzipped CSV) without loading whole files."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

BATCH_ROWS = 131_072


class UnreadableExportFile(ValueError):
    """An export file cannot be parsed; the message names the file."""


def iter_batches(
    stream: BinaryIO, name: str, string_columns: Iterable[str] = (), batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Yield record batches of ``stream``; the format follows the object name's suffix.

    CSV columns named in ``string_columns`` are read as text, never type-guessed: their typing is the
    warehouse schema's job, where a bad value gets an error that names its row.
    """
    lower = name.lower()
    try:
        if lower.endswith(".parquet"):
            yield from pq.ParquetFile(stream).iter_batches(batch_size=batch_rows)
        elif lower.endswith(".csv.gz") or lower.endswith(".csv"):
            source = gzip.GzipFile(fileobj=stream) if lower.endswith(".gz") else stream
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(block_size=8 << 20),
                convert_options=pacsv.ConvertOptions(
                    column_types={column: pa.string() for column in string_columns},
                    strings_can_be_null=True,
                ),
            )
            yield from reader
        elif lower.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz")):
            # newline-delimited JSON, as BigQuery extracts it
            source = gzip.GzipFile(fileobj=stream) if lower.endswith(".gz") else stream
            yield from pajson.open_json(source, read_options=pajson.ReadOptions(block_size=8 << 20))
        else:
            raise UnreadableExportFile(
                f"{name}: unsupported file type (expected .parquet, .csv(.gz) or newline-delimited .json(l)(.gz))"
            )
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        raise UnreadableExportFile(f"{name}: cannot be read: {exc}") from exc
