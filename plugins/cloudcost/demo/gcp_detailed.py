"""Generate a realistic GCP detailed billing export for the demo, one Parquet file per usage day.

Rows have the BigQuery export's nested shape (service, sku, project, labels, credits, usage, invoice,
location, resource, adjustment_info, export_time) and its habits: hourly VM rows with sustained-use
credits, storage and network daily, a promotional credit, tax on the first of the month, and a
correction (cost_type adjustment with adjustment_info). Deterministic per (seed, day). ``scale`` and
the incomplete day: see ``cloudcost.demo.volume``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cloudcost.demo.aws_cur2 import q
from cloudcost.demo.volume import check_incomplete_day, partial_end, with_suffix

BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"
PROJECTS = [("demo-prod-4821", "Demo Prod", "418290134521"), ("demo-data-1177", "Demo Data", "598112043377")]
LABEL_KEYS = {"team": ["team", "Team", "squad"], "env": ["env", "environment"]}
TEAMS = ["payments", "search", "platform", "data-eng", "ml"]


@dataclass(frozen=True)
class Sku:
    service_id: str
    service: str
    sku_id: str
    description: str
    unit: str
    pricing_unit: str
    rate: Decimal
    hourly: bool
    daily: tuple[int, int] = (1, 1)
    region: str | None = "us-central1"


SKUS = [
    Sku(
        "6F81-5844-456A",
        "Compute Engine",
        "CP-N2-CORE",
        "N2 Instance Core running in Americas",
        "seconds",
        "hour",
        Decimal("0.031611"),
        True,
    ),
    Sku(
        "6F81-5844-456A",
        "Compute Engine",
        "CP-N2-RAM",
        "N2 Instance Ram running in Americas",
        "byte-seconds",
        "gibibyte hour",
        Decimal("0.004237"),
        True,
    ),
    Sku(
        "6F81-5844-456A",
        "Compute Engine",
        "SPOT-E2",
        "Spot Preemptible E2 Instance Core running in Americas",
        "seconds",
        "hour",
        Decimal("0.006543"),
        True,
    ),
    Sku(
        "95FF-2EF5-5EA1",
        "Cloud Storage",
        "GCS-STD",
        "Standard Storage US Multi-region",
        "byte-seconds",
        "gibibyte month",
        Decimal("0.026"),
        False,
        (100, 900),
        "us",
    ),
    Sku(
        "24E6-581D-38E5",
        "BigQuery",
        "BQ-ANALYSIS",
        "Analysis",
        "bytes",
        "tebibyte",
        Decimal("6.25"),
        False,
        (1, 8),
        "US",
    ),
    Sku(
        "9662-B51E-5089",
        "Cloud SQL",
        "SQL-PG-CPU",
        "Cloud SQL for PostgreSQL: Zonal - vCPU in Americas",
        "seconds",
        "hour",
        Decimal("0.0413"),
        True,
    ),
    Sku(
        "E505-1604-58F8",
        "Networking",
        "NET-EGRESS",
        "Network Internet Data Transfer Out from Americas to Americas",
        "bytes",
        "gibibyte",
        Decimal("0.12"),
        False,
        (10, 200),
    ),
    Sku(
        "C7E2-9256-1C43",
        "Vertex AI",
        "VTX-PRED",
        "Vertex AI: Online/Batch Prediction N1 Predefined Instance Core",
        "seconds",
        "hour",
        Decimal("0.0379"),
        True,
    ),
    Sku(
        "152E-C115-5142",
        "Cloud Run",
        "RUN-CPU",
        "CPU Allocation Time",
        "seconds",
        "vCPU-second",
        Decimal("0.000024"),
        False,
        (20_000, 200_000),
    ),
    Sku(
        "5490-F7B7-8DF6",
        "Cloud Logging",
        "LOG-INGEST",
        "Log Volume",
        "bytes",
        "gibibyte",
        Decimal("0.5"),
        False,
        (2, 40),
        "global",
    ),
]


def _labels(rng: random.Random) -> list[dict]:
    if rng.random() < 0.3:
        return []
    return [
        {"key": rng.choice(LABEL_KEYS["team"]), "value": rng.choice(TEAMS)},
        {"key": rng.choice(LABEL_KEYS["env"]), "value": rng.choice(["prod", "staging"])},
    ]


def _row(
    day: date,
    sku: Sku,
    project: tuple[str, str, str],
    start: datetime,
    end: datetime,
    amount: Decimal,
    labels: list[dict],
    resource: str | None,
    export_time: datetime,
) -> dict:
    cost = q(amount * sku.rate)
    return {
        "billing_account_id": BILLING_ACCOUNT,
        "service": {"id": sku.service_id, "description": sku.service},
        "sku": {"id": sku.sku_id, "description": sku.description},
        "usage_start_time": start,
        "usage_end_time": end,
        "project": {
            "id": project[0],
            "number": project[2],
            "name": project[1],
            "labels": [{"key": "cost-center", "value": "cc-101"}],
            "ancestry_numbers": f"/{project[2][:6]}/{project[2]}/",
        },
        "labels": labels,
        "system_labels": [],
        "location": {
            "location": sku.region,
            "country": "US",
            "region": sku.region,
            "zone": f"{sku.region}-a" if sku.hourly else None,
        },
        "resource": {
            "name": resource,
            "global_name": f"//compute.googleapis.com/projects/{project[0]}/{resource}" if resource else None,
        },
        "export_time": export_time,
        "price": {
            "effective_price": float(sku.rate),
            "tier_start_amount": 0.0,
            "unit": sku.pricing_unit,
            "pricing_unit_quantity": 1.0,
        },
        "cost": float(cost),
        "cost_at_list": float(cost),
        "currency": "USD",
        "currency_conversion_rate": 1.0,
        "usage": {
            "amount": float(amount * 3600) if sku.hourly else float(amount),
            "unit": sku.unit,
            "amount_in_pricing_units": float(amount),
            "pricing_unit": sku.pricing_unit,
        },
        "credits": [],
        "invoice": {"month": f"{day:%Y%m}"},
        "cost_type": "regular",
        "adjustment_info": None,
    }


def rows_for_day(seed: int, day: date, partial: bool = False) -> list[dict]:
    """The day's rows; ``partial``: the hourly rows exported so far, with that export's ``export_time``."""
    rng = random.Random(f"{seed}-gcp-{day.isoformat()}")
    layout = random.Random(f"{seed}-gcp-resources")
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    export_time = day_start + timedelta(days=1, hours=9, minutes=layout.randint(0, 59))
    hours = 24
    if partial:
        export_time, hours = partial_end(day) + timedelta(minutes=20), partial_end(day).hour
    rows: list[dict] = []
    for index in range(24):
        sku = SKUS[index % len(SKUS)]
        project = PROJECTS[layout.randrange(len(PROJECTS))]
        labels = _labels(random.Random(f"{seed}-gcp-labels-{index}"))
        resource = f"instances/demo-vm-{index}" if sku.hourly else None
        if sku.hourly:
            for hour in range(hours):
                start = day_start + timedelta(hours=hour)
                row = _row(
                    day, sku, project, start, start + timedelta(hours=1), Decimal(1), labels, resource, export_time
                )
                if sku.service == "Compute Engine" and "Spot" not in sku.description and hour >= 18:
                    row["credits"] = [
                        {
                            "name": "Sustained Usage Discount",
                            "amount": -round(row["cost"] * 0.2, 8),
                            "full_name": None,
                            "id": "",
                            "type": "SUSTAINED_USAGE_DISCOUNT",
                        }
                    ]
                rows.append(row)
        elif not partial:
            amount = q(Decimal(rng.randint(*sku.daily)))
            rows.append(
                _row(day, sku, project, day_start, day_start + timedelta(days=1), amount, labels, resource, export_time)
            )
    promo = dict(rows[0])
    promo.update(
        {
            "credits": [
                {
                    "name": "Free Trial",
                    "amount": -1.5,
                    "full_name": "Free trial credit",
                    "id": "promo-1",
                    "type": "PROMOTION",
                }
            ]
        }
    )
    rows[0] = promo
    if partial:
        return rows
    if day.day == 1:
        tax = _row(
            day, SKUS[0], PROJECTS[0], day_start, day_start + timedelta(days=1), Decimal(0), [], None, export_time
        )
        tax.update(
            {
                "sku": {"id": "TAX-US", "description": "Sales tax"},
                "cost": 4.2,
                "cost_at_list": 4.2,
                "cost_type": "tax",
                "usage": None,
                "price": None,
            }
        )
        rows.append(tax)
    if day.day == 2:
        fix = _row(
            day, SKUS[3], PROJECTS[1], day_start, day_start + timedelta(days=1), Decimal(0), [], None, export_time
        )
        fix.update(
            {
                "cost": -3.75,
                "cost_at_list": -3.75,
                "cost_type": "adjustment",
                "usage": None,
                "price": None,
                "adjustment_info": {
                    "id": "adj-1",
                    "description": "Storage overcharge correction",
                    "mode": "MANUAL_ADJUSTMENT",
                    "type": "GENERAL_ADJUSTMENT",
                },
            }
        )
        rows.append(fix)
    return rows


def _schema() -> pa.Schema:
    kv = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    return pa.schema(
        [
            ("billing_account_id", pa.string()),
            ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
            ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
            ("usage_start_time", pa.timestamp("us", tz="UTC")),
            ("usage_end_time", pa.timestamp("us", tz="UTC")),
            (
                "project",
                pa.struct(
                    [
                        ("id", pa.string()),
                        ("number", pa.string()),
                        ("name", pa.string()),
                        ("labels", kv),
                        ("ancestry_numbers", pa.string()),
                    ]
                ),
            ),
            ("labels", kv),
            ("system_labels", kv),
            (
                "location",
                pa.struct(
                    [
                        ("location", pa.string()),
                        ("country", pa.string()),
                        ("region", pa.string()),
                        ("zone", pa.string()),
                    ]
                ),
            ),
            ("resource", pa.struct([("name", pa.string()), ("global_name", pa.string())])),
            ("export_time", pa.timestamp("us", tz="UTC")),
            (
                "price",
                pa.struct(
                    [
                        ("effective_price", pa.float64()),
                        ("tier_start_amount", pa.float64()),
                        ("unit", pa.string()),
                        ("pricing_unit_quantity", pa.float64()),
                    ]
                ),
            ),
            ("cost", pa.float64()),
            ("cost_at_list", pa.float64()),
            ("currency", pa.string()),
            ("currency_conversion_rate", pa.float64()),
            (
                "usage",
                pa.struct(
                    [
                        ("amount", pa.float64()),
                        ("unit", pa.string()),
                        ("amount_in_pricing_units", pa.float64()),
                        ("pricing_unit", pa.string()),
                    ]
                ),
            ),
            (
                "credits",
                pa.list_(
                    pa.struct(
                        [
                            ("name", pa.string()),
                            ("amount", pa.float64()),
                            ("full_name", pa.string()),
                            ("id", pa.string()),
                            ("type", pa.string()),
                        ]
                    )
                ),
            ),
            ("invoice", pa.struct([("month", pa.string())])),
            ("cost_type", pa.string()),
            (
                "adjustment_info",
                pa.struct(
                    [("id", pa.string()), ("description", pa.string()), ("mode", pa.string()), ("type", pa.string())]
                ),
            ),
        ]
    )


def _replica(table: pa.Table, replica: int) -> pa.Table:
    """The day's rows as replica ``replica``: resource names get the replica's suffix."""
    if not replica:
        return table
    resource = table["resource"].combine_chunks()
    assert isinstance(resource, pa.StructArray)  # the schema above makes "resource" a struct
    renamed = pa.StructArray.from_arrays(
        [with_suffix(resource.field(f.name), replica) for f in resource.type],
        fields=list(resource.type),
        mask=resource.is_null(),
    )
    return table.set_column(table.schema.get_field_index("resource"), "resource", renamed)


def write_export(
    root: Path,
    days: list[date],
    seed: int = 7,
    prefix: str = "billing_export",
    table: str = "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9",
    scale: int = 1,
    incomplete_day: date | None = None,
) -> list[Path]:
    """Write one Parquet file per usage day under ``<prefix>/<table>/usage_date=<day>/``."""
    check_incomplete_day(days, incomplete_day)
    schema = _schema()
    written = []
    for day in days:
        folder = root / prefix / table / f"usage_date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.parquet"):
            stale.unlink()
        path = folder / "export-000.parquet"
        base = pa.Table.from_pylist(rows_for_day(seed, day, partial=day == incomplete_day), schema=schema)
        with pq.ParquetWriter(path, schema) as writer:
            for replica in range(scale):
                writer.write_table(_replica(base, replica))
        written.append(path)
    return written


def expected_billed_cost(days: list[date], seed: int = 7, scale: int = 1) -> dict[tuple[str, date], Decimal]:
    """sum(cost) per (billing account, usage day), computed from the generated rows."""
    totals: dict[tuple[str, date], Decimal] = {}
    for day in days:
        for row in rows_for_day(seed, day):
            key = (row["billing_account_id"], row["usage_start_time"].date())
            totals[key] = totals.get(key, Decimal(0)) + q(Decimal(repr(row["cost"]))) * scale
    return totals
