"""Pipeline metrics: measured by a run, appended to ``<org>_prod.pipeline_metrics`` and logged, one line each.

``export_freshness_hours`` is how long a charge took to become a FOCUS row: per provider and billing day, the
**median** over the rows of ``x_ingested_at - ChargePeriodEnd`` in hours. The median, not the max: the max of a
day is set by its oldest row, which is a late correction or an earlier period's charge clamped into the day,
and says nothing about the day's usual delay. Rows whose charge period had not ended when they were loaded
(monthly fees and commitments, billed ahead) are left out, and so is a day with only such rows.
``x_ingested_at`` is when the run started landing the raw rows; the FOCUS rows exist from the end of the same
run, so the figure is short by the run's duration (seconds to minutes).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from cloudcost.identifiers import qualified
from cloudcost.schemas import PRIMARY_FOCUS_VERSION, focus_schema, load_table_schema
from cloudcost.warehouse.base import Session, Warehouse

log = logging.getLogger(__name__)

METRICS_SCHEMA = "rollups/pipeline_metrics.yml"
FRESHNESS = "export_freshness_hours"


@dataclass(frozen=True)
class Metric:
    metric: str
    value: Decimal
    dimensions: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """``metric=value {dimensions}``: what is logged and printed."""
        return f"{self.metric}={self.value} {json.dumps(self.dimensions, sort_keys=True)}"


def new_run_id(kind: str, now: datetime) -> str:
    """A run id that sorts by time and does not collide: ``<kind>__<UTC time>__<8 hex>``."""
    return f"{kind}__{now.astimezone(UTC):%Y%m%dT%H%M%SZ}__{uuid.uuid4().hex[:8]}"


def export_freshness(
    session: Session,
    dataset: str,
    first_day: date,
    last_day: date,
    providers: list[str] | None = None,
    focus_version: str = PRIMARY_FOCUS_VERSION,
) -> list[Metric]:
    """Median hours from charge end to the FOCUS row's load, per provider and billing day (module docstring), read
    from the table of the exported ``focus_version``: the rows the file holds."""
    where = ["x_ingestion_date between ? and ?", "ChargePeriodEnd <= x_ingested_at"]
    params: list[Any] = [first_day, last_day]
    if providers:
        where.append(f"x_cloud_provider in ({', '.join('?' for _ in providers)})")
        params += providers
    # the median as a window function: the one form of it that every warehouse's SQL has
    per_day = "over (partition by x_cloud_provider, x_ingestion_date)"
    table = qualified(dataset, focus_schema(focus_version).table)
    rows = session.fetchall(
        f"select distinct x_cloud_provider, x_ingestion_date, count(*) {per_day}, "
        f"quantile_cont(delay_us, 0.5) {per_day} from ("
        "select x_cloud_provider, x_ingestion_date, epoch_us(x_ingested_at) - epoch_us(ChargePeriodEnd) as delay_us "
        f"from {table} where {' and '.join(where)}) as delays order by 1, 2",
        params,
    )
    return [
        Metric(
            FRESHNESS,
            Decimal(f"{float(median_us) / 3600e6:.4f}"),
            {"provider": provider, "billing_day": day.isoformat(), "statistic": "median", "rows": int(count)},
        )
        for provider, day, count, median_us in rows
    ]


def record_metrics(
    warehouse: Warehouse,
    session: Session,
    dataset: str,
    run: str,
    metrics: list[Metric],
    measured_at: datetime,
) -> None:
    """Append the run's metrics in one transaction, then log each line."""
    schema = load_table_schema(METRICS_SCHEMA)
    warehouse.ensure_table(session, dataset, schema)
    with warehouse.transaction(session):
        for metric in metrics:
            session.execute(
                f"insert into {qualified(dataset, schema.table)} (run, metric, value, dimensions, measured_at) "
                "values (?, ?, ?, json(?), ?)",  # json(?): the dimensions' text parsed as JSON
                [run, metric.metric, metric.value, json.dumps(metric.dimensions, sort_keys=True), measured_at],
            )
    for metric in metrics:
        log.info("metric %s run=%s", metric.line(), run)
