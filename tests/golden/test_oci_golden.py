"""OCI cost reports -> FOCUS 1.3: the focus_converters sample (MIT), koku's report (Apache-2.0), demo rows."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import load_org_by_slug
from cloudcost.demo.oci_cost_reports import expected_billed_cost, write_reports
from cloudcost.paths import landing_dir
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw
from cloudcost.sources.registry import open_export
from tests.helpers import focus_rows

pytestmark = pytest.mark.usefixtures("demo_credentials")
REPORTS = "reports/cost-csv"


def _run(day: date) -> dict:
    run = make_run_context("demo", "oci", day, "t", "cloud_oci_cost_billing", day, datetime(2026, 11, 23, tzinfo=UTC))
    landed = run_land_raw(run)
    run_convert_to_focus(run)
    run_checks(run)
    return landed


def _place(source: Path, name: str) -> None:
    folder = landing_dir("demo", "oci") / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv.gz").write_bytes(gzip.compress(source.read_bytes()))


def test_focus_converters_report(data_dir: Path, shared_reference: Path) -> None:
    source_file = shared_reference / "oci" / "focus_converters_reports_cost-csv_0000000030000269.csv"
    _place(source_file, "reports_cost-csv_0000000030000269")
    rows = list(csv.DictReader(source_file.open(newline="")))
    status = open_export(load_org_by_slug("demo"), "oci").status(date(2023, 11, 13))
    assert not status.complete, "its usage ends at 11:00 on the day: the day is not over yet"
    assert {r["lineItem/intervalUsageStart"][:10] for r in rows} == {"2023-11-13"}
    assert "written since 2023-11-14T00:00:00+00:00 ends 2023-11-13T12:00:00+00:00" in status.reason


def test_koku_report_with_tags_and_missing_currency(data_dir: Path, shared_reference: Path) -> None:
    source_file = shared_reference / "oci" / "koku_reports_cost-csv_0001000000603747.csv"
    _place(source_file, "reports_cost-csv_0001000000603747")
    rows = list(csv.DictReader(source_file.open(newline="")))
    # OCI writes no manifest: the day is complete once a later report shows usage past its end
    later = rows[0] | {
        "lineItem/referenceNo": "next-day",
        "lineItem/intervalUsageStart": "2022-04-22T00:00Z",
        "lineItem/intervalUsageEnd": "2022-04-22T01:00Z",
    }
    next_report = data_dir / "next.csv"
    with next_report.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerow(later)
    assert not open_export(load_org_by_slug("demo"), "oci").status(date(2022, 4, 21)).complete
    _place(next_report, "reports_cost-csv_0001000000603748")
    landed = _run(date(2022, 4, 21))
    assert landed["rows"] == len(rows)
    focus = focus_rows("oci")
    assert sum(r["BilledCost"] for r in focus) == sum(Decimal(r["cost/myCost"]) for r in rows)
    assert {r["BillingCurrency"] for r in focus} == {"GBP"}, "empty currency of zero-cost rows is filled per tenancy"
    tagged = {r["x_source_line_item_id"]: json.loads(r["Tags"]) for r in focus if r["Tags"]}
    assert tagged["my-resource-no1"]["Oracle-Tags.CreatedBy"] == "default/testing@redhat.com"
    by_service = {r["x_ServiceCode"]: r for r in focus}
    assert (by_service["OBJECTSTORE"]["ServiceCategory"], by_service["OBJECTSTORE"]["ServiceSubcategory"]) == (
        "Storage",
        "Object Storage",
    )
    assert by_service["API_GATEWAY"]["BillingPeriodStart"] == datetime(2022, 4, 1, tzinfo=UTC)
    assert by_service["API_GATEWAY"]["BillingPeriodEnd"] == datetime(2022, 5, 1, tzinfo=UTC)


def test_demo_reports_correction_arrives_later(data_dir: Path) -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    write_reports(landing_dir("demo", "oci"), [days[0]])
    first = _run(days[0])
    write_reports(landing_dir("demo", "oci"), days)  # day 2's first report carries a correction for day 1
    again = _run(days[0])
    assert Decimal(again["billed_cost"]) == Decimal(first["billed_cost"]) - Decimal("0.05")
    assert (
        Decimal(again["billed_cost"])
        == expected_billed_cost(days)[("ocid1.tenancy.oc1..aaaaaaaademotenancy0001", days[0])]
    )
    corrections = [r for r in focus_rows("oci") if r["ChargeClass"] == "Correction"]
    assert len(corrections) == 1 and corrections[0]["BilledCost"] == Decimal("-0.05")
    assert again["source_version"] != first["source_version"], "the reports holding the day's rows are its version"
    shutil.rmtree(landing_dir("demo", "oci"))
