"""Run a provider's DAG through Airflow for a range of billing days, in one process (``dag.test``).

One process for all days saves Airflow's start-up per day; each day is still a real DAG run recorded
in the metadata database, with the same tasks the scheduler would run.
"""

from __future__ import annotations

from datetime import date

from cloudcost.billing_window import day_interval


class DagRunFailed(RuntimeError):
    """A DAG run did not succeed."""


def run_days(dag_ids: list[str], days: list[date], org_slug: str | None) -> list[tuple[str, date, str]]:
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
            run = bag.dags[dag_id].test(logical_date=logical_date, run_conf=conf)
            state = str(getattr(run, "state", "unknown"))
            results.append((dag_id, day, state))
            if run is None or run.state != DagRunState.SUCCESS:
                raise DagRunFailed(f"{dag_id} for {day} ended in state {state}")
    return results
