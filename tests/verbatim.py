"""An oracle for 'every value lands verbatim': the raw row each CSV record must become, computed in plain Python
from the file's text (csv module, Decimal, datetime), independently of the SQL that lands it.

Rules it checks, from the brief and ``sources/normalize.py``'s docstring: the empty field is the only null; text
is kept byte for byte; money is the decimal of the text, rounded half away from zero at the 10th place;
timestamps are ISO 8601 or one of the column's formats, in UTC; JSON is the text's JSON (Azure's tags without
outer braces get them); OCI's tag columns become one object keyed by the header after the prefix."""

from __future__ import annotations

import csv
import functools
import json
from datetime import UTC, datetime
from pathlib import Path

from cloudcost.schemas import Column, TableSchema
from cloudcost.sources.normalize import export_columns
from tests.real_exports import money


def _header_of(column: Column, header: list[str]) -> str | None:
    candidates = [column.source or column.name, *column.aliases]
    exact = next((c for c in candidates if c in header), None)
    if exact:
        return exact
    folded = {h.lower(): h for h in header}
    return next((folded[c.lower()] for c in candidates if c.lower() in folded), None)


@functools.lru_cache(maxsize=65536)  # a month's export repeats few distinct times and amounts
def _money(text: str) -> object:
    return money(text)


@functools.lru_cache(maxsize=65536)
def _timestamp(text: str, formats: tuple[str, ...]) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = next(m for m in (_strptime(text, f) for f in formats) if m is not None)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def expected_row(
    schema: TableSchema, header: list[str], record: list[str], sources: dict[str, str | None]
) -> dict[str, object]:
    """``sources``: each column's header in the file (``_header_of``), found once per file."""
    values = dict(zip(header, record, strict=True))
    row: dict[str, object] = {}
    for column in export_columns(schema):
        if column.collect_prefix:
            tags = {
                h[len(column.collect_prefix) :]: v
                for h, v in values.items()
                if h.startswith(column.collect_prefix) and v
            }
            row[column.name] = tags or None
            continue
        source = sources[column.name]
        if source is None:
            continue  # a reader's constant (x_cost_dataset) or a column this export does not have
        text = values[source]
        if text == "":
            row[column.name] = None
        elif column.type == "string":
            row[column.name] = text
        elif column.type == "decimal":
            row[column.name] = _money(text.strip())
        elif column.type == "timestamp":
            row[column.name] = _timestamp(text.strip(), tuple(column.formats))
        elif column.type == "json":
            stripped = text.strip()
            wrapped = stripped if stripped[:1] in "{[" or not column.wrap_json_object else "{" + stripped + "}"
            row[column.name] = json.loads(wrapped)
        else:
            raise AssertionError(f"no oracle for {column.type}")
    return row


def assert_every_value_verbatim(
    schema: TableSchema, path: Path, key_header: str, landed: dict[str, dict[str, object]]
) -> int:
    """Compare every value of every record of the CSV at ``path`` with ``landed`` (raw rows by the value of
    ``key_header``); returns how many values were compared."""
    opener = __import__("gzip").open if path.name.endswith(".gz") else open
    compared = 0
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        key_at = header.index(key_header)
        sources = {column.name: _header_of(column, header) for column in export_columns(schema)}
        for number, record in enumerate(reader, start=1):
            expected = expected_row(schema, header, record, sources)
            actual = landed[record[key_at]]
            for name, value in expected.items():
                got = actual[name]
                if isinstance(value, dict | list) and isinstance(got, str):
                    got = json.loads(got)
                assert got == value, f"{path.name} data row {number}, {name}: landed {got!r}, file says {value!r}"
                compared += 1
    return compared
