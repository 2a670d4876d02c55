"""A warehouse made by the previous main (before deliveries were landed once) keeps working, without losing or
doubling a row.

The fixture (``tests/fixtures/warehouse_before_delivery_landing/``, how it was made: ``made_by.py`` there) holds
AWS, Azure, GCP and OCI days 2026-11-01..02 loaded day by day by that code. The raw tables' shape did not
change; what is new is ``landed_deliveries`` (created on first use) and the version of an OCI day (the reports
holding its rows, no longer every report of the tenancy). So the first run of the new code lands each delivery
once, the recheck re-converts the OCI days once (their version string changed) and no other day, and every
figure of the old days stays as it was.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.paths import landing_dir, warehouse_file
from tests.helpers import load_day, recheck_and_reload, stage_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "warehouse_before_delivery_landing"
DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
PROVIDERS = {
    "aws": ("cloud_aws_billing_raw_daily", "line_item_unblended_cost", "identity_line_item_id"),
    "azure": ("cloud_azure_billing_raw_daily", "cost_in_billing_currency", ""),
    "gcp": ("cloud_gcp_billing_raw_daily", "cost", ""),
    "oci": ("cloud_oci_billing_raw_daily", "my_cost", "reference_no"),
}


def _import_fixture(target: Path) -> None:
    connection = duckdb.connect(str(target))
    try:
        connection.execute((FIXTURE / "schema.sql").read_text())
        connection.execute((FIXTURE / "load.sql").read_text().replace("{fixture}", str(FIXTURE)))
    finally:
        connection.close()


def _figures() -> dict[tuple[str, date], tuple]:
    """Per provider and old day: raw rows and cost, FOCUS rows, BilledCost and EffectiveCost, load state."""
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    figures = {}
    try:
        for provider, (table, cost, _) in PROVIDERS.items():
            for day in DAYS[:2]:
                raw = connection.execute(
                    f"select count(*), sum({cost}) from demo_prod.{table} where ingestion_date = ?", [day]
                ).fetchone()
                focus = connection.execute(
                    "select count(*), sum(BilledCost), sum(EffectiveCost) from demo_prod.cost_data_standard_1_3 "
                    "where x_cloud_provider = ? and x_ingestion_date = ?",
                    [provider, day],
                ).fetchone()
                state = connection.execute(
                    "select status, raw_rows, focus_rows, billed_cost from demo_prod.load_state "
                    "where provider = ? and billing_day = ?",
                    [provider, day],
                ).fetchall()
                figures[(provider, day)] = (raw, focus, state)
    finally:
        connection.close()
    return figures


def _load_and_recheck(run_id: str) -> dict[str, list[dict]]:
    reloaded = {}
    for provider in PROVIDERS:
        load_day(provider, DAYS[2], run_id)
        reloaded[provider] = recheck_and_reload(stage_run(provider, DAYS[2], run_id))
    return reloaded


@pytest.mark.usefixtures("demo_credentials")
def test_a_warehouse_of_the_previous_main_keeps_every_row(data_dir: Path) -> None:
    aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS)
    azure_cost_details.write_exports(landing_dir("demo", "azure"), DAYS)
    gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS)
    oci_cost_reports.write_reports(landing_dir("demo", "oci"), DAYS)
    _import_fixture(data_dir / "warehouse.duckdb")  # before per-org files, one file held every org: it is kept
    before = _figures()
    assert all(state and state[0][0] == "succeeded" for _, _, state in before.values())

    reloaded = _load_and_recheck("new__first")
    assert {p: [r["billing_day"] for r in rows] for p, rows in reloaded.items()} == {
        # the old warehouse has no ledger: the recheck lands the window's deliveries once more, whole, which
        # replaces the rows of the days they cover and marks those stale; it converts them again, once
        "aws": [str(DAYS[0]), str(DAYS[1])],
        "azure": [str(DAYS[0]), str(DAYS[1])],
        "gcp": [str(DAYS[0]), str(DAYS[1])],
        "oci": [str(DAYS[0]), str(DAYS[1])],
    }
    assert _figures() == before, "no old day lost or doubled a row, or changed a figure"

    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        for provider in ("aws", "oci"):  # the exports with a line item id (Azure and GCP rows have none)
            table, _, line = PROVIDERS[provider]
            duplicates = connection.execute(
                f"select count(*) from (select {line}, ingestion_date from demo_prod.{table} "
                "group by all having count(*) > 1)"
            ).fetchone()
            assert duplicates == (0,), provider
        states = connection.execute(
            "select provider, count(*) from demo_prod.load_state where status = 'succeeded' group by 1 order by 1"
        ).fetchall()
    finally:
        connection.close()
    assert states == [(p, 3) for p in sorted(PROVIDERS)]

    again = _load_and_recheck("new__again")
    assert all(rows == [] for rows in again.values()), "a second run finds nothing to reload"
    assert _figures() == before
