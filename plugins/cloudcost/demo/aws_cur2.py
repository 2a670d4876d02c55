"""Generate a realistic AWS Data Exports (CUR 2.0) delivery for the demo: Parquet plus Manifest.json.

Deterministic: every day's rows depend only on (seed, day), so generating a longer range never
changes the rows of a day already generated. The shapes follow CUR 2.0 (maps for product, tags, cost
categories and discounts; costs as doubles, as AWS writes them) and its line item types: on-demand,
spot, Savings Plan covered usage with its negation and recurring fee, Reserved Instance discounted
usage with its fee, EDP discount, credit, refund and tax. ``scale`` and the incomplete day: see
``cloudcost.demo.volume``.
"""

from __future__ import annotations

import json
import os
import random
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cloudcost.demo.volume import check_incomplete_day, delivered_at, partial_end, relabel_table

PAYER = ("111111111111", "Demo Corp Payer")
ACCOUNTS = [("222222222222", "demo-prod"), ("333333333333", "demo-staging"), ("444444444444", "demo-data")]
SP_ARN = "arn:aws:savingsplans::111111111111:savingsplan/5e1d6c3b-demo-compute-sp"
RI_ARN = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/7f3a9e21-demo-ri"
TEAMS = ["payments", "search", "platform", "data-eng", "ml"]
TAG_KEY_VARIANTS = {"team": ["user:team", "user:Team", "user:squad"], "env": ["user:env", "user:Environment"]}
Q = Decimal("0.0000000001")  # 10 decimals, as the rates: exact in a double round trip at these magnitudes


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    family: str
    usage_type: str
    operation: str
    unit: str
    rate: Decimal
    hourly: bool
    region: str = "us-east-1"
    daily: tuple[int, int] = (1, 1)  # typical daily quantity of a non-hourly resource


SERVICES = [
    Service(
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "Compute Instance",
        "BoxUsage:m5.large",
        "RunInstances",
        "Hrs",
        Decimal("0.096"),
        True,
    ),
    Service(
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "Compute Instance",
        "BoxUsage:c6g.xlarge",
        "RunInstances",
        "Hrs",
        Decimal("0.136"),
        True,
        "eu-west-1",
    ),
    Service(
        "AmazonEBS",
        "Amazon Elastic Block Store",
        "Storage",
        "EBS:VolumeUsage.gp3",
        "CreateVolume-Gp3",
        "GB-Mo",
        Decimal("0.08"),
        False,
        daily=(10, 30),
    ),
    Service(
        "AmazonS3",
        "Amazon Simple Storage Service",
        "Storage",
        "TimedStorage-ByteHrs",
        "StandardStorage",
        "GB-Mo",
        Decimal("0.023"),
        False,
        daily=(50, 400),
    ),
    Service(
        "AmazonRDS",
        "Amazon Relational Database Service",
        "Database Instance",
        "InstanceUsage:db.r6g.large",
        "CreateDBInstance:0014",
        "Hrs",
        Decimal("0.225"),
        True,
    ),
    Service(
        "AWSLambda",
        "AWS Lambda",
        "Serverless",
        "Lambda-GB-Second",
        "Invoke",
        "Lambda-GB-Second",
        Decimal("0.0000166667"),
        False,
        daily=(20_000, 400_000),
    ),
    Service(
        "AmazonDynamoDB",
        "Amazon DynamoDB",
        "Amazon DynamoDB PayPerRequest Throughput",
        "WriteRequestUnits",
        "PayPerRequestThroughput",
        "WriteRequestUnits",
        Decimal("0.00000125"),
        False,
        daily=(500_000, 4_000_000),
    ),
    Service(
        "AWSDataTransfer",
        "AWS Data Transfer",
        "Data Transfer",
        "DataTransfer-Out-Bytes",
        "",
        "GB",
        Decimal("0.09"),
        False,
        daily=(5, 60),
    ),
    Service(
        "AmazonCloudFront",
        "Amazon CloudFront",
        "Data Transfer",
        "US-DataTransfer-Out-Bytes",
        "GET",
        "GB",
        Decimal("0.085"),
        False,
        "global",
        daily=(10, 120),
    ),
    Service(
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "Metric",
        "CW:MetricMonitorUsage",
        "MetricStorage",
        "Metrics",
        Decimal("0.30"),
        False,
        daily=(2, 12),
    ),
    Service(
        "AmazonSageMaker",
        "Amazon SageMaker",
        "ML Instance",
        "Notebk:ml.t3.medium",
        "RunInstance",
        "Hrs",
        Decimal("0.05"),
        True,
    ),
    Service(
        "AmazonBedrock",
        "Amazon Bedrock",
        "Generative AI",
        "USE1-Claude-InputTokenCount",
        "InvokeModel",
        "1K tokens",
        Decimal("0.003"),
        False,
        daily=(200, 3_000),
    ),
    Service(
        "AmazonElastiCache",
        "Amazon ElastiCache",
        "Cache Instance",
        "NodeUsage:cache.r6g.large",
        "CreateCacheCluster",
        "Hrs",
        Decimal("0.206"),
        True,
    ),
    Service(
        "AWSGlue",
        "AWS Glue",
        "AWS Glue",
        "USE1-ETL-DPU-Hour",
        "Jobrun",
        "DPU-Hour",
        Decimal("0.44"),
        False,
        daily=(2, 16),
    ),
]


