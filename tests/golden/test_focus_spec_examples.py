"""The FOCUS specification's commitment examples, reproduced through the AWS CUR 2.0 mapping.

Each example of ``../shared/reference/focus-spec-examples/commitment_discount_scenarios__*.csv`` (FinOps
Foundation, CC-BY-4.0) describes a spend-based commitment of $1.00 an hour: bought all upfront, with no
upfront, or half upfront, then used fully, not at all, 75 %, or fully with on-demand overflow. A Savings
Plan is exactly that, so each scenario is written here as the CUR 2.0 line items AWS bills for it (one
payer account per scenario), landed and converted like any export, and our FOCUS rows are compared with
the spec's rows on every column the example states except timestamps (some are invalid in the source,
e.g. ``T30:00:00Z``) and ConsumedUnit (the examples say ``Hour``; FOCUS's unit format and we say ``Hours``).

Left out: the ``commitment_discount_flexibility__*`` examples use a usage-based commitment whose unused row
names a VM as its resource, which contradicts usage scenario 2 (the unused row names the commitment).
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.paths import landing_dir
from tests.golden.test_aws_golden import _load_day
from tests.helpers import focus_rows, use_data_dir, write_cur2_delivery

DAY = date(2023, 1, 1)
SP = "arn:aws:savingsplans::000000000001:savingsplan/spec-example"
VM = "i-0specexamplevm"
COMPARED = [
    "ChargeCategory",
    "ChargeFrequency",
    "PricingCategory",
    "ResourceId",
    "BilledCost",
    "EffectiveCost",
    "ConsumedQuantity",
    "CommitmentDiscountId",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountUnit",
]


def _line(scenario: int, kind: str, cost: str, **columns: str) -> dict:
    """One CUR 2.0 line item of ``scenario`` (its own payer account), hour 0 of 2023-01-01 by default."""
    row = {
        "identity_line_item_id": f"s{scenario}-{kind}-{len(columns)}-{cost}",
        "bill_payer_account_id": f"{scenario:012d}",
        "bill_payer_account_name": f"scenario {scenario}",
        "bill_billing_period_start_date": "2023-01-01T00:00:00Z",
        "bill_billing_period_end_date": "2023-02-01T00:00:00Z",
        "bill_bill_type": "Anniversary",
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "line_item_usage_account_id": f"{scenario:012d}",
        "line_item_currency_code": "USD",
        "line_item_line_item_type": kind,
        "line_item_usage_start_date": "2023-01-01T00:00:00Z",
        "line_item_usage_end_date": "2023-01-01T01:00:00Z",
        "line_item_product_code": "AmazonEC2"
        if "Usage" in kind or kind.endswith("Negation")
        else "ComputeSavingsPlans",
        "line_item_unblended_cost": cost,
        "pricing_unit": "Hrs",
        "product_region_code": "us-east-1",
        "product_sku": "SPECSKU",
        "pricing_rate_code": f"SPECSKU.{kind}",
    }
    return row | columns


def _fee(scenario: int, hourly: str, used: str, upfront: str | None = None, hours: int = 1) -> list[dict]:
    """The commitment's charges: an upfront fee (if any) and, each hour, the recurring fee with its use.
    AWS names the plan as the line item's resource on its fee lines."""
    rows = []
    if upfront:
        rows.append(
            _line(
                scenario,
                "SavingsPlanUpfrontFee",
                upfront,
                line_item_usage_end_date="2024-01-01T00:00:00Z",
                line_item_usage_amount="1",
                line_item_resource_id=SP,
                savings_plan_savings_plan_a_r_n=SP,
            )
        )
    for hour in range(hours if hourly != "0" else 0):
        rows.append(
            _line(
                scenario,
                "SavingsPlanRecurringFee",
                hourly,
                identity_line_item_id=f"s{scenario}-fee-{hour}",
                line_item_usage_start_date=f"2023-01-01T{hour:02d}:00:00Z",
                line_item_usage_end_date=f"2023-01-01T{hour + 1:02d}:00:00Z",
                line_item_resource_id=SP,
                line_item_usage_amount="1",
                line_item_unblended_rate=hourly,
                savings_plan_savings_plan_a_r_n=SP,
                savings_plan_total_commitment_to_date="1.00",
                savings_plan_used_commitment=used,
            )
        )
    return rows


