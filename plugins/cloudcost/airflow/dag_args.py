"""The ``DAG(...)`` arguments every billing-day DAG shares, so the billing DAGs and ``cost_rollups`` cannot drift
apart in how they are scheduled, retried and triggered (one run per UTC billing day, the same trigger form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cloudcost.airflow.run_conf import billing_day_param, org_param
from cloudcost.airflow.timetable import BillingDayTimetable
from cloudcost.config import DagSettings, OrgLoad


def billing_day_dag_kwargs(
    dag_id: str, description: str, settings: DagSettings, orgs: OrgLoad, org_help: str
) -> dict[str, Any]:
    """Schedule, start date, policy and default_args from the YAML's ``dag:`` settings, and the trigger form's
    ``org_slug`` (the valid ``orgs``, explained by ``org_help``) and ``billing_day`` params."""
    return {
        "dag_id": dag_id,
        "description": description,
        "schedule": BillingDayTimetable(),
        "start_date": datetime.combine(settings.start_date, datetime.min.time(), tzinfo=UTC),
        "catchup": settings.catchup,
        "max_active_runs": settings.max_active_runs,
        "tags": settings.tags,
        "default_args": {
            "owner": settings.owner,
            "retries": settings.retries,
            "retry_delay": timedelta(minutes=settings.retry_delay_minutes),
        },
        "params": {"org_slug": org_param(orgs, org_help), "billing_day": billing_day_param()},
    }
