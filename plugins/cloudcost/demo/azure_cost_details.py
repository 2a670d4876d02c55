"""Generate a realistic pair of Azure cost-details exports (amortized + actual) for the demo.

EA column names and habits: dates as MM/DD/YYYY, tags as JSON without the outer braces on some rows,
reservation purchases only in the actual export, reservation-covered usage at cost 0 in the actual
export and amortized in the other, unused reservation rows, a refund. Partitioned CSV.gz under
``<export>/<YYYYMMDD-YYYYMMDD>/<run>/`` with a ``manifest.json`` written last, as Cost Management does.
Deterministic per (seed, day).
"""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from cloudcost.demo.aws_cur2 import q
from cloudcost.demo.volume import check_incomplete_day, delivered_at, relabel_rows
from cloudcost.sources.azure import month_folder

BILLING_ACCOUNT = ("87654321", "Demo Corp EA")
SUBSCRIPTIONS = [
    ("9f3c2b1a-0000-4000-8000-00000000d001", "demo-prod"),
    ("9f3c2b1a-0000-4000-8000-00000000d002", "demo-dev"),
]
RESERVATION = ("/providers/Microsoft.Capacity/reservationOrders/demo-order/reservations/demo-ri", "demo-ri-d4s")
TEAMS = ["payments", "search", "platform", "data-eng"]
COLUMNS = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "SubscriptionId",
    "SubscriptionName",
    "ResourceGroup",
    "Date",
    "ProductName",
    "MeterId",
    "MeterName",
    "MeterCategory",
    "MeterSubCategory",
    "MeterRegion",
    "ConsumedService",
    "Quantity",
    "EffectivePrice",
    "UnitPrice",
    "PayGPrice",
    "CostInBillingCurrency",
    "BillingCurrencyCode",
    "ResourceLocation",
    "ResourceId",
    "ResourceName",
    "Tags",
    "UnitOfMeasure",
    "ChargeType",
    "Frequency",
    "PricingModel",
    "PublisherType",
    "PublisherName",
    "ReservationId",
    "ReservationName",
    "benefitId",
    "benefitName",
    "InvoiceSectionName",
]

# (consumed service, provider/type, meter category, meter name, unit, price, daily quantity range)
METERS = [
    (
        "Microsoft.Compute",
        "Microsoft.Compute/virtualMachines",
        "Virtual Machines",
        "D4s v5",
        "1 Hour",
        Decimal("0.192"),
        (24, 24),
    ),
    (
        "Microsoft.Storage",
        "Microsoft.Storage/storageAccounts",
        "Storage",
        "LRS Data Stored",
        "1 GB/Month",
        Decimal("0.0208"),
        (50, 600),
    ),
    ("Microsoft.Sql", "Microsoft.Sql/servers", "SQL Database", "vCore", "1 Hour", Decimal("0.5044"), (24, 24)),
    (
        "Microsoft.Network",
        "Microsoft.Network/publicIPAddresses",
        "Bandwidth",
        "Standard Data Transfer Out",
        "1 GB",
        Decimal("0.087"),
        (1, 90),
    ),
    (
        "Microsoft.OperationalInsights",
        "Microsoft.OperationalInsights/workspaces",
        "Log Analytics",
        "Pay-as-you-go Data Ingestion",
        "1 GB",
        Decimal("2.76"),
        (1, 9),
    ),
    (
        "Microsoft.CognitiveServices",
        "Microsoft.CognitiveServices/accounts",
        "Foundry Models",
        "gpt-4o Input Tokens",
        "1K",
        Decimal("0.0025"),
        (100, 4000),
    ),
]


