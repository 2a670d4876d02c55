"""Two knobs every demo generator shares: volume (``scale``) and the planted incomplete day.

``scale`` repeats a day's generated rows as replicas of the estate: replica ``r`` is the same
resources under new ids (``-r<r>`` appended to resource and line item ids), so a million-row export
costs a few seconds of array work instead of a million Python dicts, and its totals stay known exactly
(``scale`` times the base day). The base rows (replica 0) are the same whatever the scale.

The incomplete day is what a real export looks like on the day it is read: only the hours up to
``PARTIAL_UNTIL`` are there, and the delivery (AWS manifest, Azure run, GCP export_time, OCI report)
was written on that day, so every provider's completeness sensor refuses it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

PARTIAL_UNTIL = 14  # hour (UTC) of the incomplete day up to which usage has been exported


Column = TypeVar("Column", pa.Array, pa.ChunkedArray)


def suffix(replica: int) -> str:
    return f"-r{replica}" if replica else ""


def with_suffix(column: Column, replica: int) -> Column:
    """A string column with the replica's suffix on each value (nulls stay null)."""
    # pyarrow-stubs 20 types binary_join_element_wise with all-array or all-scalar arguments only; pyarrow itself
    # joins an array with str scalars, as here
    return pc.binary_join_element_wise(column, suffix(replica), "")  # type: ignore[call-overload]  # stub too narrow


def relabel_rows(rows: list[dict], replica: int, fields: tuple[str, ...]) -> list[dict]:
    """``rows`` as replica ``replica``: each non-empty id field gets the replica's suffix."""
    if not replica:
        return rows
    end = suffix(replica)
    return [row | {f: row[f] + end for f in fields if row.get(f)} for row in rows]


def relabel_table(table: pa.Table, replica: int, columns: tuple[str, ...]) -> pa.Table:
    """``table`` as replica ``replica``: each string id column gets the replica's suffix (nulls stay null)."""
    if not replica:
        return table
    for name in columns:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, with_suffix(table[name], replica))
    return table


def partial_end(day: date) -> datetime:
    """Usage of the incomplete day is exported up to here."""
    return datetime.combine(day, time(PARTIAL_UNTIL), tzinfo=UTC)


def delivered_at(days: list[date], incomplete_day: date | None) -> datetime:
    """When the demo's month-to-date delivery was written: shortly after the incomplete day's last exported
    hour, or, with every day complete, at noon the day after the last (past every provider's lag)."""
    if incomplete_day is not None:
        return partial_end(incomplete_day) + timedelta(minutes=30)
    return datetime.combine(max(days) + timedelta(days=1), time(12), tzinfo=UTC)


def check_incomplete_day(days: list[date], incomplete_day: date | None) -> None:
    """A month-to-date export can only be partial on its last day."""
    if incomplete_day is not None and incomplete_day != max(days):
        raise ValueError(f"the incomplete day {incomplete_day} must be the last day generated ({max(days)})")
