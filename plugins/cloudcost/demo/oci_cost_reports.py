"""Generate realistic OCI cost reports for the demo: gzipped CSV every 6 hours, one column per tag.

As Oracle writes them under ``reports/cost-csv/`` (sequence-numbered object names, no manifest), with
compartments, tag namespaces (``Oracle-Tags``, a free-form ``team`` tag, inconsistently spelled), and a
correction row that arrives in a later report. Deterministic per (seed, day). ``scale`` and the
incomplete day: see ``cloudcost.demo.volume``.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cloudcost.demo.aws_cur2 import q
from cloudcost.demo.volume import check_incomplete_day, partial_end, relabel_rows

TENANCY = "ocid1.tenancy.oc1..aaaaaaaademotenancy0001"
COMPARTMENTS = [("ocid1.compartment.oc1..aaaademoprod", "prod"), ("ocid1.compartment.oc1..aaaademodata", "data")]
# (service, description, sku, unit, unit price, hourly quantity)
PRODUCTS = [
    ("COMPUTE", "Compute - Standard - E4 - OCPU", "B93113", "OCPU Hours", Decimal("0.025"), Decimal("4")),
    ("COMPUTE", "Compute - Standard - E4 - Memory", "B93114", "Gigabyte Hours", Decimal("0.0015"), Decimal("64")),
    ("BLOCK_STORAGE", "Block Volume - Storage", "B91961", "GB Months", Decimal("0.0000354"), Decimal("500")),
    ("OBJECTSTORE", "Object Storage - Storage", "B91628", "GB Months", Decimal("0.0000354"), Decimal("2000")),
    (
        "DATABASE",
        "Oracle Autonomous Transaction Processing - ECPU",
        "B95702",
        "ECPU Hours",
        Decimal("0.336"),
        Decimal("2"),
    ),
    (
        "NETWORK",
        "Networking - Load Balancer - Flexible",
        "B93030",
        "Load Balancer Hours",
        Decimal("0.0113"),
        Decimal("1"),
    ),
    ("GENERATIVE_AI", "Generative AI - Large Cohere", "B108077", "Transactions", Decimal("0.0218"), Decimal("30")),
]
TAG_COLUMNS = ["tags/Oracle-Tags.CreatedBy", "tags/Oracle-Tags.CreatedOn", "tags/free-form.team", "tags/free-form.Team"]
HEADER = [
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/compartmentId",
    "product/compartmentName",
    "product/region",
    "product/availabilityDomain",
    "product/resourceId",
    "usage/billedQuantity",
    "usage/billedQuantityOverage",
    "cost/subscriptionId",
    "cost/productSku",
    "product/Description",
    "cost/unitPrice",
    "cost/unitPriceOverage",
    "cost/myCost",
    "cost/myCostOverage",
    "cost/currencyCode",
    "cost/billingUnitReadable",
    "cost/skuUnitDescription",
    "cost/overageFlag",
    "lineItem/isCorrection",
    "lineItem/backreferenceNo",
    *TAG_COLUMNS,
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")  # OCI's own format, without seconds


def rows_for_window(seed: int, start: datetime) -> list[dict]:
    """Hourly rows of the 6-hour window starting at ``start``."""
    rng = random.Random(f"{seed}-oci-{start.isoformat()}")
    rows = []
    for index, (service, description, sku, unit, price, quantity) in enumerate(PRODUCTS * 2):
        compartment = COMPARTMENTS[index % 2]
        tag_rng = random.Random(f"{seed}-oci-tags-{index}")
        team_column = tag_rng.choice(["tags/free-form.team", "tags/free-form.Team"]) if tag_rng.random() < 0.7 else None
        team = tag_rng.choice(["payments", "search", "platform"])
        for hour in range(6):
            begin = start + timedelta(hours=hour)
            amount = q(quantity * Decimal(rng.randint(80, 120)) / 100)
            cost = q(amount * price)
            row = dict.fromkeys(HEADER, "")
            row |= {
                "lineItem/referenceNo": f"{seed}-{begin:%Y%m%d%H}-{index}",
                "lineItem/tenantId": TENANCY,
                "lineItem/intervalUsageStart": _stamp(begin),
                "lineItem/intervalUsageEnd": _stamp(begin + timedelta(hours=1)),
                "product/service": service,
                "product/compartmentId": compartment[0],
                "product/compartmentName": compartment[1],
                "product/region": "us-ashburn-1",
                "product/availabilityDomain": "Uocm:US-ASHBURN-AD-1",
                "product/resourceId": f"ocid1.{service.lower()}.oc1.iad.demo{index}",
                "usage/billedQuantity": str(amount),
                "cost/subscriptionId": "9876543",
                "cost/productSku": sku,
                "product/Description": description,
                "cost/unitPrice": str(price),
                "cost/myCost": str(cost),
                "cost/currencyCode": "USD",
                "cost/skuUnitDescription": unit,
                "lineItem/isCorrection": "false",
                "tags/Oracle-Tags.CreatedBy": f"default/{team}@demo.example",
            }
            if team_column:
                row[team_column] = team
            rows.append(row)
    return rows


ID_COLUMNS = ("lineItem/referenceNo", "lineItem/backreferenceNo", "product/resourceId")


def write_reports(
    root: Path,
    days: list[date],
    seed: int = 7,
    prefix: str = "reports/cost-csv",
    scale: int = 1,
    incomplete_day: date | None = None,
) -> list[Path]:
    """Four reports per day (6-hour windows); a correction for day 1 arrives in day 2's first report.
    The incomplete day has only the reports whose window ended before ``volume.PARTIAL_UNTIL``."""
    check_incomplete_day(days, incomplete_day)
    written = []
    folder = root / prefix
    folder.mkdir(parents=True, exist_ok=True)
    for day in sorted(days):
        windows = partial_end(day).hour // 6 if day == incomplete_day else 4
        for window in range(windows):
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=6 * window)
            rows = rows_for_window(seed, start)
            if day.day == 2 and window == 0:
                previous = rows_for_window(seed, start - timedelta(days=1))[0]
                rows.append(
                    previous
                    | {
                        "lineItem/referenceNo": previous["lineItem/referenceNo"] + "-c",
                        "cost/myCost": "-0.05",
                        "lineItem/isCorrection": "true",
                        "lineItem/backreferenceNo": previous["lineItem/referenceNo"],
                    }
                )
            sequence = int(start.timestamp()) // 3600
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
            writer.writeheader()
            for replica in range(scale):
                writer.writerows(relabel_rows(rows, replica, ID_COLUMNS))
            path = folder / f"reports_cost-csv_{sequence:016d}.csv.gz"
            path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
            written.append(path)
    return written


def expected_billed_cost(days: list[date], seed: int = 7, scale: int = 1) -> dict[tuple[str, date], Decimal]:
    """sum(myCost) per (tenancy, usage day) over every report written for ``days``."""
    totals: dict[tuple[str, date], Decimal] = {}
    for day in days:
        for window in range(4):
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=6 * window)
            for row in rows_for_window(seed, start):
                key = (TENANCY, day)
                totals[key] = totals.get(key, Decimal(0)) + Decimal(row["cost/myCost"]) * scale
        if day.day == 2 and date(day.year, day.month, 1) in days:
            key = (TENANCY, date(day.year, day.month, 1))
            totals[key] = totals.get(key, Decimal(0)) - Decimal("0.05") * scale
    return totals
