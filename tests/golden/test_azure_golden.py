"""Azure cost details (amortized + actual) -> FOCUS 1.3: the FinOps toolkit's EA samples (MIT) and demo rows."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.demo.azure_cost_details import expected_billed_cost, write_exports
from cloudcost.paths import landing_dir
from cloudcost.pipeline.delivery_guards import DeliveryRules
from cloudcost.pipeline.focus_rules import check_focus_rules
from cloudcost.pipeline.land_raw import land_raw
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw
from cloudcost.schemas import load_table_schema
from cloudcost.sources.base import BadExport
from cloudcost.sources.registry import open_export
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.duckdb_convert import convert_to_focus
from tests.helpers import focus_rows, run_context, write_azure_run

PROCEDURE = "sp_cloud_1_convert_to_focus/azure_cost_details.sql"

pytestmark = pytest.mark.usefixtures("demo_credentials")


@pytest.fixture
def ea_samples(data_dir: Path, shared_reference: Path) -> tuple[list[dict], list[dict]]:
    folder = shared_reference / "azure"
    landing = landing_dir("demo", "azure")
    for name, export in (("EA_AmortizedCost_Small.csv", "demo-amortized"), ("EA_ActualCost_Small.csv", "demo-actual")):
        write_azure_run(landing, "costexports", export, "20230901-20230930", "run-1", (folder / name).read_bytes())
    read = lambda name: list(csv.DictReader((folder / name).open(encoding="utf-8-sig", newline="")))  # noqa: E731
    return read("EA_AmortizedCost_Small.csv"), read("EA_ActualCost_Small.csv")


def _load(day: date) -> None:
    run = run_context(day, provider="azure")
    warehouse = open_warehouse()
    schema = load_table_schema("raw/azure_cost_details.yml")
    land_raw(
        warehouse,
        open_export(load_org_by_slug("demo"), "azure"),
        schema,
        "demo_prod",
        run,
        DeliveryRules.of(load_billing_config("azure"), "cost_details"),
        "cost_details",
    )
    convert_to_focus(warehouse, "demo_prod", schema.table, PROCEDURE, run)
    check_focus_rules(warehouse, "demo_prod", run)


def test_ea_samples_follow_the_finops_toolkit_conversion(ea_samples) -> None:
    amortized, actual = ea_samples
    days = sorted({datetime.strptime(r["Date"], "%m/%d/%Y").date() for r in amortized + actual})
    for day in days:
        _load(day)
    focus = focus_rows("azure")
    purchases = [r for r in actual if r["ChargeType"] == "Purchase"]
    assert len(focus) == len(amortized) + len(purchases), "amortized rows + commitment purchases from actual"
    purchase = next(r for r in focus if r["ChargeCategory"] == "Purchase")
    assert (purchase["BilledCost"], purchase["EffectiveCost"]) == (Decimal("3.25"), Decimal(0))
    assert purchase["CommitmentDiscountType"] == "Reservation"
    reserved = next(
        r for r in focus if r["PricingCategory"] == "Committed" and r["CommitmentDiscountType"] == "Reservation"
    )
    assert (reserved["BilledCost"], reserved["EffectiveCost"]) == (Decimal(0), Decimal("0.493152"))
    assert reserved["CommitmentDiscountStatus"] == "Used"
    plan = next(r for r in focus if r["CommitmentDiscountCategory"] == "Spend")
    assert plan["BilledCost"] == 0 and plan["CommitmentDiscountType"] == "Savings Plan"
    on_demand = [r for r in focus if r["PricingCategory"] == "Standard" and r["ChargeCategory"] == "Usage"]
    assert on_demand and all(r["BilledCost"] == r["EffectiveCost"] for r in on_demand)
    assert purchase["PricingCategory"] == "Standard", "a purchase is priced, at the standard rate"
    first = focus[0]
    assert first["BillingPeriodStart"] == datetime(2023, 9, 1, tzinfo=UTC)
    assert first["BillingPeriodEnd"] == datetime(2023, 10, 1, tzinfo=UTC), "end dates +1 day, exclusive"
    assert all((r["ChargePeriodEnd"] - r["ChargePeriodStart"]).days == 1 for r in focus)
    tagged = [json.loads(r["Tags"]) for r in focus if r["Tags"] is not None]
    assert tagged and any(t.get("env") == "prod" for t in tagged), "tags without outer braces are parsed"
    vmss = next(r for r in focus if r["ResourceId"] and "/virtualmachinescalesets/" in r["ResourceId"].lower())
    assert (vmss["ServiceName"], vmss["ServiceCategory"]) == ("Virtual Machine Scale Sets", "Compute")


def test_manifest_row_count_must_match(ea_samples, data_dir: Path) -> None:
    manifest = next(landing_dir("demo", "azure").rglob("demo-actual/**/manifest.json"))
    document = json.loads(manifest.read_text())
    document["blobs"][0]["dataRowCount"] += 1
    document["dataRowCount"] += 1
    manifest.write_text(json.dumps(document))
    with pytest.raises(BadExport, match=r"part_0_0001\.csv: 11 data rows, but .*manifest\.json says 12"):
        _load(date(2023, 9, 4))


def test_missing_actual_export_is_not_complete(data_dir: Path, shared_reference: Path) -> None:
    write_azure_run(
        landing_dir("demo", "azure"),
        "costexports",
        "demo-amortized",
        "20230901-20230930",
        "run-1",
        (shared_reference / "azure" / "EA_AmortizedCost_Small.csv").read_bytes(),
    )
    status = open_export(load_org_by_slug("demo"), "azure").status(date(2023, 9, 4))
    assert not status.complete and "no actual manifest yet" in status.reason


def test_demo_exports_reconcile_to_the_actual_invoice(data_dir: Path) -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    write_exports(landing_dir("demo", "azure"), days)
    for day in days:
        run = make_run_context(
            "demo", "azure", day, "t", "cloud_azure_cost_billing", day, datetime(2026, 11, 23, tzinfo=UTC)
        )
        landed = run_land_raw(run)
        assert Decimal(landed["billed_cost"]) == expected_billed_cost(days)[("87654321", day)]
        converted = run_convert_to_focus(run)
        assert Decimal(converted["billed_cost"]) == Decimal(landed["billed_cost"])
        run_checks(run)
    focus = focus_rows("azure")
    assert {r["CommitmentDiscountStatus"] for r in focus} >= {"Used", "Unused"}
    assert sum(1 for r in focus if r["ChargeCategory"] == "Purchase") == 1