def _covered(scenario: int, effective: str, on_demand: str = "1.50") -> list[dict]:
    """An hour of a VM covered by the plan: the usage at its on-demand cost and the negation cancelling it."""
    usage = dict(
        line_item_resource_id=VM,
        line_item_usage_amount="1",
        line_item_unblended_rate=on_demand,
        pricing_public_on_demand_cost=on_demand,
        pricing_public_on_demand_rate=on_demand,
        pricing_term="OnDemand",
        savings_plan_savings_plan_a_r_n=SP,
    )
    return [
        _line(
            scenario, "SavingsPlanCoveredUsage", on_demand, savings_plan_savings_plan_effective_cost=effective, **usage
        ),
        _line(scenario, "SavingsPlanNegation", f"-{on_demand}", **usage),
    ]


def _on_demand(scenario: int, cost: str) -> dict:
    return _line(
        scenario,
        "Usage",
        cost,
        line_item_resource_id=VM,
        line_item_usage_amount="1",
        line_item_unblended_rate=cost,
        pricing_public_on_demand_cost=cost,
        pricing_public_on_demand_rate=cost,
        pricing_term="OnDemand",
    )


# scenario number -> (spec example file, CUR 2.0 line items, which of our FOCUS rows the example shows)
SCENARIOS = {
    1: ("commitment_discount_purchase_scenario_1", _fee(1, "0", "0", upfront="8760.00"), "Purchase"),
    2: ("commitment_discount_purchase_scenario_2", _fee(2, "1.00", "1.00", hours=3), "Purchase"),
    3: ("commitment_discount_purchase_scenario_3", _fee(3, "0.50", "1.00", upfront="4380.00", hours=3), "Purchase"),
    4: ("commitment_discount_usage_scenario_1", _fee(4, "1.00", "1.00") + _covered(4, "1.00"), "Usage"),
    5: ("commitment_discount_usage_scenario_2", _fee(5, "1.00", "0"), "Usage"),
    6: ("commitment_discount_usage_scenario_3", _fee(6, "1.00", "0.75") + _covered(6, "0.75"), "Usage"),
    7: (
        "commitment_discount_usage_scenario_4",
        _fee(7, "1.00", "1.00") + _covered(7, "1.00") + [_on_demand(7, "0.50")],
        "Usage",
    ),
}


def _spec_rows(shared_reference: Path, name: str) -> list[dict]:
    path = shared_reference / "focus-spec-examples" / f"commitment_discount_scenarios__{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _spec_value(column: str, text: str) -> object:
    placeholders = {"<my-commitment-discount-id>": SP, "<my-resource-id>": VM}
    if text == "null":
        return None
    if column in {"BilledCost", "EffectiveCost", "ConsumedQuantity", "CommitmentDiscountQuantity"}:
        return Decimal(text)
    return placeholders.get(text, text)


def _ours(value: object) -> object:
    return value.normalize() if isinstance(value, Decimal) else value


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    """Every scenario landed and converted in one run; our FOCUS rows per payer account."""
    data = tmp_path_factory.mktemp("spec-examples")
    with pytest.MonkeyPatch.context() as patch:
        use_data_dir(patch, data)
        lines = [row for _, rows, _ in SCENARIOS.values() for row in rows]
        write_cur2_delivery(landing_dir("demo", "aws"), lines, "2023-01")
        _load_day(DAY)
        by_account: dict[str, list[dict]] = {}
        for row in focus_rows("aws"):
            by_account.setdefault(row["BillingAccountId"], []).append(row)
        return by_account


@pytest.mark.parametrize("scenario", sorted(SCENARIOS), ids=[v[0] for _, v in sorted(SCENARIOS.items())])
def test_spec_example_is_what_our_mapping_produces(
    scenario: int, converted: dict[str, list[dict]], shared_reference: Path
) -> None:
    name, _, category = SCENARIOS[scenario]
    spec = _spec_rows(shared_reference, name)
    columns = [c for c in COMPARED if c in spec[0]]
    expected = sorted((tuple(_spec_value(c, row[c]) for c in columns) for row in spec), key=repr)
    ours = [row for row in converted[f"{scenario:012d}"] if row["ChargeCategory"] == category]
    actual = sorted((tuple(_ours(row[c]) for c in columns) for row in ours), key=repr)
    expected = [tuple(_ours(v) for v in row) for row in expected]
    assert actual == expected, f"{name}: columns {columns}"


def test_every_scenario_still_reconciles_billed_cost(converted: dict[str, list[dict]]) -> None:
    """Folding the negations and splitting the fees never changes what is billed."""
    for scenario, (_, rows, _) in SCENARIOS.items():
        raw = sum((Decimal(r["line_item_unblended_cost"]) for r in rows), Decimal(0))
        ours = sum((r["BilledCost"] for r in converted[f"{scenario:012d}"]), Decimal(0))
        assert ours == raw, scenario