def q(value: Decimal) -> Decimal:
    return value.quantize(Q, rounding=ROUND_HALF_EVEN)


def _ts(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _period(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass
class Resource:
    service: Service
    account: tuple[str, str]
    resource_id: str
    tags: dict[str, str]
    scale: Decimal
    coverage: str  # "", "sp", "ri", "spot"


def _resources(seed: int) -> list[Resource]:
    rng = random.Random(f"{seed}-resources")
    out = []
    for index in range(120):
        # compute-heavy, like most estates: every other resource is an EC2 instance
        service = SERVICES[(index // 2) % 2] if index % 2 == 0 else SERVICES[(index // 2) % len(SERVICES)]
        account = ACCOUNTS[rng.randrange(len(ACCOUNTS))]
        tags: dict[str, str] = {}
        if rng.random() < 0.75:  # a quarter of resources are untagged
            tags[rng.choice(TAG_KEY_VARIANTS["team"])] = rng.choice(TEAMS)
            tags[rng.choice(TAG_KEY_VARIANTS["env"])] = "prod" if account[1] == "demo-prod" else "staging"
            if rng.random() < 0.4:
                tags["user:cost-center"] = f"cc-{rng.randint(100, 104)}"
        coverage = ""
        if service.code == "AmazonEC2":
            coverage = rng.choice(["", "sp", "sp", "ri", "spot"])
        resource_id = {
            "AmazonEC2": f"i-{rng.getrandbits(64):016x}",
            "AmazonEBS": f"vol-{rng.getrandbits(64):016x}",
            "AmazonS3": f"demo-bucket-{index}",
            "AmazonRDS": f"arn:aws:rds:us-east-1:{account[0]}:db:demo-db-{index}",
            "AWSLambda": f"arn:aws:lambda:us-east-1:{account[0]}:function:demo-fn-{index}",
        }.get(service.code, f"{service.code.lower()}-demo-{index}")
        scale = Decimal(rng.randint(50, 400)) / Decimal(100)
        out.append(Resource(service, account, resource_id, tags, scale, coverage))
    return out


def _base_row(day: date, account: tuple[str, str], start: datetime, end: datetime) -> dict:
    period_start, period_end = _period(day)
    return {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": "AWS",
        "bill_billing_period_start_date": period_start,
        "bill_billing_period_end_date": period_end,
        "bill_invoice_id": None,
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER[0],
        "bill_payer_account_name": PAYER[1],
        "line_item_usage_account_id": account[0],
        "line_item_usage_account_name": account[1],
        "line_item_legal_entity": "Amazon Web Services, Inc.",
        "line_item_currency_code": "USD",
        "line_item_usage_start_date": _ts(start),
        "line_item_usage_end_date": _ts(end),
        "identity_time_interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
    }


def _usage_rows(day: date, resource: Resource, rng: random.Random, hours: int = 24) -> Iterator[dict]:
    service = resource.service
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    slots = [(day_start + timedelta(hours=h), day_start + timedelta(hours=h + 1)) for h in range(hours)]
    if not service.hourly:
        slots = [(day_start, day_start + timedelta(days=1))] if hours == 24 else []
    for start, end in slots:
        amount = Decimal(1) if service.hourly else q(resource.scale * Decimal(rng.randint(*service.daily)))
        on_demand = q(amount * service.rate)
        row = _base_row(day, resource.account, start, end)
        row.update(
            {
                "line_item_line_item_type": "Usage",
                "line_item_line_item_description": f"${service.rate} per {service.unit} for {service.usage_type}",
                "line_item_product_code": service.code,
                "line_item_usage_type": service.usage_type,
                "line_item_operation": service.operation,
                "line_item_resource_id": resource.resource_id,
                "line_item_availability_zone": f"{service.region}a" if service.hourly else None,
                "line_item_usage_amount": amount,
                "line_item_unblended_rate": str(service.rate),
                "line_item_unblended_cost": on_demand,
                "pricing_public_on_demand_cost": on_demand,
                "pricing_public_on_demand_rate": str(service.rate),
                "pricing_term": "OnDemand",
                "pricing_unit": service.unit,
                "pricing_purchase_option": None,
                "product_servicecode": service.code,
                "product_region_code": None if service.region == "global" else service.region,
                "product_product_family": service.family,
                "product_sku": f"SKU{zlib.crc32(f'{service.code}/{service.usage_type}'.encode()) % 10**8:08d}",
                "pricing_rate_code": f"SKU{zlib.crc32(f'{service.code}/{service.usage_type}'.encode()) % 10**8:08d}"
                ".JRTCKXETXF.6YS6EN2CT7",
                "pricing_rate_id": str(zlib.crc32(f"{service.code}/{service.usage_type}/od".encode())),
                "product": {"product_name": service.name, "region": service.region},
                "resource_tags": resource.tags,
            }
        )
        if resource.coverage == "spot":
            spot = q(on_demand * Decimal("0.35"))
            row.update(
                {
                    "line_item_unblended_cost": spot,
                    "pricing_term": "Spot",
                    "line_item_unblended_rate": str(q(service.rate * Decimal("0.35"))),
                }
            )
            yield row
        elif resource.coverage == "sp":
            effective = q(on_demand * Decimal("0.72"))
            row.update(
                {
                    "line_item_line_item_type": "SavingsPlanCoveredUsage",
                    "savings_plan_savings_plan_a_r_n": SP_ARN,
                    "savings_plan_savings_plan_effective_cost": effective,
                    "savings_plan_savings_plan_rate": q(service.rate * Decimal("0.72")),
                }
            )
            yield row
            negation = dict(row)
            negation.update(
                {
                    "line_item_line_item_type": "SavingsPlanNegation",
                    "line_item_unblended_cost": -on_demand,
                    "line_item_line_item_description": (
                        f"SavingsPlanNegation used by AccountId : {resource.account[0]} "
                        f"and UsageSku : {row['product_sku']}"
                    ),
                    "savings_plan_savings_plan_effective_cost": None,
                    "pricing_public_on_demand_cost": None,
                }
            )
            yield negation
        elif resource.coverage == "ri":
            row.update(
                {
                    "line_item_line_item_type": "DiscountedUsage",
                    "line_item_unblended_cost": Decimal(0),
                    "line_item_unblended_rate": "0.0",
                    "pricing_term": "Reserved",
                    "reservation_reservation_a_r_n": RI_ARN,
                    "reservation_effective_cost": q(on_demand * Decimal("0.6")),
                }
            )
            yield row
        else:
            yield row


def _daily_extras(day: date, rows: list[dict], rng: random.Random) -> Iterator[dict]:
    """Commitment fees, discount, credit, refund and (on the first of the month) tax."""
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    day_end = day_start + timedelta(days=1)
    prod = ACCOUNTS[0]
    used = sum(
        (
            r["savings_plan_savings_plan_effective_cost"] or 0
            for r in rows
            if r["line_item_line_item_type"] == "SavingsPlanCoveredUsage"
        ),
        Decimal(0),
    )
    hourly = q(max(used * Decimal("1.15"), Decimal("5")) / 24)
    commitment = hourly * 24  # a whole number of hours at the plan's hourly rate
    fee = _base_row(day, prod, day_start, day_end)
    fee.update(
        {
            "line_item_line_item_type": "SavingsPlanRecurringFee",
            "line_item_line_item_description": "1 year No Upfront Compute Savings Plan",
            "line_item_product_code": "ComputeSavingsPlans",
            "line_item_usage_type": "ComputeSP:1yrNoUpfront",
            "line_item_unblended_cost": commitment,
            "line_item_unblended_rate": str(hourly),
            "line_item_usage_amount": Decimal(24),
            "pricing_unit": "Hrs",
            "product_sku": "SP-COMPUTE-1YR-NU",
            "pricing_rate_code": "SP-COMPUTE-1YR-NU.COMMIT.HOURLY",
            "savings_plan_savings_plan_a_r_n": SP_ARN,
            "savings_plan_total_commitment_to_date": commitment,
            "savings_plan_used_commitment": used,
        }
    )
    yield fee
    ri_rows = [r for r in rows if r["line_item_line_item_type"] == "DiscountedUsage"]
    if ri_rows:
        ri_fee = _base_row(day, prod, day_start, day_end)
        ri_hourly = q(sum((r["reservation_effective_cost"] for r in ri_rows), Decimal(0)) * Decimal("1.1") / 24)
        ri_cost = ri_hourly * 24
        ri_fee.update(
            {
                "line_item_line_item_type": "RIFee",
                "line_item_line_item_description": "USD 0.0576 hourly fee per Linux/UNIX, m5.large instance",
                "line_item_product_code": "AmazonEC2",
                "line_item_usage_type": "HeavyUsage:m5.large",
                "line_item_unblended_cost": ri_cost,
                "line_item_unblended_rate": str(ri_hourly),
                "product_sku": "RI-M5L-1YR-NU",
                "pricing_rate_code": "RI-M5L-1YR-NU.COMMIT.HOURLY",
                "line_item_usage_amount": Decimal(24),
                "pricing_unit": "Hrs",
                "product_region_code": "us-east-1",
                "reservation_reservation_a_r_n": RI_ARN,
                "reservation_unused_recurring_fee": q(
                    ri_cost - sum((r["reservation_effective_cost"] for r in ri_rows), Decimal(0))
                ),
                "reservation_unused_amortized_upfront_fee_for_billing_period": Decimal(0),
                "reservation_unused_quantity": q(
                    (ri_cost - sum((r["reservation_effective_cost"] for r in ri_rows), Decimal(0))) / ri_hourly
                ),
            }
        )
        yield ri_fee
    billed_usage = sum(
        (r["line_item_unblended_cost"] for r in rows if r["line_item_line_item_type"] == "Usage"), Decimal(0)
    )
    discount = _base_row(day, prod, day_start, day_end)
    discount.update(
        {
            "line_item_line_item_type": "EdpDiscount",
            "line_item_line_item_description": "Enterprise Discount Program discount",
            "line_item_product_code": "AmazonEC2",
            "line_item_unblended_cost": -q(billed_usage * Decimal("0.03")),
            "discount": {"edp_discount": float(-q(billed_usage * Decimal("0.03")))},
        }
    )
    yield discount
    credit = _base_row(day, ACCOUNTS[2], day_start, day_end)
    credit.update(
        {
            "line_item_line_item_type": "Credit",
            "line_item_line_item_description": "AWS Activate credits",
            "line_item_product_code": "AmazonSageMaker",
            "line_item_unblended_cost": -q(Decimal(rng.randint(500, 1500)) / 100),
        }
    )
    yield credit
    if day.day == 2:
        refund = _base_row(day, ACCOUNTS[1], day_start, day_end)
        refund.update(
            {
                "bill_bill_type": "Refund",
                "line_item_line_item_type": "Refund",
                "line_item_line_item_description": "Refund for service disruption",
                "line_item_product_code": "AmazonRDS",
                "line_item_unblended_cost": Decimal("-42.50"),
            }
        )
        yield refund
    if day.day == 1:
        period_start, period_end = _period(day)
        for account in ACCOUNTS:
            tax = _base_row(day, account, period_start, period_end)
            tax.update(
                {
                    "line_item_line_item_type": "Tax",
                    "line_item_line_item_description": "Tax for product code AmazonEC2",
                    "line_item_product_code": "AmazonEC2",
                    "line_item_tax_type": "VAT",
                    "line_item_unblended_cost": q(Decimal(rng.randint(1000, 9000)) / 100),
                }
            )
            yield tax


SPIKE_DAY = 3  # the planted anomaly: on the 3rd of each month a runaway batch job of team ml


def _spike(day: date) -> Iterator[dict]:
    """125,000 x 1K tokens of Bedrock ($375.00) for team ml on one day: far above its trailing baseline."""
    bedrock = next(s for s in SERVICES if s.code == "AmazonBedrock")
    burst = Service(**{**bedrock.__dict__, "daily": (1250, 1250)})
    job = Resource(
        burst, ACCOUNTS[2], "bedrock-batch-demo-runaway", {"user:team": "ml", "user:env": "prod"}, Decimal(100), ""
    )
    return _usage_rows(day, job, random.Random(0))


def rows_for_day(seed: int, day: date, partial: bool = False) -> list[dict]:
    """The day's line items; ``partial``: only the hourly usage exported so far (no daily lines yet)."""
    rng = random.Random(f"{seed}-{day.isoformat()}")
    hours = partial_end(day).hour if partial else 24
    rows: list[dict] = []
    for resource in _resources(seed):
        rows.extend(_usage_rows(day, resource, rng, hours))
    if day.day == SPIKE_DAY and not partial:
        rows.extend(_spike(day))
    if not partial:
        rows.extend(_daily_extras(day, rows, rng))
    for index, row in enumerate(rows):
        row["identity_line_item_id"] = uuid.uuid5(uuid.NAMESPACE_URL, f"cloudcost-demo/{seed}/{day}/{index}").hex
    return rows


def _arrow_schema() -> pa.Schema:
    from cloudcost.schemas import load_table_schema

    text_map = pa.map_(pa.string(), pa.string())
    fields = []
    for column in load_table_schema("raw/aws_cur2.yml", with_lineage=False).columns:
        arrow_type: pa.DataType
        if column.name == "discount":
            arrow_type = pa.map_(pa.string(), pa.float64())
        elif column.type == "json":
            arrow_type = text_map
        elif column.type == "decimal":
            arrow_type = pa.float64()
        elif column.type == "timestamp":
            arrow_type = pa.timestamp("ms", tz="UTC")
        else:
            arrow_type = pa.string()
        fields.append(pa.field(column.name, arrow_type))
    return pa.schema(fields)


def _to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    columns = {}
    for field in schema:
        values = [row.get(field.name) for row in rows]
        if pa.types.is_floating(field.type):
            values = [None if v is None else float(v) for v in values]
        elif pa.types.is_map(field.type):
            values = [None if v is None else list(v.items()) for v in values]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)


ID_COLUMNS = ("identity_line_item_id", "line_item_resource_id")


def day_tables(seed: int, day: date, scale: int = 1, partial: bool = False) -> Iterator[pa.Table]:
    """The day's rows as ``scale`` replicas, one Arrow table each (memory: one day of the base rows)."""
    base = _to_table(rows_for_day(seed, day, partial), _arrow_schema())
    for replica in range(scale):
        yield relabel_table(base, replica, ID_COLUMNS)


def write_delivery(
    root: Path,
    days: list[date],
    seed: int = 7,
    prefix: str = "cur",
    export_name: str = "demo-cur2",
    scale: int = 1,
    incomplete_day: date | None = None,
) -> list[Path]:
    """Write one delivery per billing period covering ``days``; returns the manifest paths.

    Each manifest's modification time is the delivery's time (``cloudcost.demo.volume.delivered_at``):
    the sensor reads it as S3's LastModified."""
    check_incomplete_day(days, incomplete_day)
    schema = _arrow_schema()
    manifests = []
    by_period: dict[str, list[date]] = {}
    for day in sorted(days):
        by_period.setdefault(f"{day:%Y-%m}", []).append(day)
    for period, period_days in by_period.items():
        base = root / prefix / export_name
        data_dir = base / "data" / f"BILLING_PERIOD={period}"
        data_dir.mkdir(parents=True, exist_ok=True)
        for stale in data_dir.glob("*.parquet"):
            stale.unlink()
        data_file = data_dir / f"{export_name}-00001.snappy.parquet"
        with pq.ParquetWriter(data_file, schema, compression="snappy") as writer:
            for day in period_days:
                for table in day_tables(seed, day, scale, partial=day == incomplete_day):
                    writer.write_table(table)
        period_start, period_end = _period(period_days[0])
        key = data_file.relative_to(root).as_posix()
        manifest = {
            "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER[0]}:export/{export_name}-0c3e5d9a",
            "executionId": uuid.uuid5(
                uuid.NAMESPACE_URL, f"cloudcost-demo/{seed}/{period}/{len(period_days)}/{scale}/{incomplete_day}"
            ).hex,
            "billingPeriod": {
                "start": f"{period_start:%Y-%m-%dT%H:%M:%S.000Z}",
                "end": f"{period_end:%Y-%m-%dT%H:%M:%S.000Z}",
            },
            "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
            "dataFiles": [f"s3://demo-billing-exports/{key}"],
        }
        metadata_dir = base / "metadata" / f"BILLING_PERIOD={period}"
        metadata_dir.mkdir(parents=True, exist_ok=True)
        manifest_path = metadata_dir / f"{export_name}-Manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        stamp = delivered_at(period_days, incomplete_day if incomplete_day in period_days else None).timestamp()
        for path in (data_file, manifest_path):
            os.utime(path, (stamp, stamp))
        manifests.append(manifest_path)
    return manifests


def expected_billed_cost(days: list[date], seed: int = 7, scale: int = 1) -> dict[tuple[str, date], Decimal]:
    """Sum of line_item_unblended_cost per (payer account, usage-start day): the figure FOCUS must match."""
    totals: dict[tuple[str, date], Decimal] = {}
    for day in days:
        for row in rows_for_day(seed, day):
            usage_day = row["line_item_usage_start_date"].date()
            key = (row["bill_payer_account_id"], usage_day)
            totals[key] = totals.get(key, Decimal(0)) + row["line_item_unblended_cost"] * scale
    return totals
