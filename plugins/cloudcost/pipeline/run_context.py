"""What identifies one run for one org: built once from the Airflow context, then passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cloudcost.identifiers import validate_org_slug


@dataclass(frozen=True)
class RunContext:
    org: str
    provider: str
    billing_day: date
    run_id: str
    pipeline_id: str
    logical_date: date
    credential_id: str
    ingested_at: datetime

    def __post_init__(self) -> None:
        validate_org_slug(self.org)
