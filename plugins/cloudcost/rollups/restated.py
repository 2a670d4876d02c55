"""Which already rolled-up days a restatement changed since: ``cost_rollups`` refreshes them again.

The billing DAG's ``restate`` group reloads a restated day and records it in ``<org>_prod.load_state`` (its
``loaded_at``), but refreshes no rollup. A day whose last succeeded load was recorded after its rollups were last
refreshed (the newest ``refreshed_at`` of its ``daily_cost_by_team`` rows) therefore has rollups older than its
FOCUS slice. A day with no rollup rows was never rolled up (its own cost_rollups run does that) and is left out.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from cloudcost.config import OrgConfig
from cloudcost.identifiers import qualified
from cloudcost.rollups.gate import RollupGateClosed
from cloudcost.rollups.refresh import RollupResult, refresh_rollups
from cloudcost.warehouse.base import Session, Warehouse

log = logging.getLogger(__name__)

TEAM_ROLLUP = "daily_cost_by_team"


def days_loaded_after_their_rollups(
    warehouse: Warehouse, session: Session, dataset: str, days: list[date]
) -> list[date]:
    """The days of ``days`` (a window, in any order) whose rollups predate a succeeded load of the day."""
    if not days or not {"load_state", TEAM_ROLLUP} <= warehouse.tables(session, dataset):
        return []
    rows = session.fetchall(
        f"""
        with rolled_up as (
            select charge_day, max(refreshed_at) as refreshed_at from {qualified(dataset, TEAM_ROLLUP)}
            where charge_day between ? and ? group by charge_day
        ),
        loaded as (
            select billing_day, max(loaded_at) as loaded_at from {qualified(dataset, "load_state")}
            where status = 'succeeded' and billing_day between ? and ? group by billing_day
        )
        select loaded.billing_day from loaded join rolled_up on rolled_up.charge_day = loaded.billing_day
        where loaded.loaded_at > rolled_up.refreshed_at
        order by 1
        """,
        [min(days), max(days), min(days), max(days)],
    )
    wanted = set(days)
    return [day for (day,) in rows if day in wanted]


def refresh_restated_days(warehouse: Warehouse, org: OrgConfig, window: list[date]) -> list[RollupResult]:
    """Refresh the rollups of every day of ``window`` loaded after them, each behind the gate. A day whose gate is
    closed (its reload pending, or failed loudly in its billing run) is logged and kept for the next run: its
    newer load still postdates its rollups then."""
    with warehouse.session(org.dataset) as session:
        restated = days_loaded_after_their_rollups(warehouse, session, org.dataset, window)
    refreshed = []
    for day in restated:
        try:
            refreshed.append(refresh_rollups(warehouse, org, day, datetime.now(UTC)))  # stamped before it reads
        except RollupGateClosed as closed:
            log.warning("rollups of restated day %s not refreshed yet: %s", day, closed)
    log.info(
        "org %s: rollups of %d restated day(s) of %d in the window refreshed: %s",
        org.slug,
        len(refreshed),
        len(restated),
        ", ".join(result.day for result in refreshed) or "none",
    )
    return refreshed
