"""Build the ``cost_rollups`` DAG from configs/rollups.yml: per org, gate on the loads, then refresh rollups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import DAG, task, task_group

from cloudcost.airflow.dag_args import billing_day_dag_kwargs
from cloudcost.airflow.loads_sensor import LoadsCompleteSensor
from cloudcost.config import load_orgs_tolerant, load_rollups_config
from cloudcost.identifiers import OrgSlug

DOC = """
### cost_rollups

Per org and UTC billing day: waits until every provider the org enables has a converted and checked load of
the day (`<org>_prod.load_state`), then replaces the day's slice of `daily_cost_by_team` and
`untagged_tag_keys`; `refresh_restated` refreshes again every earlier day of the recheck window whose load was
recorded after its rollups (a restatement the billing DAG's `restate` group reloaded), behind the same gate; then
evaluates budgets and anomalies (`budget_status`, `anomalies`, `alerts`). If a load
is still missing when the gate times out, `wait_for_loads` fails naming each missing provider and day, and
nothing is refreshed. Set **org_slug** to run one org and **billing_day** to roll a day up again (a manual run;
no other conf key: `select_orgs` fails naming it). An
invalid org file stops only its own org: `org_files` fails naming the file and key.
"""


def build_rollups_dag() -> DAG:
    config = load_rollups_config()
    with DAG(
        **billing_day_dag_kwargs(
            config.dag_id,
            config.description,
            config.dag,
            load_orgs_tolerant(),
            "Roll up one org only; empty rolls up every org.",
        ),
        doc_md=DOC,
    ) as dag:

        @task
        def select_orgs(**context: Any) -> list[OrgSlug]:
            """First task: the conf's ``org_slug``, else every valid org; fails naming any other conf key."""
            from cloudcost.airflow.run_conf import select_orgs_task

            return select_orgs_task(context, None)

        @task
        def org_files(**context: Any) -> str:
            """Beside the orgs' work: fails naming each invalid org file and key (the other orgs still run)."""
            from cloudcost.airflow.run_conf import org_files_task

            return org_files_task(context["dag_run"].conf, None)

        @task
        def refresh(org_slug: OrgSlug, **context: Any) -> list[dict]:
            """Replace the interval's rollup slices (the gate is checked again inside the transaction)."""
            from cloudcost.airflow.run_conf import days_of
            from cloudcost.config import load_org_by_slug
            from cloudcost.rollups.refresh import refresh_rollups
            from cloudcost.warehouse import open_warehouse

            org = load_org_by_slug(org_slug)
            refreshed_at = datetime.now(UTC)  # a stamp only; the slice is chosen by the data interval
            days = days_of(context)
            return [refresh_rollups(open_warehouse(), org, day, refreshed_at).as_dict() for day in days]

        @task
        def refresh_restated(org_slug: OrgSlug, **context: Any) -> list[dict]:
            """Refresh again every day of the recheck window whose load was recorded after its rollups (a
            restatement the billing DAG reloaded); a day whose gate is closed is left for the next run."""
            from cloudcost.airflow.run_conf import days_of
            from cloudcost.config import load_billing_config, load_org_by_slug
            from cloudcost.pipeline.stages import recheck_window
            from cloudcost.rollups.restated import refresh_restated_days
            from cloudcost.warehouse import open_warehouse

            org = load_org_by_slug(org_slug)
            enabled = [provider for provider, entry in org.providers.items() if entry.enabled]
            months = max((load_billing_config(p).restatements.recheck_months for p in enabled), default=0)
            # the billing DAGs' widest recheck, one month wider: a day restated by last night's run of the 31st is
            # still in tonight's window on the 1st, when the billing window has moved on by a month
            window = recheck_window(min(days_of(context)), months + 1)
            return [result.as_dict() for result in refresh_restated_days(open_warehouse(), org, window)]

        @task
        def evaluate(org_slug: OrgSlug, **context: Any) -> list[dict]:
            """Budgets, anomalies and alerts on the refreshed rollups (never on a day that was not refreshed)."""
            from cloudcost.airflow.run_conf import days_of
            from cloudcost.config import load_org_by_slug
            from cloudcost.evaluation.evaluate import evaluate_day
            from cloudcost.evaluation.suggestions import sweep
            from cloudcost.warehouse import open_warehouse

            org = load_org_by_slug(org_slug)
            now = datetime.now(UTC)  # when alerts were raised; what is judged is the data interval's day
            days = days_of(context)
            results = [evaluate_day(open_warehouse(), org, day, now).as_dict() for day in days]
            suggested = sweep(open_warehouse(), org, max(days), now)  # the nightly correlation sweep
            return [result | {"open_suggestions": len(suggested)} for result in results]

        @task_group(group_id="org")
        def per_org(org_slug: OrgSlug) -> None:
            gate = LoadsCompleteSensor(
                task_id="wait_for_loads",
                org_slug=org_slug,
                mode=config.gate.mode,
                poke_interval=config.gate.poke_interval_seconds,
                timeout=config.gate.timeout_hours * 3600,
            )
            gate >> refresh(org_slug) >> refresh_restated(org_slug) >> evaluate(org_slug)

        selected = select_orgs()
        per_org.expand(org_slug=selected)
        selected >> org_files()

    return dag
