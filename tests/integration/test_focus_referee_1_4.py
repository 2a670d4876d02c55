"""The FinOps Foundation's focus-validator referees the demo output as FOCUS 1.4 (docs/focus-conformance.md, "FOCUS
1.4"): each provider's Cost and Usage rows and Billing Period rows pass with only the errata of
``versions."1.4"`` in configs/focus_conformance.yml, and a mapping error planted in the 1.4 procedure is caught.

The same three demo days as the 1.3 referee test (tests/integration/referee_support.py), loaded once for the module;
the four providers are judged in one ``run_validation`` (one validator run per provider and dataset).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cloudcost.validate.conformance import BILLING_PERIOD, load_conformance
from cloudcost.validate.referee import Referee
from cloudcost.validate.run import ValidationReport
from cloudcost.validate.verdict import FAIL, ProviderVerdict
from tests.helpers import use_data_dir
from tests.integration.referee_support import DAYS, PROVIDERS, assert_passes, load_demo_days, locate_referee

VERSION = "1.4"
PLANTED_PROVIDER = "azure"  # the fewest rows: the planted run is the cheapest


@pytest.fixture(scope="module")
def referee() -> Referee:
    return locate_referee(VERSION)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo org's three days of every provider, loaded without Airflow into a data folder of the module's."""
    folder = tmp_path_factory.mktemp("referee-1-4-data")
    with pytest.MonkeyPatch.context() as patch:
        use_data_dir(patch, folder)
        load_demo_days()
        yield folder


@pytest.fixture(scope="module")
def report(referee: Referee, data: Path) -> ValidationReport:
    from cloudcost.validate.run import run_validation

    return run_validation(
        "demo", providers=list(PROVIDERS), details=False, keep_dir=data / "referee", focus_version=VERSION
    )


@pytest.fixture(scope="module")
def planted(report: ValidationReport, data: Path, tmp_path_factory: pytest.TempPathFactory) -> ProviderVerdict:
    """The 1.4 procedure with a planted mapping error (ChargeCategory lower-cased: "usage", not "Usage"), re-run for
    one provider and day, then that day refereed again. Every row of the day carries it: the validator fails a
    rule of allowed values only when no row holds one (the offline rules' README)."""
    from datetime import UTC, datetime

    from cloudcost.paths import procedures_dir
    from cloudcost.pipeline.stages import make_run_context, run_convert_to_focus
    from cloudcost.validate.run import VersionJudge, validate_provider
    from cloudcost.warehouse import focus_1_4, open_warehouse

    procedures = tmp_path_factory.mktemp("planted-procedures")
    shutil.copytree(procedures_dir() / focus_1_4.FOLDER, procedures / focus_1_4.FOLDER)
    mapping = procedures / focus_1_4.COST_AND_USAGE
    sql = mapping.read_text(encoding="utf-8")
    assert sql.count("        ChargeCategory,\n") == 1
    mapping.write_text(sql.replace("        ChargeCategory,\n", "        lower(ChargeCategory) as ChargeCategory,\n"))
    day = DAYS[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(focus_1_4, "procedures_dir", lambda: procedures)
        run = make_run_context(
            "demo",
            PLANTED_PROVIDER,
            day,
            "manual__planted",
            f"cloud_{PLANTED_PROVIDER}_cost_billing",
            day,
            datetime.now(UTC),
        )
        run_convert_to_focus(run)
    judge = VersionJudge.prepare(VERSION)
    return validate_provider(
        open_warehouse(),
        "demo_prod",
        PLANTED_PROVIDER,
        judge,
        data / "planted",
        details=False,
        include_custom=True,
        days=[day],
    )


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_referee_judged_the_1_4_rows(report: ValidationReport, provider: str) -> None:
    verdict = report.verdict(provider)
    claim = load_conformance(version=VERSION).claim(provider)
    assert claim is not None
    fmt, fewest = PROVIDERS[provider]
    assert verdict.rows > fewest
    assert verdict.formats == [fmt] == claim.formats
    assert verdict.claims == sorted(claim.claims)
    assert "INVOICE_ISSUER_PAYABLE_INVOICES_SUPPORTED" not in verdict.claims  # InvoiceDetailId is NULL
    assert verdict.totals["tests"] > 700
    assert verdict.totals["passed"] > 300
    assert verdict.totals["errored"] == 0
    assert verdict.data_file is not None
    columns = pq.read_schema(verdict.data_file).names
    assert "InvoiceDetailId" in columns and "ProviderName" not in columns and "PublisherName" not in columns
    ran = {check.rule_id for check in verdict.errata if check.violations is not None}
    assert "CAU-PricingQuantity-C-005-C" in ran  # corrected errata checks are run, not just excused


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_1_4_errata_excused_by_the_referee_are_documented_and_hold(report: ValidationReport, provider: str) -> None:
    """An excused validator failure is a listed 1.4 erratum; where the erratum states the rule as SQL, the
    corrected check finds no row. The two dataset rules on the removed ProviderName/PublisherName are excused
    because the 1.4 table has neither column (checked above), not by a predicate."""
    verdict = report.verdict(provider)
    errata = load_conformance(version=VERSION).errata
    excused = {o.rule_id for o in verdict.of("erratum")}
    assert excused >= {"CAU-CostAndUsage-D-038-M", "CAU-CostAndUsage-D-021-M"}
    assert excused <= set(errata)
    checks = {check.rule_id: check for check in verdict.errata}
    with_predicate = {rule_id for rule_id in excused if errata[rule_id].violation}
    assert {rule_id: checks[rule_id].violations for rule_id in with_predicate} == dict.fromkeys(with_predicate, 0)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_1_4_cost_and_usage_passes_the_referee(report: ValidationReport, referee: Referee, provider: str) -> None:
    assert_passes(report.verdict(provider), referee)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_1_4_billing_periods_pass_the_referee(report: ValidationReport, referee: Referee, provider: str) -> None:
    """The Billing Period dataset is judged too (--focus-dataset BillingPeriod), its rules reached, not skipped."""
    verdict = report.verdict(provider, BILLING_PERIOD)
    claim = load_conformance(version=VERSION).claim(provider)
    assert claim is not None
    assert verdict.rows >= 1
    assert verdict.claims == claim.claims_for(BILLING_PERIOD)
    assert "INVOICE_ISSUER_PAYABLE_INVOICES_SUPPORTED" in verdict.claims
    assert verdict.totals["errored"] == 0
    judged = {rule_id: result for rule_id, result in verdict.results.items() if rule_id.startswith("BIP-")}
    assert judged["BIP-BillingPeriodStatus-C-003-M"] == "pass"  # "MUST be one of the allowed values"
    assert judged["BIP-BillingPeriodLastUpdated-C-005-M"] == "pass"  # not before BillingPeriodCreated
    assert not any(rule_id.startswith("CAU-") for rule_id in verdict.results)
    assert_passes(verdict, referee)


def test_a_planted_1_4_mapping_error_is_caught(planted: ProviderVerdict) -> None:
    assert planted.status == FAIL
    assert "CAU-ChargeCategory-C-003-M" in planted.failed_rule_ids  # "MUST be one of the allowed values"


def test_the_1_4_section_names_every_criterion_of_the_model(referee: Referee) -> None:
    from cloudcost.validate.conformance import check_against_model
    from cloudcost.validate.model import load_model

    model = load_model(referee.rules_dir, referee.focus_version)
    assert model.version == VERSION
    assert len(model.criteria) == 27
    check_against_model(load_conformance(version=VERSION), model.criteria)
