"""What was loaded for each slice (``<org>_prod.load_state``): ``landed`` as soon as the raw slice is replaced,
``succeeded`` only after conversion and checks pass (stage ``record``). A slice whose convert or check failed
stays ``landed``, so the rollup gate refuses it even if an older load of it had succeeded."""

from __future__ import annotations

from decimal import Decimal

from cloudcost.identifiers import qualified
from cloudcost.pipeline.run_context import RunContext
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.base import SliceKey
from cloudcost.warehouse.duckdb import DuckDBWarehouse


def record_load(
    warehouse: DuckDBWarehouse,
    dataset: str,
    run: RunContext,
    source_format: str,
    landed: dict,
    checked: dict,
    status: str = "succeeded",
) -> dict:
    """Replace the slice's load_state row with this run's figures; returns the row."""
    schema = load_table_schema("state/load_state.yml")
    row = {
        "provider": run.provider,
        "billing_day": run.billing_day,
        "status": status,
        "source_format": source_format,
        "source_version": landed.get("source_version"),
        "raw_rows": int(landed["rows"]),
        "focus_rows": int(checked["focus_rows"]),
        "billed_cost": Decimal(checked["billed_cost"]),
        "run_id": run.run_id,
        "loaded_at": run.ingested_at,
    }
    with warehouse.session() as session:
        warehouse.ensure_table(session, dataset, schema)
        with warehouse.transaction(session):
            warehouse.delete_slice(
                session, SliceKey.of(dataset, schema.table, provider=run.provider, billing_day=run.billing_day)
            )
            columns = list(row)
            session.execute(
                f"insert into {qualified(dataset, schema.table)} ({', '.join(columns)}) "
                f"values ({', '.join('?' for _ in columns)})",
                list(row.values()),
            )
    return {
        **row,
        "billing_day": str(run.billing_day),
        "billed_cost": str(row["billed_cost"]),
        "loaded_at": str(run.ingested_at),
    }


def mark_landed(warehouse: DuckDBWarehouse, dataset: str, run: RunContext, source_format: str, landed: dict) -> dict:
    """The raw slice was replaced; FOCUS is not yet converted and checked for it."""
    unchecked = {"focus_rows": 0, "billed_cost": landed["billed_cost"]}
    return record_load(warehouse, dataset, run, source_format, landed, unchecked, status="landed")
