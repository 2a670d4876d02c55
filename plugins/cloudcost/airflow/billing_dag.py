"""Build one provider's billing DAG from its YAML. DAG files call ``build_billing_dag`` and nothing else.

Parse-time work is only reading YAML; warehouse, SDK and Arrow imports happen inside the tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task, task_group

from cloudcost.airflow.export_sensor import ExportCompleteSensor
from cloudcost.airflow.run_conf import billing_day_param, org_param
from cloudcost.airflow.timetable import BillingDayTimetable
from cloudcost.config import load_billing_config, load_orgs_tolerant, require_files

DOC = """
### {dag_id}

Lands {provider} billing exports for each org into `<org>_prod.{tables}`, converts them to FOCUS 1.3 in
`<org>_prod.cost_data_standard_1_3` and reconciles the two to the cent. One run = one UTC billing day
(the run's logical date). Set **org_slug** to run one org; leave it empty ("all orgs") for every org that
enables {provider}. To load a day again (a restatement), trigger with **billing_day** set to that day: the
run loads it whatever its logical date (a second run *with* the day's logical date is refused, 409).
Re-running a day replaces that day's slice exactly. The run's note names its org and day. The conf takes no
other key: `select_orgs` fails naming an unknown one, and nothing runs. An invalid org file stops only its
own org: `org_files` fails naming the file and key, and the run ends failed once the other orgs are done.
"""


def _run_context(org_slug: str, provider: str, context: dict[str, Any]) -> list:
    """The task's runs, one per billing day of the run, resolved once for all of them (org file, billing.yml,
    format, schema, warehouse) and handed to the stage."""
    from cloudcost.airflow.run_conf import context_days, wanted_day
    from cloudcost.pipeline.stages import make_run_context
    from cloudcost.warehouse import open_warehouse

    # lineage's run date: the logical date, unless the conf names the day (then the logical date is "now")
    logical = None if wanted_day(context["dag_run"].conf) else context.get("logical_date")
    logical_day = logical.date() if logical else None
    days = context_days(context)
    if not days:
        return []
    ingested_at = datetime.now(UTC)  # lineage stamp only; never used to choose what to load
    resolved = make_run_context(
        org_slug,
        provider,
        days[0],
        context["run_id"],
        context["dag"].dag_id,
        logical_day,
        ingested_at,
        open_warehouse(),
    )
    return [resolved.on_day(day, logical_day or day) for day in days]


def build_billing_dag(provider: str) -> DAG:
    config = load_billing_config(provider)
    require_files(config)
    settings = config.dag
    pool = config.pool.name  # the cloud API's pool: every task below that calls the provider waits for a slot

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
            "org_slug": org_param(
                load_orgs_tolerant(provider), "Run one org only; empty runs every org that enables this provider."
            ),
            "billing_day": billing_day_param(),
        },
        doc_md=DOC.format(
            dag_id=config.dag_id, provider=provider, tables=", ".join(f.table for f in config.formats.values())
        ),
        render_template_as_native_obj=False,
    ) as dag:

        @task
        def select_orgs(**context: Any) -> list[str]:
            """First task: the conf's ``org_slug`` (it must enable the provider), else every valid org; fails
            naming any other conf key, so a typo runs nothing."""
            from cloudcost.airflow.run_conf import select_orgs_task

            return select_orgs_task(context, provider)

        @task
        def org_files(**context: Any) -> str:
            """Beside the orgs' work: fails naming each invalid org file and key (the other orgs still run)."""
            from cloudcost.airflow.run_conf import org_files_task

            return org_files_task(context["dag_run"].conf, provider)

        @task(pool=pool)
        def land_raw(org_slug: str, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_land_raw

            return [run_land_raw(run) for run in _run_context(org_slug, provider, context)]

        @task
        def convert_to_focus(org_slug: str, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_convert_to_focus

            return [run_convert_to_focus(run) for run in _run_context(org_slug, provider, context)]

        @task
        def check(org_slug: str, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_checks

            return [run_checks(run) for run in _run_context(org_slug, provider, context)]

        @task
        def record(org_slug: str, landed: list[dict], checked: list[dict], **context: Any) -> list[dict]:
            """Only after the checks pass: the slice's load_state row (what rollups and freshness read)."""
            from cloudcost.pipeline.stages import run_record

            runs = _run_context(org_slug, provider, context)
            return [run_record(run, land, chk) for run, land, chk in zip(runs, landed, checked, strict=True)]

        @task(pool=pool)
        def recheck_window(org_slug: str, **context: Any) -> list[dict]:
            """Late data: reload the already-loaded days of the trailing window whose source version changed."""
            from cloudcost.pipeline.stages import run_recheck

            runs = _run_context(org_slug, provider, context)
            return run_recheck(min(runs, key=lambda resolved: resolved.run.billing_day))

        @task_group(group_id="org")
        def per_org(org_slug: str) -> None:
            wait = ExportCompleteSensor(
                task_id="wait_for_export",
                provider=provider,
                org_slug=org_slug,
                mode=config.completeness.mode,
                poke_interval=config.completeness.poke_interval_seconds,
                timeout=config.completeness.timeout_hours * 3600,
                pool=pool,
            )
            landed = land_raw(org_slug)
            checked = check(org_slug)
            wait >> landed >> convert_to_focus(org_slug) >> checked
            record(org_slug, landed, checked) >> recheck_window(org_slug)

        selected = select_orgs()
        per_org.expand(org_slug=selected)
        selected >> org_files()

    return dag
