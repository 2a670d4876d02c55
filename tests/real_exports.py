"""Exports shaped like the providers' real ones, at real size, built in the test run (never committed).

Each starts from a public sample of the provider's own export in ``../shared/reference/`` (attribution below) and
repeats its rows past 200 k data rows, well beyond the first 8 MB block from which pyarrow used to guess column
types, then appends rows whose values broke readers that guess or pass through floats: ids with leading zeros,
tags ``NA``/``null``/``007``/an ISO timestamp, a cost with 18 decimals and one above 10^6, padded text, and
sparse columns (commitment ids, tags) that are empty for the first rows and filled after. The expected values are
computed here from the text written, with the pipeline's stated rule for money: exact decimals up to the 10th
place, rounded half away from zero beyond it.

* Azure EA: microsoft/finops-toolkit ``EA_AmortizedCost_Small.csv`` (MIT).
* Azure MCA: project-koku/koku ``koku_camel_azure_version_2_MCA.csv`` (Apache-2.0), with the billing period columns
  filled as Azure's MCA exports carry them (the sample leaves them empty).
* OCI: finopsfoundation/focus_converters ``reports_cost-csv_0000000030000269.csv`` (MIT).
* AWS CUR 2.0 and GCP: no public sample exists (see ../shared/reference/README.md); built from the documented
  column sets, as the golden tests do.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from tests.helpers import write_azure_run

LARGE_ROWS = 210_000
TEN_DECIMALS = Decimal("1e-10")
ODD_COSTS = {"cost-18-decimals": "0.123456789012345678", "cost-above-a-million": "1234567.1234567891"}


def money(text: str) -> Decimal:
    """A cost as the warehouse holds it: the decimal of the text, rounded half away from zero at the 10th place."""
    return Decimal(text).quantize(TEN_DECIMALS, rounding=ROUND_HALF_UP)


@dataclass
class LargeExport:
    """A generated export file: its rows, cost per billing day (``money``-rounded per row), and the marker rows'
    values as written (``markers[name][header]``)."""

    path: Path
    rows: int = 0
    cost_by_day: dict[date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    markers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def total_cost(self) -> Decimal:
        return sum(self.cost_by_day.values(), Decimal(0))


def _sample(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


# --------------------------------------------------------------------------------------------------- Azure


AZURE_ODD_ROWS: dict[str, dict[str, str]] = {
    "tag-na": {"Tags": '"team": "NA"', "ResourceName": "NA"},
    "tag-null": {"Tags": '"team": "null"', "ServiceInfo1": "null"},
    "tag-007": {"Tags": '"team": "007"', "SubscriptionName": "007", "InvoiceSectionId": "0042"},
    "tag-timestamp": {"Tags": '"created": "2023-09-22T10:00:00Z"', "AdditionalInfo": '{"ImageType": "N/A"}'},
    "padded-text": {"ResourceName": "  padded  ", "CostCenter": "N/A"},
    "cost-18-decimals": {"Cost": ODD_COSTS["cost-18-decimals"]},
    "cost-above-a-million": {"Cost": ODD_COSTS["cost-above-a-million"], "Quantity": "1000000.5"},
}


def azure_ea_amortized(path: Path, reference: Path, rows: int = LARGE_ROWS) -> LargeExport:
    """An EA amortized cost-details CSV of September 2023: the sample's on-demand rows repeated (one resource per
    row, dates across the month), the odd rows, then its reservation and savings-plan rows: the commitment columns,
    and ``ServiceInfo2`` (``Canonical``, the value that used to break the reader), are empty until then."""
    header, sample = _sample(reference / "azure" / "EA_AmortizedCost_Small.csv")
    on_demand = [r for r in sample if r["PricingModel"] == "OnDemand"]
    assert not any(r["ServiceInfo2"] for r in on_demand)
    commitments = [r for r in sample if r["PricingModel"] != "OnDemand"]
    export = LargeExport(path)

    def cost_of(row: dict[str, str]) -> None:
        month, day, year = row["Date"].split("/")
        export.cost_by_day[date(int(year), int(month), int(day))] += money(row["Cost"])
        export.rows += 1

    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")  # Azure writes a byte-order mark
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows):
            row = on_demand[i % len(on_demand)] | {"Date": f"09/{1 + i % 30:02d}/2023"}
            row["ResourceId"] = f"{row['ResourceId']}/instance-{i}"
            writer.writerow([row[h] for h in header])
            cost_of(row)
        for name, changes in AZURE_ODD_ROWS.items():
            row = on_demand[0] | {"Date": "09/22/2023", "ResourceId": f"/marker/{name}"} | changes
            writer.writerow([row[h] for h in header])
            export.markers[name] = row
            cost_of(row)
        for row in commitments:
            writer.writerow([row[h] for h in header])
            cost_of(row)
    return export


def azure_mca_amortized(path: Path, reference: Path, rows: int = LARGE_ROWS) -> LargeExport:
    """An MCA cost-details CSV (camelCase headers) of August 2023 from koku's sample rows, repeated; reservation
    columns are empty until the last rows, which name a reservation."""
    header, sample = _sample(reference / "azure" / "koku_camel_azure_version_2_MCA.csv")
    period = {"billingPeriodStartDate": "08/01/2023", "billingPeriodEndDate": "08/31/2023"}
    export = LargeExport(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows + 100):
            row = sample[i % len(sample)] | period | {"date": f"08/{1 + i % 31:02d}/2023"}
            row["InstanceName"] = f"{row['InstanceName']}-{i}"
            if i >= rows:  # the commitment columns fill only after 200 k rows
                row |= {"reservationId": f"0000-reservation-{i % 7}", "reservationName": f"ri-{i % 7:03d}"}
            writer.writerow([row[h] for h in header])
            export.cost_by_day[date(2023, 8, 1 + i % 31)] += money(row["costInBillingCurrency"])
            export.rows += 1
        row = sample[0] | period | {"date": "08/15/2023", "InstanceName": "/marker/mca-odd"}
        row |= {"costInBillingCurrency": ODD_COSTS["cost-18-decimals"], "tags": '{"team": "007", "env": "NA"}'}
        row |= {"invoiceSectionId": "0042", "subscriptionName": "null"}
        writer.writerow([row[h] for h in header])
        export.markers["mca-odd"] = row
        export.cost_by_day[date(2023, 8, 15)] += money(row["costInBillingCurrency"])
        export.rows += 1
    return export


def place_azure_export(landing: Path, export: LargeExport, companion: bytes, folder: str) -> None:
    """The large file as the amortized run (hard-linked, not copied) and ``companion`` as the actual run."""
    base = landing / "costexports" / "demo-amortized" / folder / "run-1"
    base.mkdir(parents=True, exist_ok=True)
    blob = base / "part_0_0001.csv"
    blob.hardlink_to(export.path)
    key = blob.relative_to(landing).as_posix()
    manifest = {"dataRowCount": export.rows, "runInfo": {"runId": "run-1"}}
    manifest["blobs"] = [{"blobName": key, "dataRowCount": export.rows}]
    (base / "manifest.json").write_text(json.dumps(manifest))
    write_azure_run(landing, "costexports", "demo-actual", folder, "run-1", companion)


# ----------------------------------------------------------------------------------------------------- OCI


OCI_TAG = "tags/Valtest.Cat"
OCI_ODD_ROWS: dict[str, dict[str, str]] = {
    "resource-na": {"product/resourceId": "NA", "product/compartmentName": "null", OCI_TAG: "007"},
    "tag-timestamp": {OCI_TAG: "2023-11-13T10:00:00Z", "tags/free-form.team": "N/A"},
    "cost-18-decimals": {"cost/myCost": ODD_COSTS["cost-18-decimals"]},
    "cost-above-a-million": {"cost/myCost": ODD_COSTS["cost-above-a-million"]},
}


def oci_cost_report(path: Path, reference: Path, rows: int = 60_000) -> LargeExport:
    """A gzipped cost report of 2023-11-12..14 from the focus_converters sample: the numeric tag column
    ``tags/Valtest.Cat`` holds numbers for the first 50 k rows, then ``team-a``; ``tags/free-form.team`` and
    ``tags/free-form.Team`` are two columns (keys differ in case only); subscription ids keep a leading zero."""
    header, sample = _sample(reference / "oci" / "focus_converters_reports_cost-csv_0000000030000269.csv")
    header = [*header, "tags/free-form.team", "tags/free-form.Team"]
    export = LargeExport(path)
    start = datetime(2023, 11, 12, tzinfo=UTC)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)

    def write(row: dict[str, str]) -> None:
        writer.writerow([row.get(h, "") for h in header])
        export.cost_by_day[date.fromisoformat(row["lineItem/intervalUsageStart"][:10])] += money(row["cost/myCost"])
        export.rows += 1

    for i in range(rows):
        hour = start + timedelta(hours=i % 72)
        row = sample[i % len(sample)] | {
            "lineItem/referenceNo": f"ref-{i:07d}",
            "lineItem/intervalUsageStart": f"{hour:%Y-%m-%dT%H:%M}Z",
            "lineItem/intervalUsageEnd": f"{hour + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}Z",
            "cost/subscriptionId": "015649487",
            OCI_TAG: str(1000 + i % 97) if i < 50_000 else "team-a",
            "tags/free-form.team": "alpha" if i % 2 == 0 else "",
            "tags/free-form.Team": "Beta" if i % 3 == 0 else "",
        }
        write(row)
    for name, changes in OCI_ODD_ROWS.items():
        row = sample[0] | {"lineItem/referenceNo": f"marker-{name}", "cost/subscriptionId": "015649487"} | changes
        row |= {"lineItem/intervalUsageStart": "2023-11-13T10:00Z", "lineItem/intervalUsageEnd": "2023-11-13T11:00Z"}
        write(row)
        export.markers[name] = row
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=1))
    return export


# ----------------------------------------------------------------------------------------------------- AWS


AWS_ACCOUNT = "012345678901"  # AWS account ids are 12 digits: leading zeros are real


def aws_cur2_rows(rows: int = LARGE_ROWS) -> tuple[list[dict[str, str]], LargeExport]:
    """CUR 2.0 rows of 2026-11-01..03 as text (AWS's CSV.gz delivery): payer and usage accounts with a leading zero,
    savings-plan columns empty until the last rows, tags as CUR 2.0's JSON map."""
    export = LargeExport(Path("cur2.csv.gz"))
    out = []
    for i in range(rows + 50):
        day = date(2026, 11, 1 + i % 3)
        hour = datetime(day.year, day.month, day.day, i % 24, tzinfo=UTC)
        start, end = f"{hour:%Y-%m-%dT%H:%M:%S}Z", f"{hour + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}Z"
        cost = f"{(i % 997) * 0.0123:.4f}{i % 10}"
        row = {
            "identity_line_item_id": f"line-{i:08d}",
            "bill_payer_account_id": AWS_ACCOUNT,
            "bill_billing_period_start_date": "2026-11-01T00:00:00Z",
            "bill_billing_period_end_date": "2026-12-01T00:00:00Z",
            "line_item_usage_account_id": "000123456789",
            "line_item_currency_code": "USD",
            "line_item_line_item_type": "Usage",
            "line_item_usage_start_date": start,
            "line_item_usage_end_date": end,
            "line_item_product_code": "AmazonEC2",
            "line_item_usage_type": "BoxUsage:m5.large",
            "line_item_usage_amount": "1.0",
            "line_item_unblended_cost": cost,
            "line_item_unblended_rate": cost,
            "bill_billing_entity": "AWS",
            "bill_invoicing_entity": "Amazon Web Services, Inc.",
            "line_item_legal_entity": "Amazon Web Services, Inc.",
            "product_region_code": "eu-west-1",
            "pricing_unit": "Hrs",
            "line_item_resource_id": f"i-{i:017x}",
            "resource_tags": json.dumps({"user:team": ["007", "NA", "null", "2026-11-01T10:00:00Z"][i % 4]}),
            "savings_plan_savings_plan_a_r_n": "" if i < rows else f"arn:aws:savingsplans::{AWS_ACCOUNT}:sp/{i % 5}",
        }
        out.append(row)
        export.cost_by_day[day] += money(cost)
        export.rows += 1
    return out, export


# ----------------------------------------------------------------------------------------------------- GCP


GCP_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def gcp_bigquery_extract(folder: Path, day: date, rows: int = LARGE_ROWS) -> LargeExport:
    """One usage day of the detailed export as BigQuery extracts it to newline-delimited JSON (gzipped): nested
    records, null fields omitted, money as JSON numbers; credits appear only after the first 200 k rows, labels
    hold ``007``, ``NA`` and an ISO timestamp, and project numbers keep a leading zero."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "export-000000000000.json.gz"
    export = LargeExport(path)
    lines = []
    for i in range(rows + 50):
        start = datetime(day.year, day.month, day.day, i % 24, tzinfo=UTC)
        cost = round((i % 991) * 0.00731, 6)
        row: dict[str, object] = {
            "billing_account_id": GCP_ACCOUNT,
            "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
            "sku": {"id": "D973-5D65-BAB2", "description": "N1 Predefined Instance Core"},
            "usage_start_time": f"{start:%Y-%m-%d %H:%M:%S} UTC",
            "usage_end_time": f"{start + timedelta(hours=1):%Y-%m-%d %H:%M:%S} UTC",
            "project": {"id": "demo-project", "number": "0123456789", "name": "demo"},
            "labels": [{"key": "team", "value": ["007", "NA", "2026-11-02T10:00:00Z"][i % 3]}],
            "export_time": f"{day + timedelta(days=1)} 08:00:00.000 UTC",
            "cost": cost,
            "currency": "USD",
            "usage": {"amount": 3600.0, "unit": "seconds"},
            "invoice": {"month": f"{day:%Y%m}"},
            "cost_type": "regular",
        }
        if i >= rows:
            row["credits"] = [{"name": "Sustained use", "amount": -0.01, "type": "SUSTAINED_USAGE_DISCOUNT"}]
        lines.append(json.dumps(row))
        export.cost_by_day[day] += money(repr(cost))
        export.rows += 1
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
    return export
