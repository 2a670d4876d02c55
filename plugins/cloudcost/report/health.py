"""The platform's health figures for an org: what tells a FinOps lead whether the numbers can be trusted.

- untagged spend % by provider and BillingCurrency (EffectiveCost of rows without a team ÷ all, from
  daily_cost_by_team; a share is taken within one currency, never of a sum across currencies);
- pipeline success rate (finished runs of the billing and rollup DAGs that succeeded, from Airflow's metadata
  database; runs cover every org unless triggered for one, so the rate is the platform's);
- alert false-positive rate (alerts resolved within 4 hours of being raised ÷ alerts raised);
- attribution-suggestion acceptance rate (accepted ÷ decided).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cloudcost.config import OrgConfig
from cloudcost.identifiers import qualified
from cloudcost.warehouse.base import Warehouse

Q = Decimal("0.0001")
FALSE_POSITIVE_HOURS = 4  # an alert resolved this soon after it was raised counts as a false positive


@dataclass
class Health:
    first_day: date
    last_day: date
    untagged_share: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (provider, currency) -> share
    runs_succeeded: int = 0
    runs_finished: int = 0
    alerts_raised: int = 0
    alerts_resolved_fast: int = 0
    suggestions_accepted: int = 0
    suggestions_decided: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        return (Decimal(part) / whole).quantize(Q) if whole else None

    @property
    def pipeline_success_rate(self) -> Decimal | None:
        return self._rate(self.runs_succeeded, self.runs_finished)

    @property
    def alert_false_positive_rate(self) -> Decimal | None:
        return self._rate(self.alerts_resolved_fast, self.alerts_raised)

    @property
    def acceptance_rate(self) -> Decimal | None:
        return self._rate(self.suggestions_accepted, self.suggestions_decided)


def org_health(warehouse: Warehouse, org: OrgConfig, last_day: date, days: int, run_counts: tuple[int, int]) -> Health:
    """``run_counts``: (succeeded, finished) DAG runs of the period, from the scheduler's records
    (``cloudcost.airflow.run_counts``), so this module reads only the warehouse."""
    first = last_day - timedelta(days=days - 1)
    health = Health(first, last_day)
    with warehouse.session(org.dataset) as session:
        tables = warehouse.tables(session, org.dataset)
        if "daily_cost_by_team" in tables:
            for provider, currency, untagged, total in session.fetchall(
                f"select provider, billing_currency, sum(effective_cost) filter (where team = '__untagged__'), "
                f"sum(effective_cost) from {qualified(org.dataset, 'daily_cost_by_team')} "
                "where charge_day between ? and ? group by all",
                [first, last_day],
            ):
                if total:
                    share = (Decimal(untagged or 0) / Decimal(total)).quantize(Q)
                    health.untagged_share[(provider, currency)] = share
        if "alerts" in tables:
            health.alerts_raised, health.alerts_resolved_fast = session.fetchall(
                "select count(*), count(*) filter (where resolved_at is not null "
                f"and resolved_at <= raised_at + interval {FALSE_POSITIVE_HOURS} hour) "
                f"from {qualified(org.dataset, 'alerts')} where charge_day between ? and ?",
                [first, last_day],
            )[0]
        if "attribution_suggestions" in tables:
            health.suggestions_accepted, health.suggestions_decided = session.fetchall(
                f"select count(*) filter (where status = 'accepted'), count(*) filter (where status <> 'open') "
                f"from {qualified(org.dataset, 'attribution_suggestions')}"
            )[0]
    health.runs_succeeded, health.runs_finished = run_counts
    return health


def format_health(org: OrgConfig, health: Health) -> str:
    def pct(value: Decimal | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f} %"

    lines = [f"Health of org {org.slug}, {health.first_day} .. {health.last_day}:"]
    for (provider, currency), share in sorted(health.untagged_share.items()):
        lines.append(f"  untagged spend {provider:<5} {currency:<3}    {pct(share)}")
    lines += [
        f"  pipeline success rate         {pct(health.pipeline_success_rate)}"
        f"  ({health.runs_succeeded} of {health.runs_finished} finished DAG runs)",
        f"  alert false-positive rate     {pct(health.alert_false_positive_rate)}"
        f"  ({health.alerts_resolved_fast} of {health.alerts_raised} resolved within 4 h)",
        f"  suggestion acceptance rate    {pct(health.acceptance_rate)}"
        f"  ({health.suggestions_accepted} of {health.suggestions_decided} decided)",
    ]
    return "\n".join(lines)
