"""GCP detailed export -> FOCUS 1.3: real koku samples (Apache-2.0) and the demo generator's rows."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from cloudcost.config import load_org_by_slug
from cloudcost.demo.gcp_detailed import expected_billed_cost, write_export
from cloudcost.paths import landing_dir
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw
from cloudcost.sources.registry import open_export
from tests.helpers import focus_rows, koku_gcp_row, write_gcp_export

TABLE = "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9"

pytestmark = pytest.mark.usefixtures("demo_credentials")


def _run(day: date) -> dict:
    run = make_run_context(
        "demo", "gcp", day, "test__run", "cloud_gcp_cost_billing", day, datetime(2026, 11, 23, tzinfo=UTC)
    )
    landed = run_land_raw(run)
    run_convert_to_focus(run)
    run_checks(run)  # raises if BilledCost does not reconcile or a FOCUS rule breaks
    return landed


def _no_lag(config_dir: Path) -> None:
    path = config_dir / "cloud" / "gcp" / "cost" / "billing.yml"
    config = yaml.safe_load(path.read_text())
    config["completeness"]["export_lag_hours"] = 0
    path.write_text(yaml.safe_dump(config))


def test_koku_resource_export(data_dir: Path, config_dir: Path, shared_reference: Path) -> None:
    _no_lag(config_dir)
    with (shared_reference / "gcp" / "koku_gcp_resource_export_flattened_2022-08-01.csv").open(newline="") as f:
        source = [koku_gcp_row(r) for r in csv.DictReader(f)]
    write_gcp_export(landing_dir("demo", "gcp"), source, "billing_export", TABLE)
    landed = _run(date(2022, 8, 1))
    assert landed["rows"] == len(source)
    focus = focus_rows("gcp")
    assert len(focus) == len(source)
    assert sum(r["BilledCost"] for r in focus) == sum(Decimal(r["cost"]) for r in source)
    row = focus[0]
    assert (row["ServiceName"], row["ServiceCategory"], row["ServiceSubcategory"]) == (
        "Compute Engine",
        "Compute",
        "Virtual Machines",
    )
    assert row["BillingPeriodStart"] == datetime(2022, 8, 1, tzinfo=UTC)
    assert row["BillingPeriodEnd"] == datetime(2022, 9, 1, tzinfo=UTC)  # exclusive end
    assert row["SubAccountId"] == "cloud-billing-292519" and row["ResourceName"] == "instance-1"
    assert {r["ChargeCategory"] for r in focus} == {"Usage"}


def test_koku_standard_export_credits_and_watermark(data_dir: Path, config_dir: Path, shared_reference: Path) -> None:
    _no_lag(config_dir)
    with (shared_reference / "gcp" / "koku_gcp_standard_export_flattened_202011.csv").open(newline="") as f:
        source = [koku_gcp_row(r) for r in csv.DictReader(f)]
    write_gcp_export(landing_dir("demo", "gcp"), source, "billing_export", TABLE)
    export = open_export(load_org_by_slug("demo"), "gcp")
    late = export.status(date(2020, 11, 11))
    assert not late.complete and "has not reached 2020-11-12T00:00:00+00:00" in late.reason
    for day in (date(2020, 11, 8), date(2020, 11, 9), date(2020, 11, 10)):
        _run(day)
    focus = focus_rows("gcp")
    loaded = [r for r in source if r["usage_start_time"][:10] in {"2020-11-08", "2020-11-09", "2020-11-10"}]
    assert len(focus) == len(loaded)
    credits = sum(Decimal(str(c["amount"])) for r in loaded for c in json.loads(r["credits"]))
    assert credits < 0
    assert sum(r["EffectiveCost"] for r in focus) == sum(Decimal(r["cost"]) for r in loaded) + credits
    assert sum(r["BilledCost"] for r in focus) == sum(Decimal(r["cost"]) for r in loaded)
    with_credit = [r for r in focus if r["x_Credits"] is not None]
    assert with_credit and all(json.loads(r["x_Credits"])[0]["name"].startswith("FreeTrial") for r in with_credit)
    bigquery = [r for r in focus if r["Tags"] is not None]
    assert bigquery and all(
        json.loads(r["Tags"]).get("goog-resource-type", "").startswith("bigquery") for r in bigquery
    )


def test_demo_export_tax_correction_credits_and_labels(data_dir: Path) -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    write_export(landing_dir("demo", "gcp"), days, prefix="billing_export", table=TABLE)
    for day in days:
        landed = _run(day)
        assert Decimal(landed["billed_cost"]) == expected_billed_cost(days)[("01A2B3-C4D5E6-F7A8B9", day)]
    focus = focus_rows("gcp")
    tax = [r for r in focus if r["ChargeCategory"] == "Tax"]
    assert len(tax) == 1 and tax[0]["PricingCategory"] is None and tax[0]["x_ingestion_date"] == days[0]
    corrections = [r for r in focus if r["ChargeClass"] == "Correction"]
    assert len(corrections) == 1 and corrections[0]["ChargeCategory"] == "Adjustment"
    assert corrections[0]["BilledCost"] == Decimal("-3.75")
    spot = {r["PricingCategory"] for r in focus if "Spot" in r["ChargeDescription"]}
    assert spot == {"Dynamic"}
    discounted = [r for r in focus if r["x_Credits"] is not None]
    assert discounted and all(r["EffectiveCost"] < r["BilledCost"] for r in discounted)
    tagged = [json.loads(r["Tags"]) for r in focus if r["Tags"] is not None]
    assert all(t["cost-center"] == "cc-101" for t in tagged), "project labels are inherited"
    assert any(set(t) & {"team", "Team", "squad"} for t in tagged)


def test_not_complete_until_watermark_passes_lag(data_dir: Path) -> None:
    day = date(2026, 11, 1)
    write_export(landing_dir("demo", "gcp"), [day], prefix="billing_export", table=TABLE)
    status = open_export(load_org_by_slug("demo"), "gcp").status(day)
    assert status.complete  # the demo's watermark is 09:xx the next day; the lag is 6 h
    assert status.version is not None and status.version.startswith("2026-11-02T09:")
    assert not open_export(load_org_by_slug("demo"), "gcp").status(date(2026, 11, 5)).complete
