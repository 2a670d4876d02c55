"""Stage ``land_raw``: land each delivery of the day's export once, then report the run's billing day.

A delivery (``sources/base.py``) is landed whole, for every billing day it covers, by the warehouse
(``Warehouse.land_deliveries``: files typed in SQL by ``sources/normalize.py``), with its row in the ledger and
judged by the guards before the transaction commits. A delivery
already landed at the same version (``landed.py``) is not read again, so a 30-day backfill over one month's
delivery reads its files once, and re-running a day changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from cloudcost.core.results import Landed, LandResult
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.money_format import cents
from cloudcost.pipeline.delivery_guards import DeliveryRules, day_figures, judge, mark_stale, touched_days
from cloudcost.pipeline.landed import DELIVERIES, day_objects, day_rows, day_version, pending, record_delivery
from cloudcost.pipeline.load_state import LOAD_STATE, landed_row, write_state
from cloudcost.pipeline.shrink_permits import PERMITS
from cloudcost.schemas import TableSchema, load_table_schema
from cloudcost.sources.base import BillingExport, Delivery
from cloudcost.warehouse.base import LandingJob, Session, Warehouse

log = logging.getLogger(__name__)


def land_raw(
    warehouse: Warehouse,
    export: BillingExport,
    schema: TableSchema,
    dataset: str,
    run: RunContext,
    rules: DeliveryRules,
    source_format: str,
) -> LandResult:
    """Land what the day's deliveries hold that is not landed yet, then summarise the day; the rows, the ledger
    and the day's ``landed`` state commit together."""
    deliveries = export.deliveries(run.billing_day)  # ExportNotReady while the day is incomplete
    _state_schemas()  # parsed (and cached) before the turn at the warehouse: others wait while it is held

    def land() -> tuple[LandResult, Landed]:
        with warehouse.session(dataset) as session:
            ensure_tables(warehouse, session, dataset, schema)
            replaced = day_rows(session, dataset, schema, run.billing_day)
            with warehouse.transaction(session):
                landed = land_guarded(warehouse, session, export, deliveries, schema, dataset, run, rules)
                rows, billed = _run_day(session, dataset, schema, run, rules)
                version = day_version(session, dataset, schema, run.billing_day)
                objects = sum(len(d.files) for d in deliveries)
                result = LandResult(rows, billed, replaced, objects, version, landed.deliveries, landed.rows)
                write_state(session, dataset, landed_row(run, source_format, result.as_dict()))
        return result, landed

    # the ledger and load state are shared by the org's providers: another landing can abort this transaction
    result, landed = warehouse.retry_conflicts(land, f"land_raw {run.org}/{run.provider} {run.billing_day}")
    log.info(
        "land_raw %s/%s %s: landed %d new deliveries (%s rows, all days); the day now holds %s raw rows "
        "(%s before), billed %s (billing currency, to the cent), from %d file(s) at source version %s.",
        run.org,
        run.provider,
        run.billing_day,
        landed.deliveries,
        f"{landed.rows:,}",
        f"{result.rows:,}",
        f"{result.replaced_rows:,}",
        cents(result.billed_cost),
        result.objects,
        result.source_version,
    )
    return result


def land_guarded(
    warehouse: Warehouse,
    session: Session,
    export: BillingExport,
    deliveries: Sequence[Delivery],
    schema: TableSchema,
    dataset: str,
    run: RunContext,
    rules: DeliveryRules,
) -> Landed:
    """In the caller's transaction: land the deliveries not landed yet at their version, record them in the
    ledger, judge the result (``delivery_guards``: refused, it all rolls back) and mark the days it changed as no
    longer checked. ``land_raw`` and the recheck both land through here, so both on the warehouse's own way."""
    todo = pending(session, dataset, schema, deliveries)
    if not todo:
        return Landed()
    table = qualified(dataset, schema.table)
    replaced_days = touched_days(session, table, todo)
    before = day_figures(session, table, replaced_days, rules)
    landed = warehouse.land_deliveries(session, LandingJob(export, tuple(todo), schema, dataset, run))
    for delivery in todo:
        record_delivery(session, dataset, schema, delivery, landed.rows_by_delivery[delivery.key], run)
    days = replaced_days | touched_days(session, table, todo)
    judge(session, dataset, table, todo, landed.rows_by_delivery, before, days, rules, run)
    mark_stale(session, dataset, run.provider, days)
    return landed


def summarise_day(
    warehouse: Warehouse,
    schema: TableSchema,
    dataset: str,
    run: RunContext,
    rules: DeliveryRules,
) -> LandResult:
    """The run's billing day as ``land_raw`` reports it, for a day whose deliveries are landed already (the
    recheck lands a window's deliveries first, then reloads the days that changed): nothing is read."""
    with warehouse.session(dataset) as session:
        rows, billed = _run_day(session, dataset, schema, run, rules)
        version = day_version(session, dataset, schema, run.billing_day)
        objects = day_objects(session, dataset, schema, run.billing_day)
    return LandResult(rows, billed, rows, objects, version)


def _run_day(
    session: Session, dataset: str, schema: TableSchema, run: RunContext, rules: DeliveryRules
) -> tuple[int, str]:
    """The run's day: raw rows, and billed cost (of the rows ``only_where`` selects: Azure's actual cost)."""
    figures = day_figures(session, qualified(dataset, schema.table), [run.billing_day], rules)
    rows, billed = figures.get(run.billing_day, (0, Decimal(0)))
    return rows, str(billed)


def ensure_tables(warehouse: Warehouse, session: Session, dataset: str, schema: TableSchema) -> None:
    """The raw table and the state tables a landing transaction writes (DDL stays outside transactions)."""
    warehouse.ensure_table(session, dataset, schema)
    for state in _state_schemas():
        warehouse.ensure_table(session, dataset, state)


def _state_schemas() -> list[TableSchema]:
    return [load_table_schema(state) for state in (DELIVERIES, LOAD_STATE, PERMITS)]
