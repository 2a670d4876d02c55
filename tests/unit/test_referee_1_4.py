"""The referee's parts FOCUS 1.4 needed: corrected gates (a rule the spec enables only with several criteria
together), claims per FOCUS dataset, and the export of the Billing Period rows a sample of days falls in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from cloudcost.schemas import billing_period_1_4_schema, quote_column
from cloudcost.validate.conformance import BILLING_PERIOD, ConformanceConfigError, ProviderClaim, load_conformance
from cloudcost.validate.export import ExportError, export_billing_period
from cloudcost.validate.model import RulesModel, load_model
from cloudcost.warehouse import open_warehouse

PRICE_LIST, VIRTUAL, CURRENCIES = "PUBLIC_PRICE_LIST_SUPPORTED", "VIRTUAL_CURRENCY_SUPPORTED", "CURRENCIES_SUPPORTED"


def _model() -> RulesModel:
    """A column composite gated on two criteria (any-of, as the validator reads it) above one nullability rule."""

    def rule(criteria: list[str], children: tuple[str, ...] = ()) -> dict:
        requirement = {"Items": [{"CheckFunction": "CheckModelRule", "ModelRuleId": c} for c in children]}
        return {"ApplicabilityCriteria": criteria, "ValidationCriteria": {"Requirement": requirement}}

    rules = {
        "CAU-Col-C-000-C": rule([PRICE_LIST, VIRTUAL], ("CAU-Col-C-003-M",)),
        "CAU-Col-C-003-M": rule([]),
    }
    return RulesModel(Path("model-test.json"), {"ModelRules": rules})


def test_a_corrected_gate_needs_every_criterion_of_one_of_its_sets() -> None:
    model = _model()
    gated = model.with_gates(
        {"CAU-Col-C-000-C": (frozenset({PRICE_LIST, VIRTUAL}), frozenset({PRICE_LIST, CURRENCIES}))}
    )
    assert model.applicable("CAU-Col-C-003-M", [PRICE_LIST])  # the model's any-of gate
    assert not gated.applicable("CAU-Col-C-003-M", [PRICE_LIST])  # the child follows its corrected parent
    assert gated.blocking_criteria("CAU-Col-C-003-M", [PRICE_LIST]) == [CURRENCIES, VIRTUAL]
    assert gated.applicable("CAU-Col-C-003-M", [PRICE_LIST, CURRENCIES])
    assert not gated.applicable("CAU-Col-C-000-C", [VIRTUAL, CURRENCIES])
    assert model.gates == {}  # the cached model is left as the file says


def test_the_1_4_gates_take_the_pricing_currency_columns_off_a_provider_with_only_a_price_list(
    shared_reference: Path,
) -> None:
    rules = shared_reference / "focus-validator-rules"
    if not (rules / "model-1.4.json").is_file():
        pytest.skip(f"no model-1.4.json in {rules}")
    conformance = load_conformance(version="1.4")
    aws = conformance.claim("aws")
    assert aws is not None and PRICE_LIST in aws.claims and VIRTUAL not in aws.claims
    model = load_model(rules, "1.4")
    corrected = model.with_gates(conformance.gates())
    rule = "CAU-PricingCurrencyEffectiveCost-C-003-M"  # "MUST NOT be null"
    assert model.applicable(rule, aws.claims) and not corrected.applicable(rule, aws.claims)
    assert corrected.applicable(rule, [*aws.claims, "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED"])


def test_claims_per_dataset() -> None:
    claim = ProviderClaim(claims=["TAGGING_SUPPORTED"], dataset_claims={BILLING_PERIOD: ["INVOICE_SUPPORTED"]})
    assert claim.claims_for() == ["TAGGING_SUPPORTED"]
    assert claim.claims_for(BILLING_PERIOD) == ["INVOICE_SUPPORTED", "TAGGING_SUPPORTED"]
    with pytest.raises(ValidationError, match="is not an applicability criterion name"):
        ProviderClaim(dataset_claims={BILLING_PERIOD: ["not a criterion"]})
    with pytest.raises(ValidationError, match="BillingPeriod"):
        ProviderClaim.model_validate({"dataset_claims": {"Billing": ["TAGGING_SUPPORTED"]}})


def test_a_dataset_claim_must_name_a_criterion_of_the_model(tmp_path: Path) -> None:
    from cloudcost.validate.conformance import check_against_model

    section = load_conformance(version="1.4")
    aws = section.claim("aws")
    assert aws is not None
    criteria = dict.fromkeys([*aws.claims, *aws.not_claimed], "")
    check_against_model(section, criteria)  # every provider accounts for the same criteria
    typo = section.model_copy(
        update={"providers": {"aws": aws.model_copy(update={"dataset_claims": {BILLING_PERIOD: ["INVOICE_ISUER"]}})}}
    )
    with pytest.raises(ConformanceConfigError, match=r"unknown criteria \['INVOICE_ISUER'\]"):
        check_against_model(typo, criteria)


def _insert_periods(periods: list[tuple[str, date, date]]) -> None:
    schema = billing_period_1_4_schema()
    warehouse = open_warehouse()
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        for provider, start, end in periods:
            moment = datetime(2026, 12, 2, tzinfo=UTC)
            row = {
                "BillingPeriodCreated": moment,
                "BillingPeriodEnd": datetime.combine(end, datetime.min.time(), UTC),
                "BillingPeriodLastUpdated": moment,
                "BillingPeriodStart": datetime.combine(start, datetime.min.time(), UTC),
                "BillingPeriodStatus": "Open",
                "InvoiceIssuerName": "Issuer",
                "x_cloud_provider": provider,
                "x_BillingAccountId": "1",
                "x_BillingCurrency": "USD",
            }
            session.execute(
                f"insert into demo_prod.{schema.table} ({', '.join(quote_column(n) for n in row)}) "
                f"values ({', '.join('?' for _ in row)})",
                list(row.values()),
            )


def test_the_billing_period_export_holds_the_periods_of_the_days(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"focus_billing_period_1_4\" does not exist: no FOCUS 1.4 billing periods"):
        export_billing_period(open_warehouse(), "demo_prod", "aws", tmp_path / "none.parquet")
    _insert_periods(
        [
            ("aws", date(2026, 10, 1), date(2026, 11, 1)),
            ("aws", date(2026, 11, 1), date(2026, 12, 1)),
            ("gcp", date(2026, 11, 1), date(2026, 12, 1)),
        ]
    )

    def starts(
        days: list[date] | None = None, first_day: date | None = None, last_day: date | None = None
    ) -> list[date]:
        path = tmp_path / "bp.parquet"
        exported = export_billing_period(
            open_warehouse(), "demo_prod", "aws", path, first_day=first_day, last_day=last_day, days=days
        )
        table = pq.read_table(exported.path)
        assert exported.rows == table.num_rows
        return sorted(ts.date() for ts in table.column("BillingPeriodStart").to_pylist())

    assert starts() == [date(2026, 10, 1), date(2026, 11, 1)]
    assert starts(days=[date(2026, 11, 2)]) == [date(2026, 11, 1)]
    assert starts(days=[date(2026, 10, 31), date(2026, 11, 1)]) == [date(2026, 10, 1), date(2026, 11, 1)]
    assert starts(first_day=date(2026, 11, 1), last_day=date(2026, 11, 3)) == [date(2026, 11, 1)]
    assert starts(last_day=date(2026, 10, 31)) == [date(2026, 10, 1)]
    assert starts(days=[]) == []
    focus_only = export_billing_period(
        open_warehouse(), "demo_prod", "aws", tmp_path / "f.parquet", include_custom=False
    )
    assert not any(name.startswith("x_") for name in focus_only.columns)
    assert "BillingPeriodStatus" in pq.read_schema(focus_only.path).names


def test_a_gate_names_criteria_and_no_empty_set() -> None:
    from cloudcost.validate.conformance import Erratum

    erratum = Erratum(effect="false failure", reason="gated wrongly", gate=[[PRICE_LIST, VIRTUAL]])
    assert erratum.gate == [[PRICE_LIST, VIRTUAL]]
    with pytest.raises(ValidationError, match="empty list in gate"):
        Erratum(effect="false failure", reason="gated wrongly", gate=[[PRICE_LIST], []])
    with pytest.raises(ValidationError, match="is not an applicability criterion name"):
        Erratum(effect="false failure", reason="gated wrongly", gate=[["price list"]])


def test_a_gate_must_name_criteria_of_the_model() -> None:
    from cloudcost.validate.conformance import Conformance, Erratum, check_against_model

    erratum = Erratum(effect="false failure", reason="gated wrongly", gate=[[PRICE_LIST, "VIRTUAL_CURENCY"]])
    section = Conformance(providers={}, errata={"CAU-Col-C-000-C": erratum})
    with pytest.raises(ConformanceConfigError, match=r"unknown criteria in a gate \['VIRTUAL_CURENCY'\]"):
        check_against_model(section, {PRICE_LIST: "", VIRTUAL: ""})
