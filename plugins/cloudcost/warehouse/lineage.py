"""The lineage every raw row carries, as bound parameters of the landing SQL (both warehouses type rows with
the same ``sources/normalize.py`` statements)."""

from __future__ import annotations

from typing import Any

from cloudcost.core.run_context import RunContext
from cloudcost.sources.base import Delivery, DeliveryFile

RUN_PARAMETERS = ("x_pipeline_id", "x_credential_id", "x_run_id", "x_ingested_at", "x_pipeline_run_date")


def lineage_parameters(run: RunContext, item: DeliveryFile, delivery: Delivery) -> dict[str, Any]:
    """The bound parameters of ``select_sql``: lineage, the delivery's days, the reader's constants."""
    params: dict[str, Any] = {
        "x_pipeline_id": run.pipeline_id,
        "x_credential_id": run.credential_id,
        "x_run_id": run.run_id,
        "x_ingested_at": run.ingested_at,
        "x_pipeline_run_date": run.logical_date,
        "x_source_object": item.key,
        "x_source_version": delivery.version,
        **{f"const_{name}": value for name, value in item.constants},
    }
    if delivery.days is not None:
        params |= {"first_day": delivery.days[0], "last_day": delivery.days[1]}
    return params
