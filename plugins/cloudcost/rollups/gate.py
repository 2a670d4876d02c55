"""The rollup gate: an org's day is rolled up only when every provider it enables has a checked load of it.

Reads ``<org>_prod.load_state`` (written by the billing DAGs' land_raw and record tasks). A provider whose
last load of the day only ``landed`` (its convert or check failed) counts as missing, as does one with no
load at all: a rollup over part of an org's clouds would be a silently wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cloudcost.config import OrgConfig
from cloudcost.identifiers import qualified
from cloudcost.warehouse.base import Session, Warehouse


@dataclass(frozen=True)
class MissingLoad:
    provider: str
    day: date
    reason: str

    def __str__(self) -> str:
        return f"{self.provider} {self.day}: {self.reason}"


class RollupGateClosed(RuntimeError):
    """Some enabled provider has no succeeded load for a day of the interval; the message names each."""


def missing_loads(warehouse: Warehouse, session: Session, org: OrgConfig, days: list[date]) -> list[MissingLoad]:
    """Every (enabled provider, day) of ``days`` without a succeeded load, with the reason."""
    providers = sorted(p for p, entry in org.providers.items() if entry.enabled)
    states: dict[tuple[str, date], tuple[str, str]] = {}
    if warehouse.table_exists(session, org.dataset, "load_state"):
        for provider, day, status, run_id in session.fetchall(
            f"select provider, billing_day, status, run_id from {qualified(org.dataset, 'load_state')} "
            "where billing_day between ? and ?",
            [min(days), max(days)],
        ):
            states[(provider, day)] = (status, run_id)
    missing = []
    for day in days:
        for provider in providers:
            status, run_id = states.get((provider, day), (None, None))
            if status is None:
                missing.append(MissingLoad(provider, day, "no load recorded"))
            elif status != "succeeded":
                missing.append(
                    MissingLoad(provider, day, f"last load {status} in run {run_id}, not converted and checked")
                )
    return missing


def require_complete_loads(warehouse: Warehouse, session: Session, org: OrgConfig, days: list[date]) -> None:
    """Raise ``RollupGateClosed`` naming every missing (provider, day) of the org."""
    missing = missing_loads(warehouse, session, org, days)
    if missing:
        raise RollupGateClosed(
            f"org {org.slug}: rollups not refreshed, {len(missing)} load(s) missing: " + "; ".join(map(str, missing))
        )
