"""Names each billing and rollups run by what it loads: its note becomes e.g. ``demo · 2026-11-02``.

Airflow 3.3.2 names a manual run after the moment of the trigger (``Timetable.generate_run_id`` is given
the run type, run_after and data interval, never the conf), so the run list, the grid and the REST API
would not say which org and day a run loads, least of all for a ``billing_day`` re-run. The run's note is
shown in all three. This module is a listener (registered by ``plugins/cloudcost_plugin.py``): Airflow
calls it, in the scheduler, in the session that marks the run running, and it writes the note unless the run
already has one, such as one the user typed in the trigger form. ``airflow dags test`` calls it with a run no
longer in a session (nothing to write to); ``cloudcost demo run`` writes its runs' notes itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from airflow.listeners import hookimpl

OUR_DAGS = re.compile(r"cloud_[a-z0-9]+_cost_billing|cost_rollups")
log = logging.getLogger(__name__)


def run_label(conf: Mapping[str, object] | None, run_type: Any, start: Any, end: Any) -> str:
    """``<org or "all orgs"> · <day or first..last day>`` of a run, from the same rules its tasks use."""
    from cloudcost.airflow.run_conf import ALL_ORGS, RunConfError, run_days, wanted_org

    try:
        org = wanted_org(conf) or ALL_ORGS
    except RunConfError:
        org = "invalid conf"  # select_orgs fails the run naming the key
    try:
        days: list[date] = run_days(conf, run_type, start, end)
    except ValueError:
        return f"{org} · no billing day"  # the run's first task fails saying why
    span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}..{days[-1].isoformat()}"
    return f"{org} · {span}"


def name_run(dag_run: Any) -> None:
    """Set the note of one of our runs (in its session) to its ``run_label``, unless it has a note."""
    if not OUR_DAGS.fullmatch(dag_run.dag_id) or dag_run.note:
        return
    label = run_label(dag_run.conf, dag_run.run_type, dag_run.data_interval_start, dag_run.data_interval_end)
    dag_run.note = (label, None)  # no user: Airflow wrote it


def _name(dag_run: Any) -> None:
    from sqlalchemy import inspect

    if inspect(dag_run).session is not None:
        name_run(dag_run)


@hookimpl
def on_dag_run_running(dag_run: Any, msg: str) -> None:
    _name(dag_run)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _name(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _name(dag_run)
