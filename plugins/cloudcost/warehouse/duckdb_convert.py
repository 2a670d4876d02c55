"""Converting on DuckDB: the provider's part of ``sp_cloud_1_convert_to_focus`` for one day, rendered and run.

The SQL lives in ``procedures/``; this module only fills in validated table names, binds the billing
day, and replaces the (provider, day) slice of the org's FOCUS 1.3 table, its FOCUS 1.4 slice and the 1.4 billing
periods it touches, in one transaction: either all of them change or none does. The convert that creates the 1.4
tables also fills them for every day 1.3 already held (``focus_1_4_catch_up``), in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from cloudcost.config import Provider
from cloudcost.core.results import ConvertResult
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.lookups import lookup_files, read_lookup
from cloudcost.paths import procedures_dir
from cloudcost.schemas import billing_period_1_4_schema, focus_1_4_schema, focus_schema, quote_column
from cloudcost.warehouse import focus_1_4, focus_1_4_catch_up
from cloudcost.warehouse.base import SliceKey

if TYPE_CHECKING:
    from cloudcost.warehouse.duckdb import DuckDBSession, DuckDBWarehouse

TOKEN = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class ProcedureError(ValueError):
    """A convert procedure is malformed: unknown placeholder, or output columns that are not FOCUS's."""


def render_procedure(relative_path: str, raw_table: str, lookup_tables: dict[str, str]) -> str:
    """Fill ``{{raw_table}}`` and ``{{<lookup>}}`` placeholders with qualified, validated names."""
    path = procedures_dir() / relative_path
    sql = path.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "raw_table":
            return raw_table
        if name in lookup_tables:
            return lookup_tables[name]
        raise ProcedureError(f"{path}: unknown placeholder {{{{{name}}}}}")

    return TOKEN.sub(replace, sql)


def procedure_lookups(relative_path: str) -> list[str]:
    names = set(TOKEN.findall((procedures_dir() / relative_path).read_text(encoding="utf-8"))) - {"raw_table"}
    known = lookup_files()
    return sorted(n for n in names if n in known)


def convert_to_focus(
    warehouse: DuckDBWarehouse, dataset: str, raw_table: str, procedure: str, run: RunContext
) -> ConvertResult:
    focus = focus_schema()
    target = qualified(dataset, focus.table)
    names = procedure_lookups(procedure)
    files = lookup_files()
    for name in names:
        read_lookup(files[name])  # read now, not in the turn: register_lookups finds them read
    with warehouse.session(dataset) as session:
        warehouse.ensure_table(session, dataset, focus)
        first_1_4 = not warehouse.table_exists(session, dataset, focus_1_4_schema().table)
        lookups = warehouse.register_lookups(session, names)
        sql = render_procedure(procedure, qualified(dataset, raw_table), lookups)
        params = {"billing_day": run.billing_day}
        produced = [d[0] for d in session.execute(f"select * from ({sql}) limit 0", params).description]
        if sorted(produced) != sorted(focus.column_names):
            missing = sorted(set(focus.column_names) - set(produced))
            extra = sorted(set(produced) - set(focus.column_names))
            raise ProcedureError(
                f"procedures/{procedure}: output columns differ from FOCUS: missing {missing}, extra {extra}"
            )
        with warehouse.transaction(session):
            # created in the transaction: a convert that fails leaves no empty 1.4 table, so the next one catches up
            warehouse.ensure_table(session, dataset, focus_1_4_schema())
            warehouse.ensure_table(session, dataset, billing_period_1_4_schema())
            replaced = warehouse.delete_slice(
                session,
                SliceKey.of(dataset, focus.table, x_cloud_provider=run.provider, x_ingestion_date=run.billing_day),
            )
            columns = ", ".join(quote_column(c) for c in produced)
            session.execute(f"insert into {target} ({columns}) select {columns} from ({sql})", params)
            write_focus_1_4(warehouse, session, dataset, run)
            if first_1_4:
                fill_missing_focus_1_4(warehouse, session, dataset, run)
            rows, billed, effective = session.fetchall(
                f"select count(*), coalesce(sum(BilledCost), 0), coalesce(sum(EffectiveCost), 0) from {target} "
                "where x_cloud_provider = ? and x_ingestion_date = ?",
                [run.provider, run.billing_day],
            )[0]
    return ConvertResult(int(rows), str(Decimal(billed)), str(Decimal(effective)), replaced)


def fill_missing_focus_1_4(warehouse: DuckDBWarehouse, session: DuckDBSession, dataset: str, run: RunContext) -> None:
    """The 1.4 table was just created: write the 1.4 slice (and periods) of every day 1.3 already held."""

    def write_slice(provider: Provider, day: date) -> None:
        write_focus_1_4(warehouse, session, dataset, replace(run, provider=provider, billing_day=day))

    focus_1_4_catch_up.fill_missing_slices(session, lambda table: qualified(dataset, table), write_slice)


def write_focus_1_4(warehouse: DuckDBWarehouse, session: DuckDBSession, dataset: str, run: RunContext) -> None:
    """Replace the run's 1.4 slice from the 1.3 slice just written, then rebuild the 1.4 billing periods it holds or
    held (temporary tables keep the replaced slice's period keys, and the rebuilt rows while the old ones are
    deleted); only the replaced keys are checked for orphans. In the caller's transaction."""
    cau, periods = focus_1_4_schema(), billing_period_1_4_schema()
    params = {"provider": run.provider, "billing_day": run.billing_day}

    def qualify(table: str) -> str:
        return qualified(dataset, table)

    cau_sql = focus_1_4.render(focus_1_4.COST_AND_USAGE, qualify)
    produced = [d[0] for d in session.execute(f"select * from ({cau_sql}) limit 0", params).description]
    focus_1_4.check_columns(focus_1_4.COST_AND_USAGE, produced, cau.column_names)
    replaced_sql = focus_1_4.render(focus_1_4.REPLACED_PERIODS, qualify)
    replaced = focus_1_4.REPLACED_PERIODS_TABLE
    session.execute(f"create or replace temporary table {replaced} as {replaced_sql}", params)
    warehouse.delete_slice(
        session, SliceKey.of(dataset, cau.table, x_cloud_provider=run.provider, x_ingestion_date=run.billing_day)
    )
    columns = ", ".join(quote_column(c) for c in cau.column_names)
    session.execute(f"insert into {qualify(cau.table)} ({columns}) select {columns} from ({cau_sql})", params)

    period_sql = focus_1_4.render(focus_1_4.BILLING_PERIOD, qualify)
    rebuilt = "cloudcost_billing_period_1_4_rebuilt"
    session.execute(f"create or replace temporary table {rebuilt} as {period_sql}", params)
    produced = [d[0] for d in session.execute(f"select * from {rebuilt} limit 0").description]
    focus_1_4.check_columns(focus_1_4.BILLING_PERIOD, produced, periods.column_names)
    target = qualify(periods.table)
    session.execute(
        f"delete from {target} as bp using {rebuilt} as r where bp.x_cloud_provider = r.x_cloud_provider "
        "and bp.x_BillingAccountId = r.x_BillingAccountId and bp.BillingPeriodStart = r.BillingPeriodStart"
    )
    columns = ", ".join(quote_column(c) for c in periods.column_names)
    session.execute(f"insert into {target} ({columns}) select {columns} from {rebuilt}")
    session.execute(f"drop table {rebuilt}")
    session.execute(focus_1_4.render(focus_1_4.BILLING_PERIOD_ORPHANS, qualify), {"provider": run.provider})
    session.execute(f"drop table {replaced}")
