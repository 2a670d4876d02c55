"""Build one provider's billing DAG from its YAML. DAG files call ``build_billing_dag`` and nothing else.

Parse-time work is only reading YAML; warehouse, SDK and Arrow imports happen inside the tasks.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, task, task_group

from cloudcost.airflow.dag_args import billing_day_dag_kwargs
from cloudcost.airflow.export_sensor import ExportCompleteSensor
from cloudcost.config import Provider, load_billing_config, load_orgs_tolerant, require_files
from cloudcost.identifiers import OrgSlug

if TYPE_CHECKING:
    from cloudcost.pipeline.resolved_run import ResolvedRun

log = logging.getLogger(__name__)

DOC = """
### {dag_id}

Lands {provider} billing exports for each org into `<org>_prod.{tables}`, converts them to FOCUS 1.3 in
`<org>_prod.cost_data_standard_1_3` and reconciles the two to the cent. One run = one UTC billing day
(the run's logical date). Set **org_slug** to run one org; leave it empty ("all orgs") for every org that
enables {provider}. To load a day again (a restatement), trigger with **billing_day** set to that day: the
run loads it whatever its logical date (a second run *with* the day's logical date is refused, 409).
Re-running a day replaces that day's slice exactly. Earlier days a provider restated are found by
`recheck_window` and loaded again by the mapped `restate` group, one instance per org and day (retry or clear
each on its own); `cost_rollups` refreshes their rollups. The run's note names its org and day. The conf takes no
other key: `select_orgs` fails naming an unknown one, and nothing runs. An invalid org file stops only its
own org: `org_files` fails naming the file and key, and the run ends failed once the other orgs are done.
"""


def _run_context(org_slug: OrgSlug, provider: Provider, context: dict[str, Any]) -> list[ResolvedRun]:
    """The task's runs, one per billing day of the run, resolved once for all of them (org file, billing.yml,
    format, schema, warehouse) and handed to the stage."""
    from cloudcost.airflow.run_conf import days_of

    days = days_of(context)
    if not days:
        return []
    resolved = _run_for(org_slug, provider, days[0], context)
    logical_day = _logical_day(context)
    return [resolved.on_day(day, logical_day or day) for day in days]


def _run_for(org_slug: OrgSlug, provider: Provider, day: date, context: dict[str, Any]) -> ResolvedRun:
    """The resolved run of ``day`` in this task's DAG run (a restated day is loaded with its reloading run's
    lineage)."""
    from cloudcost.pipeline.stages import make_run_context

    ingested_at = datetime.now(UTC)  # lineage stamp only; never used to choose what to load
    return make_run_context(
        org_slug, provider, day, context["run_id"], context["dag"].dag_id, _logical_day(context), ingested_at
    )


def _logical_day(context: dict[str, Any]) -> date | None:
    """Lineage's run date: the logical date, unless the conf names the day (then the logical date is "now")."""
    from cloudcost.airflow.run_conf import wanted_day

    logical = None if wanted_day(context["dag_run"].conf) else context.get("logical_date")
    return logical.date() if logical else None


def _restated_run(provider: Provider, restatement: dict, context: dict[str, Any]) -> ResolvedRun:
    """A restated day's run; its org and day come back through XCom, so they are parsed again (an edge)."""
    from cloudcost.airflow.run_conf import restatement_org

    day = date.fromisoformat(restatement["billing_day"])
    return _run_for(restatement_org(restatement), provider, day, context)


def days_of_every_org(rechecks: list) -> list[dict]:
    """The ``recheck_window`` results of every org, flattened. Airflow 3.3.2 hands back the value of a mapped task
    that ran once unwrapped (``xcom_pull`` returns a single XCom as itself): one org's list of days, not a list
    holding it; two orgs' arrive as a list of lists."""
    per_org = rechecks if all(isinstance(org_days, list) for org_days in rechecks) else [rechecks]
    return [restatement for org_days in per_org for restatement in org_days]


