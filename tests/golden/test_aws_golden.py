"""Golden tests: given these CUR 2.0 rows, expect these FOCUS 1.3 rows (tests/fixtures/golden/aws_cur2/).

Also real samples from ../shared/reference/aws (legacy CUR renamed to CUR 2.0 columns), checked against
figures computed independently from the files, and a deliberately broken mapping that must be caught.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.paths import landing_dir, procedures_dir
from cloudcost.pipeline.delivery_guards import DeliveryRules
from cloudcost.pipeline.focus_rules import check_focus_rules
from cloudcost.pipeline.land_raw import land_raw
from cloudcost.pipeline.reconcile import ReconciliationFailed, reconcile
from cloudcost.schemas import load_table_schema
from cloudcost.sources.registry import open_export
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.duckdb_convert import convert_to_focus
from tests.helpers import cur1_row_to_cur2, focus_rows, read_csv, run_context, write_cur2_delivery

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "aws_cur2"
PROCEDURE = "sp_cloud_1_convert_to_focus/aws_cur2.sql"
RAW_TABLE = "cloud_aws_billing_raw_daily"


def _load_day(day: date, procedure: str = PROCEDURE, source_format: str = "cur2") -> None:
    run = run_context(day)
    warehouse = open_warehouse()
    config = load_billing_config("aws")
    raw = load_table_schema(config.formats[source_format].schema_file)
    rules = DeliveryRules.of(config, source_format)
    land_raw(warehouse, open_export(load_org_by_slug("demo"), "aws"), raw, "demo_prod", run, rules, source_format)
    convert_to_focus(warehouse, "demo_prod", raw.table, procedure, run)


def _same(column: str, expected: str, actual: object) -> bool:
    if expected == "":
        return actual is None
    if isinstance(actual, Decimal):
        return actual == Decimal(expected)
    if column == "Tags":
        return json.loads(expected) == json.loads(actual)
    return str(actual) == expected


def test_line_item_types_become_the_expected_focus_rows(data_dir: Path) -> None:
    write_cur2_delivery(landing_dir("demo", "aws"), read_csv(GOLDEN / "input.csv"), "2026-11")
    for day in (date(2026, 11, 1), date(2026, 11, 5), date(2026, 11, 6)):
        _load_day(day)
    actual = {row["x_source_line_item_id"]: row for row in focus_rows()}
    expected = read_csv(GOLDEN / "expected.csv")
    assert sorted(actual) == sorted(e["x_source_line_item_id"] for e in expected)
    differences = []
    for row in expected:
        got = actual[row["x_source_line_item_id"]]
        for column, value in row.items():
            if column != "x_source_line_item_id" and not _same(column, value, got[column]):
                differences.append(f"{row['x_source_line_item_id']}.{column}: expected {value!r}, got {got[column]!r}")
    assert not differences, "\n".join(differences)


def test_golden_day_reconciles_and_passes_focus_rules(data_dir: Path) -> None:
    write_cur2_delivery(landing_dir("demo", "aws"), read_csv(GOLDEN / "input.csv"), "2026-11")
    _load_day(date(2026, 11, 5))
    result = reconcile(
        open_warehouse(),
        "demo_prod",
        RAW_TABLE,
        "bill_payer_account_id",
        "line_item_unblended_cost",
        run_context(date(2026, 11, 5)),
    )
    assert not result.mismatches
    assert Decimal(result.billed_cost) == sum(
        Decimal(r["line_item_unblended_cost"])
        for r in read_csv(GOLDEN / "input.csv")
        if r["line_item_usage_start_date"].startswith("2026-11-05")
    )
    check_focus_rules(open_warehouse(), "demo_prod", run_context(date(2026, 11, 5)))


def test_a_broken_mapping_is_caught_by_reconciliation(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sql"
    sql = (procedures_dir() / PROCEDURE).read_text()
    target = "case when line_item_type = 'SavingsPlanCoveredUsage' then 0 else unblended_cost end as BilledCost"
    assert target in sql
    broken.write_text(sql.replace(target, "unblended_cost as BilledCost"))  # forgets covered usage is billed 0
    write_cur2_delivery(landing_dir("demo", "aws"), read_csv(GOLDEN / "input.csv"), "2026-11")
    _load_day(date(2026, 11, 5), procedure=str(broken))
    with pytest.raises(ReconciliationFailed, match=r"111122223333: raw .* vs FOCUS"):
        reconcile(
            open_warehouse(),
            "demo_prod",
            RAW_TABLE,
            "bill_payer_account_id",
            "line_item_unblended_cost",
            run_context(date(2026, 11, 5)),
        )


def test_focus_converters_sample_cur1(data_dir: Path, shared_reference: Path) -> None:
    """1,281 anonymised real rows (Usage and Tax) from the FinOps Foundation's focus_converters (MIT)."""
    with (shared_reference / "aws" / "focus_converters_sample-anonymous-aws-cur1.csv").open(newline="") as handle:
        source = list(csv.DictReader(handle))
    rows = [cur1_row_to_cur2(row) for row in source]
    write_cur2_delivery(landing_dir("demo", "aws"), rows, "2023-11", chunks=3)
    days = sorted({date.fromisoformat(r["line_item_usage_start_date"][:10]) for r in rows})
    for day in days:
        _load_day(day)
        reconcile(
            open_warehouse(),
            "demo_prod",
            RAW_TABLE,
            "bill_payer_account_id",
            "line_item_unblended_cost",
            run_context(day),
        )
        check_focus_rules(open_warehouse(), "demo_prod", run_context(day))
    focus = focus_rows()
    assert len(focus) == len(source)
    total = sum(Decimal(r["lineItem/UnblendedCost"]) for r in source)
    assert sum(r["BilledCost"] for r in focus) == total.quantize(Decimal("1e-10"))
    by_type = {}
    for r in source:
        by_type[r["lineItem/LineItemType"]] = by_type.get(r["lineItem/LineItemType"], 0) + 1
    assert sum(1 for r in focus if r["ChargeCategory"] == "Tax") == by_type["Tax"]
    assert sum(1 for r in focus if r["ChargeCategory"] == "Usage") == by_type["Usage"]
    s3 = [r for r in focus if r["x_ServiceCode"] == "AmazonS3"]
    assert s3 and {r["ServiceCategory"] for r in s3} == {"Storage"}
    assert {r["BillingCurrency"] for r in focus} == {"USD"}
    assert all(r["PricingCategory"] is None for r in focus if r["ChargeCategory"] == "Tax")


