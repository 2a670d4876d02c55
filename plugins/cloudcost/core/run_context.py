"""What identifies one run for one org: built once from the Airflow context, then passed explicitly.

The org slug is validated at the edge (the DAG's param, the command line) and by the org file's model; this
only carries it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cloudcost.config import Provider


@dataclass(frozen=True)
class RunContext:
    org: str
    provider: Provider
    billing_day: date
    run_id: str
    pipeline_id: str
    logical_date: date
    credential_id: str
    ingested_at: datetime
