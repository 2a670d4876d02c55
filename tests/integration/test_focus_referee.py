"""The FinOps Foundation's focus-validator referees the demo output of every provider (docs/focus-conformance.md).

The demo deliveries for 2026-11-01..03 (AWS CUR 2.0, GCP detailed export, Azure cost details, OCI cost reports)
are generated once, landed and converted without Airflow, then one ``run_validation`` exports each provider's
FOCUS rows and runs the validator from ``.venv-validator`` (created by ``tools/focus-validator/install.sh`` if
missing) with the claims and errata of configs/focus_conformance.yml.

The mapping defects the referee found (AWS on 2026-11-23; GCP, Azure and OCI since) are fixed; any failed rule
other than a listed erratum fails the test, with the rule and its message.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloudcost.validate.conformance import load_conformance
from cloudcost.validate.referee import Referee
from cloudcost.validate.run import ValidationReport
from tests.helpers import use_data_dir
from tests.integration.referee_support import PROVIDERS, assert_passes, load_demo_days, locate_referee


@pytest.fixture(scope="module")
def referee() -> Referee:
    """The installed validator; install.sh creates .venv-validator when it is missing."""
    return locate_referee("1.3")


@pytest.fixture(scope="module")
def report(referee: Referee, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValidationReport]:
    """The referee's verdicts on the demo org's rows of every provider for three billing days, loaded without
    Airflow; the exported Parquet files are kept for the duration of the module."""
    data = tmp_path_factory.mktemp("referee-data")
    with pytest.MonkeyPatch.context() as patch:
        use_data_dir(patch, data)
        from cloudcost.validate.run import run_validation

        load_demo_days()
        yield run_validation("demo", providers=list(PROVIDERS), details=False, keep_dir=data / "referee")


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_referee_judged_the_rows(report: ValidationReport, provider: str) -> None:
    verdict = report.verdict(provider)
    claim = load_conformance().claim(provider)
    assert claim is not None
    fmt, fewest = PROVIDERS[provider]
    assert verdict.rows > fewest
    assert verdict.formats == [fmt] == claim.formats
    assert verdict.claims == sorted(claim.claims)
    assert verdict.totals["tests"] > 700
    assert verdict.totals["passed"] > 300
    assert verdict.totals["errored"] == 0
    ran = {check.rule_id for check in verdict.errata if check.violations is not None}
    assert "CAU-PricingQuantity-C-005-C" in ran  # corrected errata checks are run, not just excused
    if "COMMITMENT_DISCOUNT_SUPPORTED" in claim.claims:
        assert "CAU-CommitmentDiscountStatus-C-003-C" in ran


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_errata_excused_by_the_referee_hold_as_the_spec_states_them(report: ValidationReport, provider: str) -> None:
    """An excused validator failure is only excused because our corrected check of the rule passes."""
    verdict = report.verdict(provider)
    excused = {o.rule_id for o in verdict.of("erratum")}
    checks = {check.rule_id: check for check in verdict.errata}
    assert excused <= set(checks)
    assert {rule_id: checks[rule_id].violations for rule_id in excused} == dict.fromkeys(excused, 0)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_output_passes_the_referee(report: ValidationReport, referee: Referee, provider: str) -> None:
    assert_passes(report.verdict(provider), referee)


def test_conformance_file_names_every_criterion_of_the_model(referee: Referee) -> None:
    from cloudcost.validate.conformance import check_against_model
    from cloudcost.validate.model import load_model

    model = load_model(referee.rules_dir, referee.focus_version)
    assert len(model.criteria) == 20
    check_against_model(load_conformance(), model.criteria)  # raises on an unknown or unaccounted criterion
