"""An operator's permit to let one load shrink one billing day (``<org>_prod.shrink_permits``).

A delivery that empties a day or takes away more than the provider's ``guards.max_shrink`` of its rows or billed
cost is refused (``delivery_guards.py``). When the provider really did restate the day down, the operator grants
a permit for that org, provider and day (``cloudcost permit-shrink``); the next load that needs it uses it inside
its own transaction, so a permit lets exactly one load through, and the table keeps who allowed what and why.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from datetime import date, datetime

from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.base import Session, Warehouse

PERMITS = "state/shrink_permits.yml"


def grant(
    warehouse: Warehouse, dataset: str, provider: str, days: Iterable[date], reason: str, now: datetime
) -> list[date]:
    """Store one unused permit per day (a day that already holds an unused one keeps it); returns the days."""
    days = sorted(set(days))
    schema = load_table_schema(PERMITS)
    table = qualified(dataset, schema.table)
    with warehouse.session(dataset) as session:
        warehouse.ensure_table(session, dataset, schema)
        with warehouse.transaction(session):
            open_days = set(unused(session, dataset, provider, days))
            for day in days:
                if day in open_days:
                    continue
                session.execute(
                    f"insert into {table} (provider, billing_day, reason, granted_by, granted_at) "
                    "values (?, ?, ?, ?, ?)",
                    [provider, day, reason, getpass.getuser(), now],
                )
    return days


def unused(session: Session, dataset: str, provider: str, days: Iterable[date]) -> dict[date, str]:
    """The days among ``days`` that hold an unused permit, with the reason given for it."""
    days = sorted(set(days))
    if not days:
        return {}
    rows = session.fetchall(
        f"select billing_day, min(reason) from {qualified(dataset, 'shrink_permits')} "
        f"where provider = ? and used_by_run is null and billing_day in ({', '.join('?' for _ in days)}) "
        "group by 1",
        [provider, *days],
    )
    return {day: reason for day, reason in rows}


def use(session: Session, dataset: str, provider: str, day: date, run_id: str, at: datetime, what: str) -> None:
    """Spend the day's permit on this run's load (in the load's transaction: a rolled-back load keeps it)."""
    session.execute(
        f"update {qualified(dataset, 'shrink_permits')} set used_by_run = ?, used_at = ?, used_for = ? "
        "where provider = ? and billing_day = ? and used_by_run is null",
        [run_id, at, what, provider, day],
    )


def listed(warehouse: Warehouse, dataset: str) -> list[tuple]:
    """Every permit, newest first: provider, day, reason, granted by and at, used by run and at, what it let
    through (an org that never granted one has no table yet: nothing to list)."""
    with warehouse.session(dataset) as session:
        warehouse.ensure_table(session, dataset, load_table_schema(PERMITS))
        return session.fetchall(
            f"select provider, billing_day, reason, granted_by, granted_at, used_by_run, used_at, used_for "
            f"from {qualified(dataset, 'shrink_permits')} order by granted_at desc, provider, billing_day"
        )
