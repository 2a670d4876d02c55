"""``BillingDayTimetable``: one run per UTC billing day, also for manual runs.

Airflow's cron timetables give a manual run with logical date D the interval *ending* at D, so a
manual run "for 2026-11-01" would load 2026-10-31. Billing users think in billing days: here a run's
logical date is always the first instant of the day it loads, scheduled, manual or backfilled.
Registered with Airflow by ``plugins/cloudcost_plugin.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.timetables.base import DataInterval
from airflow.timetables.interval import CronDataIntervalTimetable
from pendulum import UTC, DateTime


class BillingDayTimetable(CronDataIntervalTimetable):
    """Daily intervals ``[D 00:00, D+1 00:00)`` UTC; the scheduled run starts after D ends."""

    description = "one run per UTC billing day"

    def __init__(self) -> None:
        super().__init__("0 0 * * *", timezone=UTC)

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> BillingDayTimetable:
        return cls()

    def serialize(self) -> dict[str, Any]:
        return {}

    @property
    def summary(self) -> str:
        return "daily (UTC billing day)"

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        start = run_after.in_timezone(UTC).start_of("day")
        return DataInterval(start=start, end=start + timedelta(days=1))
