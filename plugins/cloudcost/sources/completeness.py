"""What the sensors read of a delivery to judge it complete: when it was written, and the values of one column
(a watermark such as GCP's ``export_time``, or a completion-status column), read by DuckDB from the file."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from cloudcost.sources.base import ExportNotReady, ExportStatus
from cloudcost.sources.export_file import UnreadableExportFile, describe, first_line, kind_of, quote_name, sql_literal
from cloudcost.sources.object_store import ObjectInfo, ObjectStore
from cloudcost.sources.spool import local_path, spool_directory
from cloudcost.sources.watermark_cache import identity, recall, remember

if TYPE_CHECKING:  # DuckDB loads when a sensor reads a file, not when the sources package is imported
    from duckdb import DuckDBPyConnection


def day_closed(day: date, lag_hours: float) -> datetime:
    """When a delivery must have been written for it to hold ``day`` in full: the day's end plus the lag."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + timedelta(hours=lag_hours)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s calendar month (the billing period of AWS's and Azure's exports)."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def modified_at(store: ObjectStore, key: str) -> datetime | None:
    """The object's last-modified time as the store reports it (S3 LastModified, blob Last-Modified, mtime)."""
    return next((info.modified for info in store.list(key) if info.key == key), None)


def object_infos(store: ObjectStore, keys: Iterable[str]) -> dict[str, ObjectInfo]:
    """What the store says of each of ``keys`` that exists (one listing per folder); absent keys are left out."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, ObjectInfo] = {}
    for folder in dict.fromkeys(key.rsplit("/", 1)[0] + "/" if "/" in key else "" for key in wanted):
        found |= {info.key: info for info in store.list(folder)}
    return {key: found[key] for key in wanted if key in found}


def fingerprint(infos: Iterable[ObjectInfo]) -> str:
    """Sizes and write times of a delivery's files: a file rewritten in place changes it."""
    lines = sorted(f"{i.key}\t{i.size}\t{i.modified.isoformat() if i.modified else ''}" for i in infos)
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:16]


def require_complete(status: ExportStatus) -> ExportStatus:
    """Loading an incomplete export is refused with the reason the sensor would give."""
    if not status.complete:
        raise ExportNotReady(status.reason)
    return status


def latest_values(
    store: ObjectStore,
    keys: Iterable[str],
    column: str,
    parse: Callable[[object], datetime],
    infos: Mapping[str, ObjectInfo] | None = None,
) -> dict[str, datetime | None]:
    """The greatest ``column`` value of each of ``keys``, parsed (None: no value). Files of one kind are read by one
    statement, in parallel: only the column is needed, so columns are matched by DuckDB's own names. With
    ``infos`` (what the store listed of them), values read before by any process are recalled, not read."""
    wanted = list(dict.fromkeys(keys))
    identities = {key: identity(store.uri, infos[key], column) for key in wanted if infos and key in infos}
    recalled = recall(list(identities.values()))
    known = {key: recalled[ident] for key, ident in identities.items() if ident in recalled}
    read = _read_latest(store, [key for key in wanted if key not in known], column, parse)
    remember({identities[key]: value for key, value in read.items() if key in identities})
    return {key: known[key] if key in known else read[key] for key in wanted}


def _read_latest(
    store: ObjectStore, wanted: list[str], column: str, parse: Callable[[object], datetime]
) -> dict[str, datetime | None]:
    latest: dict[str, datetime | None] = dict.fromkeys(wanted)
    for key, values in column_values(store, wanted, column).items():
        moments = [parse(value) for value in values or () if value is not None]
        latest[key] = max(moments, default=None)
    return latest


def column_values(store: ObjectStore, keys: list[str], column: str) -> dict[str, list[object] | None]:
    """The distinct values of ``column`` in each of ``keys`` (an empty value is None), or None for an object
    without that column. The files that have it are read together, one statement per kind, in parallel: only
    the column is needed, so it is found by DuckDB's own column names."""
    import duckdb

    found: dict[str, list[object] | None] = dict.fromkeys(keys)
    if not keys:
        return found
    with spool_directory() as directory:
        connection = duckdb.connect()
        try:
            connection.execute("SET TimeZone = 'UTC'")
            groups: dict[tuple[str, bool], dict[str, str]] = {}
            for key in keys:
                path = local_path(store, key, directory)
                if column in describe(connection, path, key, {column: "VARCHAR"}).headers:
                    groups.setdefault((kind_of(path.name, key), path.name.lower().endswith(".gz")), {})[str(path)] = key
            for (kind, _), paths in groups.items():
                values: dict[str, list[object]] = {key: [] for key in paths.values()}
                for file, value in _distinct_values(connection, kind, list(paths), column):
                    values[paths[file]].append(None if value == "" else value)
                found.update(values)
        finally:
            connection.close()
    return found


def _distinct_values(
    connection: DuckDBPyConnection, kind: str, paths: list[str], column: str
) -> list[tuple[str, object]]:
    import duckdb

    listed = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
    options = "hive_partitioning = false, filename = '__cloudcost_file'"
    if kind == "parquet":
        source = f"read_parquet({listed}, union_by_name = true, {options})"
    elif kind == "csv":
        source = (
            f"read_csv({listed}, header = true, all_varchar = true, union_by_name = true, delim = ',', "
            f"quote = '\"', escape = '\"', {options})"
        )
    else:
        source = (
            f"read_json({listed}, format = 'newline_delimited', auto_detect = false, "
            f"columns = {{{sql_literal(column)}: 'VARCHAR'}}, {options})"
        )
    try:
        return connection.execute(f"select distinct __cloudcost_file, {quote_name(column)} from {source}").fetchall()
    except duckdb.Error as exc:
        raise UnreadableExportFile(f"{', '.join(paths[:3])}: cannot be read: {first_line(exc)}") from exc


COMPLETION_COLUMNS = ("x_DatasetCompletionStatus", "DatasetCompletionStatus")


def declared_incomplete(store: ObjectStore, keys: Iterable[str]) -> str | None:
    """Why the export says of itself that it is not complete, or None: a completion-status column
    (``x_DatasetCompletionStatus``, as FOCUS data generators add it) whose value is not ``Complete``.
    A file that cannot be read is not judged here: loading it fails with an error that names it."""
    wanted = list(dict.fromkeys(keys))
    for column in COMPLETION_COLUMNS:
        try:
            by_key = column_values(store, wanted, column)
        except UnreadableExportFile:
            return None
        for key in wanted:
            values = by_key[key] or []
            bad = sorted({str(v) for v in values if v is None or str(v).strip().lower() != "complete"})
            if bad:
                return f"{key}: column {column} says {', '.join(repr(v) for v in bad)}, not 'Complete'"
    return None
