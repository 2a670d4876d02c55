"""Build the ``focus_conformance`` DAG: weekly, per org, the full FOCUS referee on each provider's latest days.

Its own DAG, not a task of ``cost_rollups``: the validator takes 7-10 s per provider on the demo's three days,
about 35 s per org with four providers, which every nightly (and every backfilled) rollup run would pay for the
same sample; a mapping regression needs one look a week, and a manual run or a backfill gives one any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task
from airflow.timetables.trigger import CronTriggerTimetable

from cloudcost.airflow.run_conf import org_param
from cloudcost.config import load_orgs_tolerant
from cloudcost.identifiers import OrgSlug

DAG_ID = "focus_conformance"
SCHEDULE = "0 9 * * 1"  # Mondays 09:00 UTC, after the night's loads
DOC = """
### focus_conformance

Once a week, per org: for every FOCUS version the org has a table of (1.3; 1.4 once built) and each of its datasets
(1.4: Cost and Usage and Billing Period), runs the FinOps Foundation's focus-validator with our claims and errata
(`configs/focus_conformance.yml`) on each enabled provider's latest 3 succeeded billing days on or before the run's
day, and records one row per rule in `<org>_prod.focus_conformance_history`. `referee` **fails** (without retry)
naming each rule that fails now and last passed (or was an erratum) in an earlier run of the same version, provider
and dataset (rule, provider, days), on every run until the rule passes again; the first run is the baseline.
Set **org_slug** to judge one org and **billing_day** to judge the days up to another day.
"""


def _as_of_param() -> Param:
    return Param(
        None,
        type=["null", "string"],
        format="date",
        title="Last billing day",
        description="Judge each provider's latest succeeded days on or before this UTC day; empty: the run's day.",
    )


def as_of_day(context: Mapping[str, Any]) -> date:
    """The conf's ``billing_day``, else the day of the run's logical date (or of when it ran, if it has none)."""
    from cloudcost.airflow.run_conf import wanted_day

    run = context["dag_run"]
    day = wanted_day(run.conf)
    if day is not None:
        return day
    moment = context.get("logical_date") or run.run_after
    return moment.astimezone(UTC).date()


def build_conformance_dag() -> DAG:
    with DAG(
        dag_id=DAG_ID,
        description="FOCUS referee on each provider's latest days, per org, with a memory of every rule",
        schedule=CronTriggerTimetable(SCHEDULE, timezone="UTC"),
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["cloudcost", "conformance"],
        default_args={"owner": "finops-data", "retries": 1, "retry_delay": timedelta(minutes=5)},
        params={
            "org_slug": org_param(load_orgs_tolerant(), "Judge one org only; empty judges every org."),
            "billing_day": _as_of_param(),
        },
        doc_md=DOC,
    ) as dag:

        @task
        def select_orgs(**context: Any) -> list[OrgSlug]:
            """First task: the conf's ``org_slug``, else every valid org; fails at once naming a bad conf key."""
            from airflow.sdk.exceptions import AirflowFailException

            from cloudcost.airflow.run_conf import orgs_of_run

            try:
                orgs = orgs_of_run(context["dag_run"].conf, None)
                as_of_day(context)
            except ValueError as exc:
                raise AirflowFailException(str(exc)) from None
            return orgs

        @task
        def org_files(**context: Any) -> str:
            """Beside the orgs' work: fails naming each invalid org file and key (the other orgs still run)."""
            from cloudcost.airflow.run_conf import org_files_task

            return org_files_task(context["dag_run"].conf, None)

        @task
        def referee(org_slug: OrgSlug, **context: Any) -> list[dict]:
            """Judge and record; fail without retry on a regression or a missing validator (neither mends itself)."""
            from airflow.sdk.exceptions import AirflowFailException

            from cloudcost.validate.history import ConformanceRegressed
            from cloudcost.validate.referee import RefereeUnavailable
            from cloudcost.validate.scheduled import judge_latest_days

            run_id = context["dag_run"].run_id
            try:
                verdicts = judge_latest_days(org_slug, run_id, datetime.now(UTC), as_of_day(context))
            except ConformanceRegressed as exc:
                raise AirflowFailException(f"FOCUS conformance regressed for org {org_slug}:\n{exc}") from None
            except RefereeUnavailable as exc:
                raise AirflowFailException(str(exc)) from None
            return [verdict.as_dict() for verdict in verdicts]

        selected = select_orgs()
        referee.expand(org_slug=selected)
        selected >> org_files()

    return dag
