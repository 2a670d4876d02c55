"""A file that fails a landing statement, explained in the one line a person can act on: the file, the data row
(1-based) and the column by its header. DuckDB's own message names none of them reliably, so the file is read
again, alone and single-threaded (row numbers then follow the file), to find the first thing wrong in it."""

from __future__ import annotations

from cloudcost.schemas import TableSchema
from cloudcost.sources.base import Delivery
from cloudcost.sources.export_file import ExportFile, UnreadableExportFile, first_line, read_error
from cloudcost.sources.normalize import OUTSIDE_DAYS, BadValue, diagnose, diagnose_day


def is_data_error(exc: BaseException) -> bool:
    """DuckDB's errors that the file's content causes (not a fault of our SQL)."""
    import duckdb

    data_errors = (
        duckdb.ConversionException,
        duckdb.InvalidInputException,
        duckdb.ConstraintException,
        duckdb.OutOfRangeException,
        duckdb.IOException,
    )
    return isinstance(exc, data_errors)


def explain(
    exc: Exception, file: ExportFile, schema: TableSchema, constants: dict[str, str], delivery: Delivery
) -> Exception:
    """The one-line error a person can act on: file, data row (1-based) and column by its header."""
    return problem(str(exc), file, schema, constants, delivery) or BadValue(f"{file.name}: {first_line(exc)}")


def problem(
    error: str, file: ExportFile, schema: TableSchema, constants: dict[str, str], delivery: Delivery
) -> Exception | None:
    """What in ``file`` makes a statement fail with ``error``, found by reading it alone (single-threaded, so row
    numbers follow the file): a file that cannot be read, a row outside the delivery's days, a value that does
    not convert or an empty required one. None if the file holds none of these."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET threads = 1")
        connection.execute("SET TimeZone = 'UTC'")
        try:
            every_value = f"hash({', '.join(file.refs)})" if file.refs else "0"  # so every value is read
            connection.execute(f"select count(*) from {file.relation} where {every_value} = 0").fetchall()
        except duckdb.Error as unreadable:
            if "CSV Error on Line" in str(unreadable):
                return UnreadableExportFile(read_error(file, unreadable))
            return UnreadableExportFile(f"{file.name}: cannot be read: {first_line(unreadable)}")
        if OUTSIDE_DAYS in error and delivery.days is not None:
            message = diagnose_day(connection, schema, file, *delivery.days)
        else:
            message = diagnose(connection, schema, file, constants)
    finally:
        connection.close()
    return BadValue(message) if message else None