def test_koku_savings_plan_covered_rows(data_dir: Path, shared_reference: Path) -> None:
    """Three real SavingsPlanCoveredUsage rows (project-koku, Apache-2.0): billed 0, amortised cost kept."""
    with (shared_reference / "aws" / "koku_cur1_2023-06-01_final.csv").open(newline="") as handle:
        source = list(csv.DictReader(handle))
    write_cur2_delivery(landing_dir("demo", "aws"), [cur1_row_to_cur2(r) for r in source], "2023-06")
    _load_day(date(2023, 6, 1))
    focus = focus_rows()
    assert len(focus) == len(source) == 3
    for row in focus:
        assert row["BilledCost"] == 0
        assert row["CommitmentDiscountStatus"] == "Used"
        assert row["CommitmentDiscountCategory"] == "Spend"
        assert row["BillingCurrency"] == "NOK"
        assert row["BillingAccountId"] == "0099999999999"  # leading zeros of account ids survive
    assert sum(r["EffectiveCost"] for r in focus) == sum(
        Decimal(r["savingsPlan/SavingsPlanEffectiveCost"] or "0") for r in source
    )


def test_aws_focus_1_2_export_becomes_focus_1_3(data_dir: Path, config_dir: Path) -> None:
    """AWS's own FOCUS 1.2 export: 1.2 columns carried over, 1.3 columns filled, totals unchanged."""
    org_file = config_dir / "orgs" / "demo.yml"
    org_file.write_text(org_file.read_text().replace("format: cur2", "format: focus_1_2"))
    source = read_csv(GOLDEN.parent / "aws_focus_1_2" / "input.csv")
    write_cur2_delivery(landing_dir("demo", "aws"), source, "2026-11")
    day = date(2026, 11, 5)
    _load_day(day, "sp_cloud_1_convert_to_focus/aws_focus_1_2.sql", "focus_1_2")
    result = reconcile(
        open_warehouse(),
        "demo_prod",
        "cloud_aws_focus_billing_raw_daily",
        "BillingAccountId",
        "BilledCost",
        run_context(day),
    )
    assert result.accounts == 2 and not result.mismatches
    check_focus_rules(open_warehouse(), "demo_prod", run_context(day))
    focus = sorted(focus_rows(), key=lambda r: (r["BillingAccountId"], r["ChargeCategory"], r["BilledCost"]))
    assert len(focus) == len(source)
    assert {(r["ServiceProviderName"], r["HostProviderName"], r["x_source_format"]) for r in focus} == {
        ("AWS", "AWS", "focus_1_2")
    }
    covered = next(r for r in focus if r["CommitmentDiscountStatus"] == "Used")
    assert (covered["BilledCost"], covered["EffectiveCost"]) == (Decimal(0), Decimal("0.06912"))
    assert covered["InvoiceIssuerName"] == "Amazon Web Services, Inc."  # empty in the export: PublisherName
    assert {r["x_UsageType"] for r in focus if r["x_ServiceCode"] == "AmazonS3"} == {"EU-TimedStorage-ByteHrs"}
    assert sum(r["BilledCost"] for r in focus) == sum(Decimal(r["BilledCost"]) for r in source)
    assert all(r["AllocatedMethodId"] is None and r["ContractApplied"] is None for r in focus)
