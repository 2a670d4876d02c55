"""Month-end forecast from the month to date: linear, with weekday seasonality.

forecast = month to date + for each remaining day of the month, the mean cost of that weekday over the
trailing 28 days (up to and including the as-of day); a weekday with no history there takes the mean of all
trailing days. Weekday means catch the weekend dip most cloud bills have; with under a week of history the
method falls back to a flat daily mean (plain linear extrapolation).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

Q = Decimal("0.0000000001")
TRAILING_DAYS = 28


def month_bounds(day: date) -> tuple[date, date]:
    """First day of ``day``'s month and the first day of the next (exclusive end)."""
    start = day.replace(day=1)
    return start, start + timedelta(days=calendar.monthrange(day.year, day.month)[1])


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Q) if values else Decimal(0)


def forecast_month(daily: Mapping[date, Decimal], as_of: date) -> tuple[Decimal, Decimal]:
    """(month to date, month-end forecast) from daily costs keyed by day (days without data are absent)."""
    start, end = month_bounds(as_of)
    to_date = sum((v for d, v in daily.items() if start <= d <= as_of), Decimal(0))
    trailing = {d: v for d, v in daily.items() if as_of - timedelta(days=TRAILING_DAYS) < d <= as_of}
    overall = _mean(list(trailing.values()))
    by_weekday = {wd: _mean([v for d, v in trailing.items() if d.weekday() == wd]) for wd in range(7)}
    has_weekday = {d.weekday() for d in trailing}
    remaining = Decimal(0)
    day = as_of + timedelta(days=1)
    while day < end:
        remaining += by_weekday[day.weekday()] if day.weekday() in has_weekday else overall
        day += timedelta(days=1)
    return to_date, to_date + remaining
