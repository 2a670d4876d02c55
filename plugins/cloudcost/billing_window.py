"""The one place that turns a run's data interval into billing days. Nothing here reads the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


class NoDataInterval(ValueError):
    """The run has no usable data interval (e.g. a manual run triggered without a logical date)."""


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise NoDataInterval(f"data interval bound {moment!r} has no time zone")
    return moment.astimezone(UTC)


def billing_days(start: datetime | None, end: datetime | None) -> list[date]:
    """Each UTC day in ``[start, end)``. The interval must be non-empty and aligned to UTC midnight."""
    if start is None or end is None:
        raise NoDataInterval(
            "this run has no data interval: trigger it with a billing day, conf "
            '{"billing_day": "2026-11-01"}, or with that day as its logical date'
        )
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise NoDataInterval(f"empty data interval [{start.isoformat()}, {end.isoformat()})")
    if start.time() != time(0) or end.time() != time(0):
        raise NoDataInterval(f"data interval [{start.isoformat()}, {end.isoformat()}) is not aligned to UTC days")
    return days_from(start.date(), end.date() - timedelta(days=1))


def days_from(first: date, last: date) -> list[date]:
    """Each day from ``first`` to ``last``, both included (none when ``last`` is before ``first``)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_interval(day: date) -> tuple[datetime, datetime]:
    """The data interval of one billing day."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)