def build_billing_dag(provider: Provider) -> DAG:
    config = load_billing_config(provider)
    require_files(config)
    settings = config.dag
    pool = config.pool.name  # the cloud API's pool: every task below that calls the provider waits for a slot

    with DAG(
        **billing_day_dag_kwargs(
            config.dag_id,
            config.description,
            settings,
            load_orgs_tolerant(provider),
            "Run one org only; empty runs every org that enables this provider.",
        ),
        doc_md=DOC.format(
            dag_id=config.dag_id, provider=provider, tables=", ".join(f.table for f in config.formats.values())
        ),
        render_template_as_native_obj=False,
    ) as dag:

        @task
        def select_orgs(**context: Any) -> list[OrgSlug]:
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
        def land_raw(org_slug: OrgSlug, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_land_raw

            return [run_land_raw(run) for run in _run_context(org_slug, provider, context)]

        @task
        def convert_to_focus(org_slug: OrgSlug, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_convert_to_focus

            return [run_convert_to_focus(run) for run in _run_context(org_slug, provider, context)]

        @task
        def check(org_slug: OrgSlug, **context: Any) -> list[dict]:
            from cloudcost.pipeline.stages import run_checks

            return [run_checks(run) for run in _run_context(org_slug, provider, context)]

        @task
        def record(org_slug: OrgSlug, landed: list[dict], checked: list[dict], **context: Any) -> list[dict]:
            """Only after the checks pass: the slice's load_state row (what rollups and freshness read)."""
            from cloudcost.pipeline.stages import run_record

            runs = _run_context(org_slug, provider, context)
            return [run_record(run, land, chk) for run, land, chk in zip(runs, landed, checked, strict=True)]

        @task(pool=pool)
        def recheck_window(org_slug: OrgSlug, **context: Any) -> list[dict]:
            """Late data: land the trailing window's changed deliveries; return the loaded days whose source
            changed, for the ``restate`` group to reload (none: its tasks are skipped)."""
            from cloudcost.pipeline.stages import run_recheck

            runs = _run_context(org_slug, provider, context)
            return run_recheck(min(runs, key=lambda resolved: resolved.run.billing_day))

        @task
        def restated_days(rechecks: list) -> list[dict]:
            """Every org's days to reload as one list: Airflow 3.3 maps no task group inside a mapped one, so the
            ``restate`` group is mapped over this, one instance per (org, day)."""
            return days_of_every_org(rechecks)

        @task(task_id="land")
        def restate_land(restatement: dict, **context: Any) -> dict:
            """The restated day's raw figures (``recheck_window`` landed its delivery); its state becomes landed."""
            from cloudcost.pipeline.stages import summarise_landed_day

            return summarise_landed_day(_restated_run(provider, restatement, context))

        @task(task_id="convert_to_focus")
        def restate_convert(restatement: dict, **context: Any) -> dict:
            from cloudcost.pipeline.stages import run_convert_to_focus

            return run_convert_to_focus(_restated_run(provider, restatement, context))

        @task(task_id="check")
        def restate_check(restatement: dict, **context: Any) -> dict:
            from cloudcost.pipeline.stages import run_checks

            return run_checks(_restated_run(provider, restatement, context))

        @task(task_id="record")
        def restate_record(restatement: dict, landed: dict, checked: dict, **context: Any) -> dict:
            """The restated day is ``succeeded`` again; ``cost_rollups`` refreshes its rollups on its next run."""
            from cloudcost.pipeline.stages import restatement_sentence, run_record

            row = run_record(_restated_run(provider, restatement, context), landed, checked)
            log.info(restatement_sentence(provider, restatement, row))
            return row

        @task_group(group_id="org")
        def per_org(org_slug: OrgSlug) -> Any:
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
            rechecked = recheck_window(org_slug)
            record(org_slug, landed, checked) >> rechecked  # type: ignore[arg-type]  # Airflow's @task typing does not model XComArg: the argument is resolved to the declared type at run time
            return rechecked  # outside the group: one list per org

        @task_group(group_id="restate")
        def restate(restatement: dict) -> None:
            """One restated (org, day) loaded again: its own land, convert, check and record, seen in the grid."""
            landed = restate_land(restatement)
            checked = restate_check(restatement)
            landed >> restate_convert(restatement) >> checked
            restate_record(restatement, landed, checked)  # type: ignore[arg-type]  # Airflow's @task typing does not model XComArg: the argument is resolved to the declared type at run time

        selected = select_orgs()
        restate.expand(restatement=restated_days(per_org.expand(org_slug=selected)))  # type: ignore[arg-type]  # Airflow's @task typing does not model XComArg: the argument is resolved to the declared type at run time
        selected >> org_files()

    return dag
