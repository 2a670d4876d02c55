"""What was loaded for each slice (``<org>_prod.load_state``): ``landed`` when the raw slice is replaced (in the
same transaction as the rows), ``succeeded`` only after conversion and checks pass (stage ``record``). A slice
whose convert or check failed, or whose raw rows a later delivery changed, stays ``landed``, so the rollup gate
refuses it and the recheck converts it again."""

from __future__ import annotations

from decimal import Decimal

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.base import Session, Warehouse

LOAD_STATE = "state/load_state.yml"


def state_row(run: RunContext, source_format: str, landed: dict, checked: dict, status: str) -> dict:
    return {
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


def write_state(session: Session, dataset: str, row: dict) -> None:
    """Replace the slice's row, in the caller's transaction."""
    table = qualified(dataset, "load_state")
    session.execute(
        f"delete from {table} where provider = ? and billing_day = ?", [row["provider"], row["billing_day"]]
    )
    columns = list(row)
    session.execute(
        f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})", list(row.values())
    )


def landed_row(run: RunContext, source_format: str, landed: dict) -> dict:
    """The raw slice was replaced; FOCUS is not yet converted and checked for it."""
    return state_row(run, source_format, landed, _unchecked(landed), "landed")


def _unchecked(landed: dict) -> dict:
    return {"focus_rows": 0, "billed_cost": landed["billed_cost"]}


def record_load(
    warehouse: Warehouse,
    dataset: str,
    run: RunContext,
    source_format: str,
    landed: dict,
    checked: dict,
    status: str = "succeeded",
) -> dict:
    """Replace the slice's load_state row with this run's figures, in a transaction of its own; returns the row."""
    row = state_row(run, source_format, landed, checked, status)

    def record() -> None:
        with warehouse.session(dataset) as session:
            warehouse.ensure_table(session, dataset, load_table_schema(LOAD_STATE))
            with warehouse.transaction(session):
                write_state(session, dataset, row)

    # load_state is shared by the org's providers: another one's transaction can abort this one
    warehouse.retry_conflicts(record, f"load_state {run.org}/{run.provider} {run.billing_day}")
    return {
        **row,
        "billing_day": str(run.billing_day),
        "billed_cost": str(row["billed_cost"]),
        "loaded_at": str(run.ingested_at),
    }


def mark_landed(warehouse: Warehouse, dataset: str, run: RunContext, source_format: str, landed: dict) -> dict:
    """The raw slice was replaced; FOCUS is not yet converted and checked for it."""
    return record_load(warehouse, dataset, run, source_format, landed, _unchecked(landed), "landed")
