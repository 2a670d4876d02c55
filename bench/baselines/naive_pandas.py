"""The naive alternative many teams write, done honestly: pandas, one Python function per row, row inserts.

1. read the whole export into one DataFrame (``read_parquet`` / ``read_csv``, every file at once);
2. ``DataFrame.apply(axis=1)``: a Python function per row maps the provider's columns to FOCUS 1.3,
   tags included (AWS's tag map, GCP's label lists, Azure's tag text, OCI's one-column-per-tag);
3. insert into the same FOCUS table (its DDL is the pipeline's, so the output is the same table):
   ``rowwise`` — ``executemany`` of one ``INSERT ... VALUES`` per row, in one transaction (the naive
   step as the issue describes it); ``bulk`` — the same naive code with only the insert fixed: the
   results as one typed Arrow table, one ``INSERT ... SELECT`` (a stronger baseline, so a ratio against
   it is conservative).

The per-row functions follow the procedures in ``procedures/sp_cloud_1_convert_to_focus/`` column by
column (same rows kept, split and dropped; same costs), reading the export's own column names and the
lookup CSVs as dicts. ``bench.py`` checks that the output has the same row count, BilledCost and
EffectiveCost as our pipeline's. Decimals are exact (``decimal.Decimal``) as in the warehouse. Unlike our
pipeline it lands no raw table, keeps no lineage beyond the FOCUS columns and reads each file once (not
once per billing day): less work than ours, which also favours it.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import chain
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cloudcost.paths import config_dir
from cloudcost.schemas import duckdb_create_table, focus_schema

Q = Decimal("0.0000000001")
ZERO = Decimal(0)
TABLE = "demo_prod.cost_data_standard_1_3"
ARROW_TYPES = {
    "string": pa.string(),
    "json": pa.string(),
    "decimal": pa.decimal128(38, 10),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
}
LINEAGE = {
    "x_pipeline_id": "naive-pandas",
    "x_credential_id": "none",
    "x_run_id": "naive",
}


# ---------------------------------------------------------------- value helpers (NULL semantics as SQL's)


def text(value: object) -> str | None:
    """A string cell: trimmed, empty -> None (what the pipeline's ``nullif(trim(x), '')`` does)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = str(value).strip()
    return value or None


def money(value: object) -> Decimal | None:
    """A number cell (double from Parquet, text from CSV) as DECIMAL(38,10)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value)).quantize(Q)
    value = str(value).strip()
    if not value:
        return None
    try:
        return Decimal(value).quantize(Q)
    except InvalidOperation:
        return None


def q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Q)


def mul(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else (a * b).quantize(Q)


def div(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None or b == 0 else (a / b).quantize(Q)


def timestamp(value: object) -> datetime | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def parse_time(value: object, formats: tuple[str, ...]) -> datetime | None:
    value = text(value)
    if value is None:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def first_of_month(moment: datetime, months: int = 0) -> datetime:
    month = moment.month - 1 + months
    return datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def tags_json(pairs: dict[str, object]) -> str | None:
    return json.dumps(pairs, separators=(",", ":")) if pairs else None


def lookup(name: str, key: str, *, lower: bool = False) -> dict[str, dict]:
    """``configs/lookups/<name>.csv`` as ``{key: row}`` (first row wins); empty when the file is absent."""
    path = config_dir() / "lookups" / f"{name}.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    table: dict[str, dict] = {}
    for row in frame.to_dict("records"):
        value = row[key].lower() if lower else row[key]
        table.setdefault(value, {k: (v or None) for k, v in row.items()})
    return table


# ---------------------------------------------------------------- AWS CUR 2.0 (procedure aws_cur2.sql)

AWS_CREDIT_TYPES = {"Credit", "EdpDiscount", "BundledDiscount", "PrivateRateDiscount", "SppDiscount", "Discount"}


def aws_converter() -> Callable[[pd.Series], list[dict]]:
    services = lookup("aws_services", "product_code")
    regions = lookup("aws_regions", "region_code")
    units = lookup("aws_pricing_units", "aws_unit")

    def convert(r: pd.Series) -> list[dict]:
        line_type = text(r["line_item_line_item_type"])
        if line_type == "SavingsPlanNegation":
            return []
        period_start = timestamp(r["bill_billing_period_start_date"])
        period_end = timestamp(r["bill_billing_period_end_date"])
        start = timestamp(r["line_item_usage_start_date"])
        day = min(max(start.date(), period_start.date()), period_end.date() - timedelta(days=1))
        product = dict(r["product"]) if r["product"] is not None else {}
        tags = dict(r["resource_tags"]) if r["resource_tags"] is not None else {}
        sp_arn = text(r["savings_plan_savings_plan_a_r_n"])
        ri_arn = text(r["reservation_reservation_a_r_n"])
        product_code = text(r["line_item_product_code"])
        region_code = text(r["product_region_code"])
        pricing_unit = text(r["pricing_unit"])
        v = {
            "line_item_id": text(r["identity_line_item_id"]),
            "line_item_type": line_type,
            "description": text(r["line_item_line_item_description"]),
            "resource_id": text(r["line_item_resource_id"]),
            "unblended_cost": money(r["line_item_unblended_cost"]),
            "unblended_rate": money(r["line_item_unblended_rate"]),
            "public_on_demand_cost": money(r["pricing_public_on_demand_cost"]),
            "public_on_demand_rate": money(r["pricing_public_on_demand_rate"]),
            "usage_amount": money(r["line_item_usage_amount"]),
        }
        sku_price_id = text(r["pricing_rate_code"]) or text(r["pricing_rate_id"])
        if line_type == "Tax":
            category = "Tax"
        elif line_type in ("Fee", "RIFee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee"):
            category = "Purchase"
        elif line_type in AWS_CREDIT_TYPES:
            category = "Credit"
        elif line_type == "Refund":
            category = "Adjustment"
        else:
            category = "Usage"
        if sp_arn is not None or line_type.startswith("SavingsPlan"):
            commitment_type = "Savings Plan"
        elif ri_arn is not None or line_type in ("DiscountedUsage", "RIFee"):
            commitment_type = "Reserved Instance"
        else:
            commitment_type = None
        commitment_id = sp_arn or ri_arn
        sp_effective = money(r["savings_plan_savings_plan_effective_cost"])
        ri_effective = money(r["reservation_effective_cost"])
        ri_unused_quantity = money(r["reservation_unused_quantity"])
        if line_type == "SavingsPlanRecurringFee":
            unused_cost = (money(r["savings_plan_total_commitment_to_date"]) or ZERO) - (
                money(r["savings_plan_used_commitment"]) or ZERO
            )
        elif line_type == "RIFee":
            unused_cost = (money(r["reservation_unused_amortized_upfront_fee_for_billing_period"]) or ZERO) + (
                money(r["reservation_unused_recurring_fee"]) or ZERO
            )
        else:
            unused_cost = ZERO
        service = services.get(product_code or "", {})
        billing_entity = text(r["bill_billing_entity"])
        legal_entity = text(r["line_item_legal_entity"])
        publisher = legal_entity if billing_entity == "AWS Marketplace" else "AWS"
        common = {
            "AvailabilityZone": text(r["line_item_availability_zone"]),
            "BillingAccountId": text(r["bill_payer_account_id"]),
            "BillingAccountName": text(r["bill_payer_account_name"]),
            "BillingCurrency": text(r["line_item_currency_code"]),
            "BillingPeriodEnd": period_end,
            "BillingPeriodStart": period_start,
            "ChargeClass": "Correction" if start < period_start else None,
            "ChargePeriodEnd": timestamp(r["line_item_usage_end_date"]),
            "ChargePeriodStart": start,
            "CommitmentDiscountCategory": {"Savings Plan": "Spend", "Reserved Instance": "Usage"}.get(
                commitment_type or ""
            ),
            "CommitmentDiscountId": commitment_id,
            "CommitmentDiscountType": commitment_type,
            "HostProviderName": "AWS",
            "InvoiceId": text(r["bill_invoice_id"]),
            "InvoiceIssuerName": text(r["bill_invoicing_entity"]) or legal_entity,
            "ProviderName": "AWS",
            "PublisherName": publisher,
            "RegionId": region_code,
            "RegionName": regions.get(region_code or "", {}).get("region_name"),
            "ServiceProviderName": publisher,
            "ServiceCategory": service.get("service_category") or "Other",
            "ServiceName": service.get("service_name") or product.get("product_name") or product_code,
            "ServiceSubcategory": service.get("service_subcategory") or "Other (Other)",
            "SkuId": text(r["product_sku"]),
            "SkuMeter": text(r["line_item_usage_type"]) if text(r["product_sku"]) else None,
            "SkuPriceId": sku_price_id,
            "SubAccountId": text(r["line_item_usage_account_id"]),
            "SubAccountName": text(r["line_item_usage_account_name"]),
            "Tags": tags_json(tags),
            "x_ServiceCode": product_code,
            "x_UsageType": text(r["line_item_usage_type"]),
            "x_Operation": text(r["line_item_operation"]),
            "x_cloud_provider": "aws",
            "x_ingestion_date": day,
            "x_source_format": "cur2",
            "x_pipeline_run_date": day,
        }
        focus_unit = (units.get(pricing_unit or "", {}).get("focus_unit")) or pricing_unit
        pricing_term, purchase_option = text(r["pricing_term"]), text(r["pricing_purchase_option"])
        product_family = text(r["product_product_family"])

        def row(values: dict, line: str, charge: str) -> dict:
            covered = line in ("SavingsPlanCoveredUsage", "DiscountedUsage")
            priced = sku_price_id is not None and commitment_id is not None and charge in ("Usage", "Purchase")
            if not priced:
                quantity = None
            elif line == "SavingsPlanCoveredUsage":
                quantity = sp_effective or ZERO
            elif line in ("SavingsPlanUpfrontFee", "SavingsPlanRecurringFee"):
                quantity = values["unblended_cost"]
            elif line in ("DiscountedUsage", "RIFee"):
                quantity = values["usage_amount"]
            elif line == "UnusedCommitment" and commitment_type == "Savings Plan":
                quantity = unused_cost
            elif line == "UnusedCommitment":
                quantity = ri_unused_quantity
            else:
                quantity = None
            if line == "SavingsPlanCoveredUsage":
                effective = sp_effective or ZERO
            elif line == "DiscountedUsage":
                effective = ri_effective or ZERO
            elif line == "UnusedCommitment":
                effective = unused_cost
            elif line in ("SavingsPlanRecurringFee", "RIFee", "SavingsPlanUpfrontFee") or (
                line == "Fee" and ri_arn is not None
            ):
                effective = ZERO
            else:
                effective = values["unblended_cost"]
            if sku_price_id is None or charge not in ("Usage", "Purchase"):
                pricing = None
            elif charge == "Purchase":
                pricing = "Standard"
            elif covered or pricing_term == "Reserved" or line == "UnusedCommitment":
                pricing = "Committed"
            elif pricing_term == "Spot" or purchase_option == "Spot":
                pricing = "Dynamic"
            elif pricing_term == "OnDemand":
                pricing = "Standard"
            else:
                pricing = "Other"
            consumed = charge == "Usage" and sku_price_id is not None and line != "UnusedCommitment"
            priced_row = charge in ("Usage", "Purchase") and sku_price_id is not None
            resource = values["resource_id"]
            if charge == "Purchase":
                resource = resource or commitment_id
            return {
                **common,
                "BilledCost": ZERO if line == "SavingsPlanCoveredUsage" else values["unblended_cost"],
                "ChargeCategory": charge,
                "ChargeDescription": values["description"],
                "ChargeFrequency": "Usage-Based"
                if charge == "Usage"
                else "Recurring"
                if line in ("RIFee", "SavingsPlanRecurringFee") or charge == "Tax"
                else "One-Time",
                "CommitmentDiscountQuantity": quantity,
                "CommitmentDiscountStatus": "Used" if covered else "Unused" if line == "UnusedCommitment" else None,
                "CommitmentDiscountUnit": None
                if not priced
                else common["BillingCurrency"]
                if commitment_type == "Savings Plan"
                else "Hours",
                "ConsumedQuantity": values["usage_amount"] if consumed else None,
                "ConsumedUnit": focus_unit if consumed else None,
                "ContractedCost": (values["public_on_demand_cost"] or ZERO)
                if line in ("DiscountedUsage", "UnusedCommitment")
                else values["unblended_cost"],
                "ContractedUnitPrice": None
                if sku_price_id is None
                else values["public_on_demand_rate"]
                if line == "DiscountedUsage"
                else values["unblended_rate"]
                if charge in ("Usage", "Purchase")
                else None,
                "EffectiveCost": effective,
                "ListCost": values["public_on_demand_cost"]
                if values["public_on_demand_cost"] is not None
                else values["unblended_cost"],
                "ListUnitPrice": None
                if sku_price_id is None
                else values["public_on_demand_rate"]
                if charge == "Usage"
                else values["unblended_rate"]
                if charge == "Purchase"
                else None,
                "PricingCategory": pricing,
                "PricingQuantity": values["usage_amount"] if priced_row else None,
                "PricingUnit": focus_unit if priced_row else None,
                "ResourceId": resource,
                "ResourceType": (product_family or commitment_type)
                if values["resource_id"] is not None or (charge == "Purchase" and commitment_id is not None)
                else None,
                "x_source_line_item_id": values["line_item_id"],
            }

        out = [row(v, line_type, category)]
        if line_type in ("RIFee", "SavingsPlanRecurringFee") and unused_cost > 0:
            if commitment_type == "Reserved Instance" and ri_unused_quantity is not None:
                unused_quantity = ri_unused_quantity
            else:
                unused_quantity = div(unused_cost, v["unblended_rate"])
            unused = v | {
                "line_item_id": f"{v['line_item_id']}#unused",
                "description": "Unused commitment: " + (v["description"] or commitment_id or ""),
                "resource_id": commitment_id,
                "unblended_cost": ZERO,
                "public_on_demand_cost": mul(unused_quantity, v["unblended_rate"]),
                "public_on_demand_rate": v["unblended_rate"],
                "usage_amount": unused_quantity,
            }
            out.append(row(unused, "UnusedCommitment", "Usage"))
        return out

    return convert


# ---------------------------------------------------------------- GCP detailed export (gcp_detailed.sql)

GCP_RESOURCE_HOST = re.compile(r"^//([^/]+)/")
GCP_RESOURCE_COLLECTION = re.compile(r"/([^/]+)/[^/]+$")


def _field(record: object, name: str) -> object:
    return record.get(name) if isinstance(record, dict) else None


def _pairs(items: object) -> dict[str, object]:
    if items is None:
        return {}
    return {item["key"]: item["value"] for item in items}


def gcp_converter() -> Callable[[pd.Series], list[dict]]:
    services = lookup("gcp_services", "service_description")
    regions = lookup("gcp_regions", "region_code")
    units = lookup("gcp_pricing_units", "gcp_unit")

    def convert(r: pd.Series) -> list[dict]:
        start = timestamp(r["usage_start_time"])
        usage, sku, project = r["usage"], r["sku"], r["project"]
        credits = list(r["credits"]) if r["credits"] is not None else []
        credits_total = sum((money(c["amount"]) or ZERO for c in credits), ZERO)
        covered = any(str(c["type"] or "").startswith("COMMITTED_USAGE_DISCOUNT") for c in credits)
        month = datetime.strptime(text(_field(r["invoice"], "month")), "%Y%m").replace(tzinfo=UTC)
        cost_type, sku_description = text(r["cost_type"]), text(_field(sku, "description"))
        if cost_type == "tax":
            category = "Tax"
        elif cost_type in ("adjustment", "rounding_error"):
            category = "Adjustment"
        elif (sku_description or "").lower().startswith("commitment"):
            category = "Purchase"
        else:
            category = "Usage"
        adjustment = r.get("adjustment_info")
        sku_id = text(_field(sku, "id"))
        sku_price_id = sku_id if category in ("Usage", "Purchase") and adjustment is None else None
        seller = text(r.get("seller_name"))
        marketplace = seller is not None and str(r.get("transaction_type") or "").upper().startswith("THIRD_PARTY")
        service_description = text(_field(r["service"], "description"))
        region = text(_field(r["location"], "region"))
        region = region.lower() if region else None
        cost = money(r["cost"])
        pricing_unit, usage_unit = text(_field(usage, "pricing_unit")), text(_field(usage, "unit"))
        in_pricing_units = money(_field(usage, "amount_in_pricing_units"))
        price = money(_field(r.get("price"), "effective_price"))
        unit_price = price if price is not None else div(cost, in_pricing_units)
        global_name = text(_field(r["resource"], "global_name"))
        resource_type = None
        if global_name is not None:
            host = GCP_RESOURCE_HOST.search(global_name)
            collection = GCP_RESOURCE_COLLECTION.search(global_name)
            if host and host.group(1) and collection and collection.group(1):
                resource_type = f"{host.group(1)}/{collection.group(1)}"
            else:
                bare = re.search(r"^//([^/]+)", global_name)
                resource_type = bare.group(1) if bare and bare.group(1) else service_description
        labels = _pairs(_field(project, "labels")) | _pairs(r["labels"])
        service = services.get(service_description or "", {})
        spot = (sku_description or "").lower()
        if sku_price_id is None:
            pricing = None
        elif category == "Purchase":
            pricing = "Standard"
        elif covered:
            pricing = "Committed"
        elif "spot" in spot or "preemptible" in spot:
            pricing = "Dynamic"
        else:
            pricing = "Standard"
        consumed = category == "Usage" and sku_price_id is not None
        day = start.date()
        return [
            {
                "AvailabilityZone": text(_field(r["location"], "zone")),
                "BilledCost": cost,
                "BillingAccountId": text(r["billing_account_id"]),
                "BillingCurrency": text(r["currency"]),
                "BillingPeriodEnd": first_of_month(month, 1),
                "BillingPeriodStart": month,
                "ChargeCategory": category,
                "ChargeClass": "Correction" if adjustment is not None else None,
                "ChargeDescription": sku_description,
                "ChargeFrequency": "Usage-Based"
                if category == "Usage"
                else "Recurring"
                if category in ("Purchase", "Tax")
                else "One-Time",
                "ChargePeriodEnd": timestamp(r["usage_end_time"]),
                "ChargePeriodStart": start,
                "ConsumedQuantity": money(_field(usage, "amount")) if consumed else None,
                "ConsumedUnit": (units.get(usage_unit or "", {}).get("focus_unit") or usage_unit) if consumed else None,
                "ContractedCost": cost,
                "ContractedUnitPrice": unit_price if sku_price_id is not None else None,
                "EffectiveCost": cost + credits_total,
                "HostProviderName": "Google Cloud",
                "InvoiceIssuerName": "Google",
                "ListCost": money(r["cost_at_list"]) if money(r["cost_at_list"]) is not None else cost,
                "PricingCategory": pricing,
                "PricingQuantity": in_pricing_units if sku_price_id is not None else None,
                "PricingUnit": (units.get(pricing_unit or "", {}).get("focus_unit") or pricing_unit)
                if sku_price_id is not None
                else None,
                "ProviderName": "Google Cloud",
                "PublisherName": seller if marketplace else "Google Cloud",
                "RegionId": region,
                "RegionName": regions.get(region or "", {}).get("region_name"),
                "ResourceId": global_name,
                "ResourceName": text(_field(r["resource"], "name")),
                "ResourceType": resource_type,
                "ServiceProviderName": seller if marketplace else "Google Cloud",
                "ServiceCategory": service.get("service_category") or "Other",
                "ServiceName": service_description,
                "ServiceSubcategory": service.get("service_subcategory") or "Other (Other)",
                "SkuId": sku_id if category != "Tax" else None,
                "SkuMeter": sku_description if category != "Tax" and sku_id is not None else None,
                "SkuPriceId": sku_price_id,
                "SubAccountId": text(_field(project, "id")),
                "SubAccountName": text(_field(project, "name")),
                "Tags": tags_json(labels),
                "x_ServiceCode": text(_field(r["service"], "id")),
                "x_UsageType": sku_id,
                "x_Credits": json.dumps([dict(c) for c in credits], separators=(",", ":")) if credits else None,
                "x_cloud_provider": "gcp",
                "x_ingestion_date": day,
                "x_source_format": "detailed",
                "x_pipeline_run_date": day,
            }
        ]

    return convert


# ---------------------------------------------------------------- Azure cost details (azure_cost_details.sql)

AZURE_DATES = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
AZURE_PROVIDER = re.compile(r"/providers/([^/]+/[^/]+)")


def azure_converter() -> Callable[[pd.Series], list[dict]]:
    regions = lookup("azure_regions", "OriginalValue")
    units = lookup("azure_pricing_units", "UnitOfMeasure")
    by_type: dict[str, dict] = {}  # the procedure's two de-duplicated views of the services lookup
    by_name: dict[tuple[str, str], dict] = {}
    path = config_dir() / "lookups" / "azure_services.csv"
    if path.exists():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for row in sorted(frame.to_dict("records"), key=lambda x: (x["ConsumedService"], x["ResourceType"])):
            by_type.setdefault(row["ResourceType"].lower(), row)
        for row in sorted(frame.to_dict("records"), key=lambda x: x["ResourceType"]):
            by_name.setdefault((row["ConsumedService"].lower(), row["ServiceName"]), row)

    def col(r: pd.Series, *names: str) -> str | None:
        for name in names:
            if name in r.index:
                return text(r[name])
        return None

    def convert(r: pd.Series) -> list[dict]:
        dataset = r["x_cost_dataset"]
        charge_type = col(r, "ChargeType")
        commitment_id = col(r, "benefitId") or col(r, "ReservationId")
        purchase = charge_type in ("Purchase", "Refund") and commitment_id is not None
        if (dataset == "amortized" and purchase) or (dataset == "actual" and not purchase):
            return []
        period_start = parse_time(col(r, "BillingPeriodStartDate"), AZURE_DATES)
        period_end = parse_time(col(r, "BillingPeriodEndDate"), AZURE_DATES)
        charged = parse_time(col(r, "Date", "UsageDateTime"), AZURE_DATES)
        day = min(max(charged.date(), period_start.date()), period_end.date())
        resource_id = col(r, "ResourceId", "InstanceName")
        match = AZURE_PROVIDER.search(resource_id or "")
        resource_type = match.group(1).lower() if match and match.group(1) else None
        commitment_match = AZURE_PROVIDER.search(commitment_id or "")
        service_type = resource_type or (commitment_match.group(1).lower() if commitment_match else None)
        consumed_service = col(r, "ConsumedService")
        meter_category = col(r, "MeterCategory")
        service = by_type.get(service_type or "") or by_name.get(((consumed_service or "").lower(), meter_category))
        service = service or {}
        location = col(r, "ResourceLocation", "Location")
        region = regions.get((location or "").lower(), {})
        unit_of_measure = col(r, "UnitOfMeasure")
        unit = units.get(unit_of_measure or "", {})
        block = money(unit.get("PricingBlockSize"))
        distinct_unit = unit.get("DistinctUnits")
        if charge_type == "Purchase":
            category = "Purchase"
        elif charge_type == "Tax":
            category = "Tax"
        elif charge_type == "Refund":
            category = "Purchase" if purchase else "Adjustment"
        elif charge_type == "Credit":
            category = "Credit"
        else:
            category = "Usage"
        pricing_model = col(r, "PricingModel")
        commitment_usage = pricing_model in ("Reservation", "SavingsPlan") and charge_type in (
            "Usage",
            "UnusedReservation",
            "UnusedSavingsPlan",
        )
        unused = charge_type in ("UnusedReservation", "UnusedSavingsPlan")
        meter_id, term = col(r, "MeterId"), col(r, "Term")
        if meter_id is None or category not in ("Usage", "Purchase") or charge_type == "Refund":
            sku_price_id = None
        elif purchase:
            sku_price_id = f"{meter_id}_{pricing_model or 'Purchase'}" + (f"_{term}" if term else "")
        else:
            sku_price_id = meter_id
        if block is not None and block > 1:
            pricing_unit = f"{int(block)} {distinct_unit}" if distinct_unit is not None else None
        else:
            pricing_unit = distinct_unit or unit_of_measure
        quantity, cost = money(col(r, "Quantity")), money(col(r, "CostInBillingCurrency", "Cost", "PreTaxCost"))
        unit_price, payg = money(col(r, "UnitPrice")), money(col(r, "PayGPrice"))
        list_unit_price = payg if payg not in (None, ZERO) else unit_price
        savings_plan = pricing_model == "SavingsPlan" or "savingsplan" in (commitment_id or "").lower()
        currency = col(r, "BillingCurrency", "BillingCurrencyCode", "Currency")
        consumed = category == "Usage" and sku_price_id is not None and not unused
        frequency = col(r, "Frequency")
        tags = col(r, "Tags")
        if tags is not None and not tags.startswith(("{", "[")):
            tags = "{" + tags + "}"
        if tags is not None:
            json.loads(tags)  # the warehouse's JSON cast validates it; the text itself is kept, as there
            tags = None if tags in ("{}", "null") else tags
        publisher_name = col(r, "PublisherName")
        return [
            {
                "AvailabilityZone": col(r, "AvailabilityZone"),
                "BilledCost": ZERO if commitment_usage else cost,
                "BillingAccountId": col(r, "BillingAccountId"),
                "BillingAccountName": col(r, "BillingAccountName"),
                "BillingCurrency": currency,
                "BillingPeriodEnd": period_end + timedelta(days=1),
                "BillingPeriodStart": period_start,
                "ChargeCategory": category,
                "ChargeClass": "Correction" if charge_type == "Refund" else None,
                "ChargeDescription": col(r, "MeterName") or col(r, "ProductName", "Product"),
                "ChargeFrequency": {"UsageBased": "Usage-Based", "OneTime": "One-Time", "Recurring": "Recurring"}.get(
                    frequency or "", "Usage-Based" if category == "Usage" else "One-Time"
                ),
                "ChargePeriodEnd": charged + timedelta(days=1),
                "ChargePeriodStart": charged,
                "CommitmentDiscountCategory": None if commitment_id is None else "Spend" if savings_plan else "Usage",
                "CommitmentDiscountId": commitment_id,
                "CommitmentDiscountName": col(r, "benefitName") or col(r, "ReservationName"),
                "CommitmentDiscountQuantity": None
                if sku_price_id is None or commitment_id is None
                else cost
                if savings_plan
                else mul(quantity, block or Decimal(1)),
                "CommitmentDiscountStatus": "Unused" if unused else "Used" if commitment_usage else None,
                "CommitmentDiscountType": None
                if commitment_id is None
                else "Savings Plan"
                if savings_plan
                else "Reservation",
                "CommitmentDiscountUnit": None
                if sku_price_id is None or commitment_id is None
                else currency
                if savings_plan
                else distinct_unit or unit_of_measure,
                "ConsumedQuantity": mul(quantity, block or Decimal(1)) if consumed else None,
                "ConsumedUnit": (distinct_unit or unit_of_measure) if consumed else None,
                "ContractedCost": mul(unit_price, quantity)
                if sku_price_id is not None and unit_price is not None
                else cost,
                "ContractedUnitPrice": unit_price if sku_price_id is not None else None,
                "EffectiveCost": ZERO if purchase else cost,
                "HostProviderName": "Microsoft",
                "InvoiceId": col(r, "InvoiceId"),
                "InvoiceIssuerName": "Microsoft",
                "ListCost": mul(list_unit_price, quantity)
                if sku_price_id is not None and list_unit_price is not None
                else cost,
                "ListUnitPrice": list_unit_price if sku_price_id is not None else None,
                "PricingCategory": None
                if sku_price_id is None
                else "Standard"
                if category == "Purchase"
                else "Committed"
                if pricing_model in ("Reservation", "SavingsPlan")
                else "Dynamic"
                if pricing_model == "Spot"
                else "Standard"
                if pricing_model == "OnDemand"
                else "Other",
                "PricingQuantity": quantity if sku_price_id is not None else None,
                "PricingUnit": pricing_unit if sku_price_id is not None else None,
                "ProviderName": "Microsoft",
                "PublisherName": publisher_name or "Microsoft",
                "RegionId": region.get("RegionId") or (location.lower() if location else None),
                "RegionName": region.get("RegionName") or location,
                "ResourceId": resource_id,
                "ResourceName": col(r, "ResourceName"),
                "ResourceType": resource_type,
                "ServiceProviderName": publisher_name if col(r, "PublisherType") == "Marketplace" else "Microsoft",
                "ServiceCategory": service.get("ServiceCategory") or "Other",
                "ServiceName": service.get("ServiceName") or meter_category or consumed_service or "Unknown",
                "ServiceSubcategory": service.get("ServiceSubcategory") or "Other (Other)",
                "SkuId": meter_id if category != "Tax" else None,
                "SkuMeter": col(r, "MeterName") if category != "Tax" and meter_id is not None else None,
                "SkuPriceId": sku_price_id,
                "SubAccountId": col(r, "SubscriptionId", "SubscriptionGuid"),
                "SubAccountName": col(r, "SubscriptionName"),
                "Tags": tags,
                "x_ServiceCode": consumed_service,
                "x_UsageType": col(r, "MeterSubCategory"),
                "x_Operation": charge_type,
                "x_cloud_provider": "azure",
                "x_ingestion_date": day,
                "x_source_format": "cost_details",
                "x_pipeline_run_date": day,
            }
        ]

    return convert


# ---------------------------------------------------------------- OCI cost reports (oci_cost_report.sql)

OCI_TIMES = ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ")


def oci_converter(frame: pd.DataFrame) -> Callable[[pd.Series], list[dict]]:
    services = lookup("oci_services", "service")
    regions = lookup("oci_regions", "region_code")
    units = lookup("oci_pricing_units", "oci_unit")
    tag_columns = [c for c in frame.columns if c.startswith("tags/") and len(c) > len("tags/")]
    # a zero-cost row may leave its currency empty: it takes the tenancy's (the procedure's window max)
    currencies = (
        frame.loc[frame["cost/currencyCode"].str.strip() != ""].groupby("lineItem/tenantId")["cost/currencyCode"].max()
    )

    def convert(r: pd.Series) -> list[dict]:
        start = parse_time(r["lineItem/intervalUsageStart"], OCI_TIMES)
        correction = (text(r.get("lineItem/isCorrection")) or "false").lower() == "true"
        sku = text(r["cost/productSku"])
        sku_price_id = None if correction else sku
        service_code, region = text(r["product/service"]), text(r["product/region"])
        resource_id = text(r["product/resourceId"])
        unit_description = text(r["cost/skuUnitDescription"])
        focus_unit = units.get(unit_description or "", {}).get("focus_unit") or unit_description
        service = services.get(service_code or "", {})
        tags = {c[len("tags/") :]: text(r[c]) for c in tag_columns if text(r[c]) is not None}
        cost = money(r["cost/myCost"])
        tenant = text(r["lineItem/tenantId"])
        quantity = money(r["usage/billedQuantity"])
        if resource_id is not None and resource_id.startswith("ocid1."):
            resource_type = resource_id.split(".")[1]
        else:
            resource_type = service_code.lower() if resource_id is not None and service_code else None
        description = text(r["product/Description"])
        day = start.date()
        return [
            {
                "AvailabilityZone": text(r["product/availabilityDomain"]),
                "BilledCost": cost,
                "BillingAccountId": tenant,
                "BillingCurrency": text(r["cost/currencyCode"]) or currencies.get(tenant),
                "BillingPeriodEnd": first_of_month(start, 1),
                "BillingPeriodStart": first_of_month(start),
                "ChargeCategory": "Usage",
                "ChargeClass": "Correction" if correction else None,
                "ChargeDescription": description,
                "ChargeFrequency": "Usage-Based",
                "ChargePeriodEnd": parse_time(r["lineItem/intervalUsageEnd"], OCI_TIMES),
                "ChargePeriodStart": start,
                "ConsumedQuantity": quantity if sku_price_id is not None else None,
                "ConsumedUnit": focus_unit if sku_price_id is not None else None,
                "ContractedCost": cost,
                "ContractedUnitPrice": money(r["cost/unitPrice"]) if sku_price_id is not None else None,
                "EffectiveCost": cost,
                "HostProviderName": "Oracle",
                "InvoiceIssuerName": "Oracle",
                "ListCost": cost,
                "PricingCategory": "Standard" if sku_price_id is not None else None,
                "PricingQuantity": quantity if sku_price_id is not None else None,
                "PricingUnit": focus_unit if sku_price_id is not None else None,
                "ProviderName": "Oracle",
                "PublisherName": "Oracle",
                "RegionId": region,
                "RegionName": regions.get(region or "", {}).get("region_name"),
                "ResourceId": resource_id,
                "ResourceType": resource_type,
                "ServiceProviderName": "Oracle",
                "ServiceCategory": service.get("service_category") or "Other",
                "ServiceName": service.get("service_name") or service_code,
                "ServiceSubcategory": service.get("service_subcategory") or "Other (Other)",
                "SkuId": sku,
                "SkuMeter": description if sku is not None else None,
                "SkuPriceId": sku_price_id,
                "SubAccountId": text(r["product/compartmentId"]),
                "SubAccountName": text(r["product/compartmentName"]),
                "Tags": tags_json(tags),
                "x_ServiceCode": service_code,
                "x_UsageType": sku,
                "x_cloud_provider": "oci",
                "x_ingestion_date": day,
                "x_source_format": "cost_report",
                "x_source_line_item_id": text(r["lineItem/referenceNo"]),
                "x_pipeline_run_date": day,
            }
        ]

    return convert


# ---------------------------------------------------------------- the three naive steps


def read_export(provider: str, files: object) -> pd.DataFrame:
    """Step 1: the whole export in memory, as one DataFrame."""
    if provider in ("aws", "gcp"):
        return pd.concat([pd.read_parquet(p) for p in files.main], ignore_index=True)  # type: ignore[attr-defined]
    frames = []
    for dataset, paths in (("amortized", files.main), ("actual", files.companion)):  # type: ignore[attr-defined]
        for path in paths:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if provider == "azure":
                frame["x_cost_dataset"] = dataset
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def converter(provider: str, frame: pd.DataFrame) -> Callable[[pd.Series], list[dict]]:
    if provider == "aws":
        return aws_converter()
    if provider == "gcp":
        return gcp_converter()
    if provider == "azure":
        return azure_converter()
    if provider == "oci":
        return oci_converter(frame)
    raise ValueError(f"unknown provider {provider}")


def insert(rows: list[dict], out: Path, mode: str) -> None:
    """Step 3: into a fresh DuckDB file, the FOCUS table created by the pipeline's own DDL."""
    import duckdb

    focus = focus_schema()
    names = focus.column_names
    ingested_at = datetime.now(UTC)
    defaults = {**dict.fromkeys(names), **LINEAGE, "x_ingested_at": ingested_at}
    values = [tuple(row.get(n, defaults[n]) for n in names) for row in rows]
    con = duckdb.connect(str(out))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("create schema if not exists demo_prod")
        con.execute(duckdb_create_table(focus, TABLE))
        columns = ", ".join(f'"{n}"' for n in names)
        con.execute("BEGIN TRANSACTION")
        if mode == "rowwise":
            con.executemany(f"insert into {TABLE} ({columns}) values ({', '.join('?' * len(names))})", values)
        else:
            # typed columns (exact decimals: a DataFrame of Decimal objects would be sampled for its width)
            arrow = pa.table(
                {
                    n: pa.array([v[i] for v in values], type=ARROW_TYPES[c.type])
                    for i, (n, c) in enumerate(zip(names, focus.columns, strict=True))
                }
            )
            con.register("naive_focus_rows", arrow)
            con.execute(f"insert into {TABLE} ({columns}) select {columns} from naive_focus_rows")
            con.unregister("naive_focus_rows")
        con.execute("COMMIT")
    finally:
        con.close()


def run(provider: str, files: object, out: Path, mode: str = "bulk") -> dict:
    """Read, apply, insert; returns the time of each step (``work_s`` is their sum)."""
    started = time.perf_counter()
    frame = read_export(provider, files)
    read = time.perf_counter()
    convert = converter(provider, frame)
    rows = list(chain.from_iterable(frame.apply(convert, axis=1)))
    applied = time.perf_counter()
    insert(rows, out, mode)
    done = time.perf_counter()
    return {
        "work_s": done - started,
        "read_s": read - started,
        "apply_s": applied - read,
        "insert_s": done - applied,
        "rows_read": len(frame),
        "rows_written": len(rows),
    }
