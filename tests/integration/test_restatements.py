"""Restatements and late data: the trailing-window re-check reloads exactly the slices whose source changed.

Each provider's way of restating (a new AWS execution id, a re-run Azure export with a new run id, GCP rows
whose export_time moved, a new OCI report with a correction) is written over an already loaded day; the
next day's run re-checks its window (``run_recheck``, the DAG's ``recheck_window`` task), which lands the changed
deliveries and returns the days to reload; the DAG's mapped ``restate`` group reloads each (``recheck_and_reload``
calls the same stages) and afterwards the FOCUS slice equals the restated export's totals to the cent, with no row
of the earlier version left.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.paths import landing_dir, warehouse_file
from cloudcost.pipeline.stages import (
    recheck_window,
    run_recheck,
)
from tests.helpers import load_day, recheck_and_reload, reload_restated, stage_run

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]


def _focus_billed(provider: str, day: date) -> Decimal:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        return connection.execute(
            "select sum(BilledCost) from demo_prod.cost_data_standard_1_3 where x_cloud_provider = ? "
            "and x_ingestion_date = ?",
            [provider, day],
        ).fetchone()[0]
    finally:
        connection.close()


def _raw_versions(table: str, day: date) -> set[str]:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        rows = connection.execute(
            f"select distinct x_source_version from demo_prod.{table} where ingestion_date = ?", [day]
        ).fetchall()
        return {v for (v,) in rows}
    finally:
        connection.close()


def _load_status(provider: str, day: date) -> str:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        return connection.execute(
            "select status from demo_prod.load_state where provider = ? and billing_day = ?", [provider, day]
        ).fetchone()[0]
    finally:
        connection.close()


def test_window_is_this_and_the_previous_month() -> None:
    window = recheck_window(date(2026, 11, 3), 1)
    assert window[0] == date(2026, 10, 1) and window[-1] == date(2026, 11, 2) and len(window) == 33
    assert recheck_window(date(2026, 11, 3), 0) == [date(2026, 11, 1), date(2026, 11, 2)]


def test_restated_aws_month_replaces_the_loaded_days(data_dir: Path, demo_credentials: list[str]) -> None:
    aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS)
    load_day("aws", DAYS[0])
    before = _raw_versions("cloud_aws_billing_raw_daily", DAYS[0])
    assert (
        stage_run("aws", DAYS[1]) and run_recheck(stage_run("aws", DAYS[1])) == []
    )  # nothing changed: nothing reloaded

    aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS, seed=8)  # AWS restates the month
    billed_before = _focus_billed("aws", DAYS[0])
    run = stage_run("aws", DAYS[1], "next-night")
    restated = run_recheck(run)
    assert [(r["org_slug"], r["billing_day"]) for r in restated] == [("demo", str(DAYS[0]))]
    assert restated[0]["from_version"] != restated[0]["to_version"]
    assert json.loads(json.dumps(restated)) == restated, "the days travel as XCom to the mapped reload"
    # the recheck only landed: the day is stale (the rollup gate refuses it) until the restate group reloads it
    assert _focus_billed("aws", DAYS[0]) == billed_before
    assert _load_status("aws", DAYS[0]) == "stale"
    reloaded = reload_restated(run, restated)
    assert [r["billing_day"] for r in reloaded] == [str(DAYS[0])]
    assert reloaded[0]["to_version"] == restated[0]["to_version"] and _load_status("aws", DAYS[0]) == "succeeded"
    after = _raw_versions("cloud_aws_billing_raw_daily", DAYS[0])
    assert len(after) == 1 and after != before  # no row of the earlier execution left
    assert _focus_billed("aws", DAYS[0]) == aws_cur2.expected_billed_cost(DAYS, seed=8)[("111111111111", DAYS[0])]


def test_gcp_rows_whose_export_time_moved_are_reloaded(data_dir: Path, demo_credentials: list[str]) -> None:
    gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS)
    load_day("gcp", DAYS[0])
    gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS[:1], seed=8)  # later export, other rows
    reloaded = recheck_and_reload(stage_run("gcp", DAYS[1]))
    assert [r["billing_day"] for r in reloaded] == [str(DAYS[0])]
    assert reloaded[0]["from_version"] != reloaded[0]["to_version"]
    expected = gcp_detailed.expected_billed_cost(DAYS[:1], seed=8)[(gcp_detailed.BILLING_ACCOUNT, DAYS[0])]
    assert _focus_billed("gcp", DAYS[0]) == expected


def test_rerun_azure_export_with_a_new_run_id_is_reloaded(data_dir: Path, demo_credentials: list[str]) -> None:
    root = landing_dir("demo", "azure")
    azure_cost_details.write_exports(root, DAYS, prefix="costexports")
    load_day("azure", DAYS[0])
    manifests = azure_cost_details.write_exports(root, [*DAYS, date(2026, 11, 3)], seed=8, prefix="costexports")
    for path in manifests:  # the re-run was submitted after the first run
        document = json.loads(path.read_text())
        document["runInfo"]["submittedTime"] = "2026-11-20T00:00:00.000000Z"
        path.write_text(json.dumps(document))
    reloaded = recheck_and_reload(stage_run("azure", DAYS[1]))
    assert [r["billing_day"] for r in reloaded] == [str(DAYS[0])]
    expected = azure_cost_details.expected_billed_cost(DAYS[:1], seed=8)
    assert _focus_billed("azure", DAYS[0]) == sum(expected.values())


def test_new_oci_correction_report_reloads_the_day_it_corrects(data_dir: Path, demo_credentials: list[str]) -> None:
    folder = landing_dir("demo", "oci") / "reports" / "cost-csv"
    oci_cost_reports.write_reports(landing_dir("demo", "oci"), DAYS)
    load_day("oci", DAYS[0])
    before = _focus_billed("oci", DAYS[0])
    # a later report carries a correction of a day-1 line item (OCI appends; it never rewrites a report)
    original = oci_cost_reports.rows_for_window(7, datetime(2026, 11, 1, 6, tzinfo=UTC))[0]
    correction = original | {
        "lineItem/referenceNo": original["lineItem/referenceNo"] + "-late",
        "cost/myCost": "-1.25",
        "lineItem/isCorrection": "true",
        "lineItem/backreferenceNo": original["lineItem/referenceNo"],
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=oci_cost_reports.HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerow(correction)
    (folder / "reports_cost-csv_9999999999999999.csv.gz").write_bytes(gzip.compress(buffer.getvalue().encode()))
    reloaded = recheck_and_reload(stage_run("oci", DAYS[1]))
    assert [r["billing_day"] for r in reloaded] == [str(DAYS[0])]
    assert _focus_billed("oci", DAYS[0]) == before - Decimal("1.25")


def test_recheck_leaves_days_never_loaded_to_backfill(data_dir: Path, demo_credentials: list[str]) -> None:
    aws_cur2.write_delivery(landing_dir("demo", "aws"), [*DAYS, DAYS[1] + timedelta(days=1)])
    load_day("aws", DAYS[1])  # day 1 was never loaded
    aws_cur2.write_delivery(landing_dir("demo", "aws"), [*DAYS, DAYS[1] + timedelta(days=1)], seed=8)
    reloaded = recheck_and_reload(stage_run("aws", DAYS[1] + timedelta(days=1)))
    assert [r["billing_day"] for r in reloaded] == [str(DAYS[1])]
    # the restated delivery landed whole (its raw rows of day 1 too), but day 1 is not converted or recorded
    assert len(_raw_versions("cloud_aws_billing_raw_daily", DAYS[0])) == 1
    assert _focus_billed("aws", DAYS[0]) is None
