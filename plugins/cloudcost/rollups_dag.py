"""Build the ``cost_rollups`` DAG from configs/rollups.yml: per org, gate on the loads, then refresh rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task, task_group

from cloudcost.config import load_all_orgs, load_rollups_config
from cloudcost.identifiers import ORG_SLUG_PATTERN
from cloudcost.rollups.sensor import LoadsCompleteSensor
from cloudcost.timetable import BillingDayTimetable

DOC = """
### cost_rollups

Per org and UTC billing day: waits until every provider the org enables has a converted and checked load of
the day (`<org>_prod.load_state`), then replaces the day's slice of `daily_cost_by_team` and
`untagged_tag_keys`, then evaluates budgets and anomalies (`budget_status`, `anomalies`, `alerts`). If a load
is still missing when the gate times out, `wait_for_loads` fails naming each missing provider and day, and
nothing is refreshed. Set **org_slug** to run one org.
"""


def build_rollups_dag() -> DAG:
    config = load_rollups_config()
    settings = config.dag
    slugs = [org.slug for org in load_all_orgs()]
    with DAG(
        dag_id=config.dag_id,
        description=config.description,
        schedule=BillingDayTimetable(),
        start_date=datetime.combine(settings.start_date, datetime.min.time(), tzinfo=UTC),
        catchup=settings.catchup,
        max_active_runs=settings.max_active_runs,
        tags=settings.tags,
        default_args={
            "owner": settings.owner,
            "retries": settings.retries,
            "retry_delay": timedelta(minutes=settings.retry_delay_minutes),
        },
        params={
            "org_slug": Param(
                None,
                type=["null", "string"],
                enum=[None, *slugs],
                pattern=ORG_SLUG_PATTERN,
                title="Org",
                description="Roll up one org only; empty rolls up every org.",
            )
        },
        doc_md=DOC,
    ) as dag:

        @task
        def select_orgs(**context: Any) -> list[str]:
            from cloudcost.config import load_all_orgs
            from cloudcost.identifiers import validate_org_slug

            every = [org.slug for org in load_all_orgs()]
            wanted = context["params"].get("org_slug")
            if wanted:
                validate_org_slug(wanted)
                if wanted not in every:
                    raise ValueError(f"no org {wanted!r} (orgs: {', '.join(every)})")
                return [wanted]
            return every

        @task
        def refresh(org_slug: str, **context: Any) -> list[dict]:
            """Replace the interval's rollup slices (the gate is checked again inside the transaction)."""
            from cloudcost.billing_window import billing_days
            from cloudcost.config import load_org_by_slug
            from cloudcost.rollups.refresh import refresh_rollups
            from cloudcost.warehouse import open_warehouse

            org = load_org_by_slug(org_slug)
            refreshed_at = datetime.now(UTC)  # a stamp only; the slice is chosen by the data interval
            days = billing_days(context["data_interval_start"], context["data_interval_end"])
            return [refresh_rollups(open_warehouse(), org, day, refreshed_at).as_dict() for day in days]

        @task
        def evaluate(org_slug: str, **context: Any) -> list[dict]:
            """Budgets, anomalies and alerts on the refreshed rollups (never on a day that was not refreshed)."""
            from cloudcost.billing_window import billing_days
            from cloudcost.config import load_org_by_slug
            from cloudcost.evaluation.evaluate import evaluate_day
            from cloudcost.evaluation.suggestions import sweep
            from cloudcost.warehouse import open_warehouse

            org = load_org_by_slug(org_slug)
            now = datetime.now(UTC)  # when alerts were raised; what is judged is the data interval's day
            days = billing_days(context["data_interval_start"], context["data_interval_end"])
            results = [evaluate_day(open_warehouse(), org, day, now).as_dict() for day in days]
            suggested = sweep(open_warehouse(), org, max(days), now)  # the nightly correlation sweep
            return [result | {"open_suggestions": len(suggested)} for result in results]

        @task_group(group_id="org")
        def per_org(org_slug: str) -> None:
            gate = LoadsCompleteSensor(
                task_id="wait_for_loads",
                org_slug=org_slug,
                mode=config.gate.mode,
                poke_interval=config.gate.poke_interval_seconds,
                timeout=config.gate.timeout_hours * 3600,
            )
            gate >> refresh(org_slug) >> evaluate(org_slug)

        per_org.expand(org_slug=select_orgs())

    return dag
