"""FOCUS 1.4 for the days converted before 1.4 existed: an org upgraded from a build without 1.4 has 1.3 history
that no later convert revisits, so the convert that creates the 1.4 table fills every (provider, billing day)
slice 1.3 holds and 1.4 does not, with the same shared statements a convert runs for its own day.

Engine-neutral: which slices are missing (``procedures/sp_cloud_1_focus_1_4/missing_slices.sql``) and the loop
over them; each engine says how one slice is written (DuckDB: ``duckdb_convert``; BigQuery runs the same loop
inside one procedure, ``bigquery_ddl.focus_1_4_catch_up_procedure``). The 1.4 export and referee refuse a range
holding a missing slice (``validate.export.require_every_day``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cloudcost.config import Provider, parse_provider
from cloudcost.warehouse import focus_1_4
from cloudcost.warehouse.base import Session

MISSING_SLICES = f"{focus_1_4.FOLDER}/missing_slices.sql"


def missing_slices_select(qualify: Callable[[str], str]) -> str:
    """The (x_cloud_provider, x_ingestion_date) pairs present in 1.3 and absent in 1.4, oldest day first."""
    return focus_1_4.render(MISSING_SLICES, qualify)


def fill_missing_slices(
    session: Session, qualify: Callable[[str], str], write_slice: Callable[[Provider, date], None]
) -> list[tuple[Provider, date]]:
    """Write each missing slice (and so rebuild its billing periods) in the caller's transaction; returns them."""
    missing = [(parse_provider(provider), day) for provider, day in session.fetchall(missing_slices_select(qualify))]
    for provider, day in missing:
        write_slice(provider, day)
    return missing
