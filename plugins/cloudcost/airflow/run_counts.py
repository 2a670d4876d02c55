"""How many of cloudcost's DAG runs finished and how many succeeded: the success rate in ``cloudcost health``."""

from __future__ import annotations

from datetime import datetime


def airflow_run_counts(since: datetime) -> tuple[int, int]:
    """(succeeded, finished) DAG runs of cloudcost's DAGs since ``since``, from Airflow's metadata DB."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import or_

    with create_session() as session:
        states = [
            str(state)
            for (state,) in session.query(DagRun.state).filter(
                or_(DagRun.dag_id.like("cloud\\_%\\_cost\\_billing", escape="\\"), DagRun.dag_id == "cost_rollups"),
                DagRun.run_after >= since,
            )
        ]
    finished = [s for s in states if s in ("success", "failed")]
    return sum(s == "success" for s in finished), len(finished)
