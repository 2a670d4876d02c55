"""Run a provider's DAG through Airflow for a range of billing days, in one process (``dag.test``).

One process for all days saves Airflow's start-up per day; each day is still a real DAG run recorded
in the metadata database, with the same tasks the scheduler would run.

Airflow 3.3.2's ``dag.test`` records a run's start as its logical date (``start_date=logical_date or
run_after`` in ``airflow/sdk/definitions/dag.py``), so the UI showed the demo's runs lasting weeks
("3d09:55:35" and more). ``_record_real_start`` puts the moment the run really started there instead, and
the run's note (org and day, ``cloudcost.airflow.run_notes``), which the scheduler would have written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from cloudcost.billing_window import day_interval
from cloudcost.identifiers import OrgSlug


class DagRunFailed(RuntimeError):
    """A DAG run did not succeed."""


def run_days(dag_ids: list[str], days: list[date], org_slug: OrgSlug | None) -> list[tuple[str, date, str]]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    from cloudcost.paths import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    if bag.import_errors:
        raise DagRunFailed("DAG import errors: " + "; ".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    missing = [dag_id for dag_id in dag_ids if dag_id not in bag.dags]
    if missing:
        raise DagRunFailed(f"no DAG {', '.join(missing)} in dags/")
    results = []
    conf = {"org_slug": org_slug} if org_slug else {}
    for dag_id in dag_ids:
        for day in days:
            logical_date, _ = day_interval(day)
            started = datetime.now(UTC)
            run = bag.dags[dag_id].test(logical_date=logical_date, run_conf=conf)
            if run is not None:
                _record_real_start(run.id, started)
            state = str(getattr(run, "state", "unknown"))
            results.append((dag_id, day, state))
            if run is None or run.state != DagRunState.SUCCESS:
                raise DagRunFailed(f"{dag_id} for {day} ended in state {state}")
    return results


def _record_real_start(dag_run_id: int, started: datetime) -> None:
    """The run's ``start_date`` becomes when ``dag.test`` began, so its duration in the UI is the real one."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    from cloudcost.airflow.run_notes import name_run

    with create_session() as session:
        run = session.get(DagRun, dag_run_id)
        if run is None:  # dag.test returned this id a moment ago; gone means the metadata database was reset
            raise DagRunFailed(f"DAG run {dag_run_id} is no longer in Airflow's metadata database")
        run.start_date = started
        name_run(run)