def _tags(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return ""
    pairs = {rng.choice(["team", "Team", "owner"]): rng.choice(TEAMS), rng.choice(["env", "Environment"]): "prod"}
    text = ",".join(f'"{k}": "{v}"' for k, v in pairs.items())
    return text if rng.random() < 0.5 else "{" + text + "}"  # Azure sometimes drops the outer braces


def _base(day: date, subscription: tuple[str, str]) -> dict:
    last = calendar.monthrange(day.year, day.month)[1]
    return {
        "BillingAccountId": BILLING_ACCOUNT[0],
        "BillingAccountName": BILLING_ACCOUNT[1],
        "BillingPeriodStartDate": f"{day.month:02d}/01/{day.year}",
        "BillingPeriodEndDate": f"{day.month:02d}/{last:02d}/{day.year}",
        "SubscriptionId": subscription[0],
        "SubscriptionName": subscription[1],
        "Date": f"{day.month:02d}/{day.day:02d}/{day.year}",
        "BillingCurrencyCode": "USD",
        "PublisherType": "Azure",
        "PublisherName": "Microsoft",
        "InvoiceSectionName": "Demo",
    }


def rows_for_day(seed: int, day: date, partial: bool = False) -> tuple[list[dict], list[dict]]:
    """(amortized rows, actual rows) of one day; ``partial``: the usage of half the resources, as a run
    submitted during the day holds it."""
    rng = random.Random(f"{seed}-azure-{day.isoformat()}")
    amortized, actual = [], []
    for index in range(9 if partial else 18):
        service, rtype, category, meter, unit, price, qty = METERS[index % len(METERS)]
        subscription = SUBSCRIPTIONS[index % 2]
        name = f"demo-{category.lower().replace(' ', '')}-{index}"
        quantity = Decimal(rng.randint(*qty))
        cost = q(quantity * price)
        row = _base(day, subscription) | {
            "ResourceGroup": f"rg-{subscription[1]}",
            "ProductName": f"{category} {meter}",
            "MeterId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"azure-meter/{category}/{meter}")),
            "MeterName": meter,
            "MeterCategory": category,
            "MeterSubCategory": meter.split()[0],
            "MeterRegion": "East US",
            "ConsumedService": service,
            "Quantity": str(quantity),
            "EffectivePrice": str(price),
            "UnitPrice": str(price),
            "PayGPrice": str(price),
            "CostInBillingCurrency": str(cost),
            "ResourceLocation": "eastus",
            "ResourceId": (
                f"/subscriptions/{subscription[0]}/resourceGroups/rg-{subscription[1]}/providers/{rtype}/{name}"
            ),
            "ResourceName": name,
            "Tags": _tags(random.Random(f"{seed}-azure-tags-{index}")),
            "UnitOfMeasure": unit,
            "ChargeType": "Usage",
            "Frequency": "UsageBased",
            "PricingModel": "OnDemand",
        }
        if category == "Virtual Machines" and index % 12 == 0:
            # reservation-covered VM: actual shows cost 0, amortized shows the reservation's daily share
            amortized.append(
                row
                | {
                    "PricingModel": "Reservation",
                    "EffectivePrice": "0.12",
                    "CostInBillingCurrency": str(q(quantity * Decimal("0.12"))),
                    "ReservationId": RESERVATION[0],
                    "ReservationName": RESERVATION[1],
                    "benefitId": RESERVATION[0],
                    "benefitName": RESERVATION[1],
                }
            )
            actual.append(
                row
                | {
                    "PricingModel": "Reservation",
                    "EffectivePrice": "0",
                    "CostInBillingCurrency": "0",
                    "ReservationId": RESERVATION[0],
                    "ReservationName": RESERVATION[1],
                }
            )
        else:
            amortized.append(row)
            actual.append(dict(row))
    if partial:
        return amortized, actual
    unused = _base(day, SUBSCRIPTIONS[0]) | {
        "ProductName": "Reservation-Base VM",
        "MeterCategory": "Virtual Machines",
        "MeterName": "D4s v5",
        "MeterId": str(uuid.uuid5(uuid.NAMESPACE_URL, "azure-meter/Virtual Machines/D4s v5")),
        "ConsumedService": "Microsoft.Compute",
        "Quantity": "2",
        "EffectivePrice": "0.12",
        "UnitPrice": "0.192",
        "PayGPrice": "0.192",
        "CostInBillingCurrency": str(q(Decimal("2") * Decimal("0.12"))),
        "ResourceLocation": "eastus",
        "UnitOfMeasure": "1 Hour",
        "ChargeType": "UnusedReservation",
        "Frequency": "UsageBased",
        "PricingModel": "Reservation",
        "ReservationId": RESERVATION[0],
        "ReservationName": RESERVATION[1],
        "benefitId": RESERVATION[0],
        "benefitName": RESERVATION[1],
    }
    amortized.append(unused)
    if day.day == 1:
        actual.append(
            _base(day, SUBSCRIPTIONS[0])
            | {
                "ProductName": "Reserved VM Instance, Standard_D4s_v5, US East, 1 Year",
                "MeterCategory": "Virtual Machines",
                "ConsumedService": "Microsoft.Capacity",
                # as in real EA purchases (FinOps toolkit sample): the reserved VM's meter, PayGPrice 0
                "MeterName": "D4s v5",
                "MeterId": str(uuid.uuid5(uuid.NAMESPACE_URL, "azure-meter/Virtual Machines/D4s v5")),
                "Quantity": "1",
                "UnitPrice": "91.25",
                "PayGPrice": "0",
                "CostInBillingCurrency": "91.25",
                "UnitOfMeasure": "1 Hour",
                "ChargeType": "Purchase",
                "Frequency": "Recurring",
                "PricingModel": "Reservation",
                "ReservationId": RESERVATION[0],
                "ReservationName": RESERVATION[1],
            }
        )
    if day.day == 2:
        refund = _base(day, SUBSCRIPTIONS[1]) | {
            "ProductName": "SQL Database vCore",
            "MeterCategory": "SQL Database",
            "ConsumedService": "Microsoft.Sql",
            "Quantity": "1",
            "CostInBillingCurrency": "-12.40",
            "UnitOfMeasure": "1 Hour",
            "ChargeType": "Refund",
            "Frequency": "OneTime",
            "PricingModel": "OnDemand",
        }
        amortized.append(refund)
        actual.append(dict(refund))
    return amortized, actual


def _write_run(
    root: Path, prefix: str, export: str, folder: str, run_id: str, rows: Iterable[dict], submitted: datetime
) -> Path:
    """The run's blob, streamed (rows may be millions), then its manifest with the row count."""
    base = f"{prefix}/{export}/{folder}/{run_id}"
    blob = f"{base}/part_0_0001.csv.gz"
    (root / base).mkdir(parents=True, exist_ok=True)
    count = 0
    with (
        (root / blob).open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
        io.TextIOWrapper(zipped, encoding="utf-8", newline="") as text,
    ):
        writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    manifest = {
        "manifestVersion": "2024-04-01",
        "dataRowCount": count,
        "blobCount": 1,
        "exportConfig": {"exportName": export, "type": "AmortizedCost" if "amortized" in export else "ActualCost"},
        "runInfo": {"runId": run_id, "submittedTime": submitted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        "blobs": [{"blobName": blob, "dataRowCount": count, "byteCount": (root / blob).stat().st_size}],
    }
    path = root / base / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def write_exports(
    root: Path,
    days: list[date],
    seed: int = 7,
    prefix: str = "costexports",
    amortized: str = "demo-amortized",
    actual: str = "demo-actual",
    scale: int = 1,
    incomplete_day: date | None = None,
) -> list[Path]:
    """One run per export and month covering ``days``; returns the manifests (written last)."""
    check_incomplete_day(days, incomplete_day)
    by_month: dict[str, list[date]] = {}
    for day in sorted(days):
        by_month.setdefault(month_folder(day), []).append(day)
    manifests = []
    for folder, month_days in by_month.items():
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"azure-run/{seed}/{folder}/{len(month_days)}/{incomplete_day}"))
        partial = incomplete_day if incomplete_day in month_days else None
        submitted = delivered_at(month_days, partial)
        for export, which in ((amortized, 0), (actual, 1)):
            rows = _replicated(seed, month_days, partial, scale, which)
            manifests.append(_write_run(root, prefix, export, folder, run_id, rows, submitted))
    return manifests


def _replicated(seed: int, days: list[date], partial: date | None, scale: int, which: int) -> Iterator[dict]:
    """Amortized (``which`` 0) or actual (1) rows of ``days``, each day as ``scale`` replicas."""
    for day in days:
        rows = rows_for_day(seed, day, partial=day == partial)[which]
        for replica in range(scale):
            yield from relabel_rows(rows, replica, ("ResourceId", "ResourceName"))


def expected_billed_cost(days: list[date], seed: int = 7, scale: int = 1) -> dict[tuple[str, date], Decimal]:
    """The actual export's cost per (billing account, day): what FOCUS BilledCost must add up to."""
    totals: dict[tuple[str, date], Decimal] = {}
    for day in days:
        for row in rows_for_day(seed, day)[1]:
            key = (row["BillingAccountId"], day)
            totals[key] = totals.get(key, Decimal(0)) + Decimal(row["CostInBillingCurrency"]) * scale
    return totals
