"""What the FOCUS 1.4 Billing Period statements of one daily convert cost on DuckDB at a real estate's size.

``python bench/billing_periods.py [--months 12] [--rows-per-day 330000] [--db /tmp/periods.duckdb]`` builds (once,
kept in ``--db``) a 1.4 table of one provider holding only the columns those statements read, a day's rows in
landing order, 20 billing accounts; then times, best of 3, each inside a transaction that is rolled back: keeping
the replaced slice's period keys, the rebuild of the periods one day touches (``billing_period.sql``), and the
orphan DELETE (``billing_period_orphans.sql``) beside the earlier NOT EXISTS over every period of the provider.
Printed with the rows (and row groups) each scan of the 1.4 table read.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import duckdb

from cloudcost.warehouse import focus_1_4

FOCUS_1_4 = '"demo_prod"."cost_data_standard_1_4"'
PERIODS = '"demo_prod"."focus_billing_period_1_4"'
EVERY_PERIOD_ORPHANS = f"""delete from {PERIODS} as bp where bp.x_cloud_provider = $provider and not exists (
    select 1 from {FOCUS_1_4} as c where c.x_cloud_provider = bp.x_cloud_provider
    and c.BillingAccountId = bp.x_BillingAccountId and c.BillingCurrency = bp.x_BillingCurrency
    and c.BillingPeriodStart = bp.BillingPeriodStart and c.InvoiceIssuerName = bp.InvoiceIssuerName)"""


def _build(connection: duckdb.DuckDBPyConnection, months: int, rows_per_day: int) -> None:
    """Rows of past months carry an InvoiceId (closed periods), the current month's none; landed the next day."""
    connection.execute("create schema demo_prod")
    connection.execute(
        f"""create table {FOCUS_1_4} as
        with days as (
            select unnest(range(date '2026-12-01' - to_months($months), date '2026-12-01', interval 1 day))::date as d
        )
        select 'aws' as x_cloud_provider, d as x_ingestion_date, 'acct-' || (i % 20) as BillingAccountId,
            'USD' as BillingCurrency, date_trunc('month', d)::timestamptz as BillingPeriodStart,
            (date_trunc('month', d) + interval 1 month)::timestamptz as BillingPeriodEnd,
            'Amazon Web Services' as InvoiceIssuerName,
            case when d < date '2026-11-01' then 'INV-' || strftime(d, '%Y%m') || '-' || (i % 20) end as InvoiceId,
            (d + interval 1 day + (i % 7) * interval 1 hour)::timestamptz as x_ingested_at
        from days, range($rows_per_day) as r(i)
        order by d""",
        {"months": months, "rows_per_day": rows_per_day},
    )
    connection.execute(
        f"""create table {PERIODS} as
        select min(x_ingested_at) as BillingPeriodCreated, max(BillingPeriodEnd) as BillingPeriodEnd,
            max(x_ingested_at) as BillingPeriodLastUpdated, BillingPeriodStart, 'Open' as BillingPeriodStatus,
            InvoiceIssuerName, x_cloud_provider, BillingAccountId as x_BillingAccountId,
            BillingCurrency as x_BillingCurrency
        from {FOCUS_1_4} group by all"""
    )


def _operators(nodes: list[dict]) -> list[dict]:
    """Every operator of a JSON query profile, depth first."""
    return [found for node in nodes for found in (node, *_operators(node.get("children", [])))]


def _timed(
    connection: duckdb.DuckDBPyConnection, label: str, setup: list[tuple[str, dict]], sql: str, params: dict
) -> None:
    """Best of 3 of ``sql`` after ``setup``, each in a rolled-back transaction, after one EXPLAIN ANALYZE run that
    says how much of the 1.4 table it read."""

    def run(statement: str) -> list[tuple]:
        connection.execute("begin")
        for before, before_params in setup:
            connection.execute(before, before_params)
        started = time.perf_counter()
        result = connection.execute(statement, params).fetchall()
        timings.append(time.perf_counter() - started)
        connection.execute("rollback")
        return result

    timings: list[float] = []
    plan = run(f"explain (analyze, format json) {sql}")[0][1]
    timings.clear()
    for _ in range(3):
        run(sql)
    scans = [
        f"{node['rows_scanned']:,} rows ({node['row_groups_scanned']}/{node['total_row_groups_to_scan']} row groups)"
        for node in _operators(json.loads(plan)["operator"])
        if node["extra_info"].get("Table", "").endswith(".cost_data_standard_1_4")
    ]
    print(f"{label:<56} {min(timings):6.3f} s   1.4 table read: {', '.join(scans) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rows-per-day", type=int, default=330_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/periods.duckdb"))
    args = parser.parse_args()
    connection = duckdb.connect(str(args.db))
    connection.execute("set threads = 2")
    if not connection.execute(
        "select count(*) from duckdb_tables() where table_name = 'focus_billing_period_1_4'"
    ).fetchone()[0]:
        _build(connection, args.months, args.rows_per_day)
    rows, months = connection.execute(
        f"select count(*), count(distinct BillingPeriodStart) from {FOCUS_1_4}"
    ).fetchone()
    print(f"{rows:,} 1.4 rows in {months} monthly periods; one convert of 2026-11-15:")

    def render(path: str) -> str:
        return focus_1_4.render(path, lambda table: f'"demo_prod"."{table}"')

    day = {"provider": "aws", "billing_day": date(2026, 11, 15)}
    provider = {"provider": "aws"}
    keep = (
        f"create or replace temporary table {focus_1_4.REPLACED_PERIODS_TABLE} as {render(focus_1_4.REPLACED_PERIODS)}"
    )
    kept = [(keep, day)]
    _timed(connection, "keep the replaced slice's period keys", [], keep, day)
    _timed(
        connection, "rebuild the periods it touches (billing_period.sql)", kept, render(focus_1_4.BILLING_PERIOD), day
    )
    orphans = render(focus_1_4.BILLING_PERIOD_ORPHANS)
    _timed(connection, "orphans, kept keys only (billing_period_orphans.sql)", kept, orphans, provider)
    _timed(connection, "orphans, every period of the provider (before)", [], EVERY_PERIOD_ORPHANS, provider)


if __name__ == "__main__":
    main()
