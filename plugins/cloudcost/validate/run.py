"""``run_validation(org)``: export each provider's FOCUS rows, let focus-validator referee them, judge.

One Parquet file and one validator run per provider and FOCUS dataset, because the applicability criteria we claim
differ by provider (``configs/focus_conformance.yml``) and the validator judges one dataset per run. Each FOCUS
version is judged on its own tables (``DATASETS``) with its own rules model and claims (``VersionJudge``); 1.3, the
primary table, is the default.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from cloudcost.config import Provider, load_org_by_slug, parse_provider
from cloudcost.identifiers import OrgSlug
from cloudcost.schemas import PRIMARY_FOCUS_VERSION
from cloudcost.validate.conformance import (
    BILLING_PERIOD,
    COST_AND_USAGE,
    Conformance,
    Erratum,
    FocusDataset,
    check_against_model,
    conformance_path,
    load_conformance,
)
from cloudcost.validate.export import (
    export_billing_period,
    export_focus,
    providers_with_rows,
    require_every_day,
    require_table,
)
from cloudcost.validate.junit import ERRORED, FAILED, PASSED, SKIPPED
from cloudcost.validate.model import RulesModel, load_model
from cloudcost.validate.referee import DEFAULT_TIMEOUT_SECONDS, Referee
from cloudcost.validate.results import rule_results
from cloudcost.validate.verdict import (
    FAIL,
    FAILURE,
    NO_DATA,
    PASS,
    UNCLAIMED,
    ErratumCheck,
    ProviderVerdict,
    classify,
    format_verdict,
)
from cloudcost.warehouse import Warehouse, open_warehouse

# the FOCUS datasets we produce per version, each judged in its own validator run (--focus-dataset)
DATASETS: dict[str, tuple[FocusDataset, ...]] = {"1.3": (COST_AND_USAGE,), "1.4": (COST_AND_USAGE, BILLING_PERIOD)}


@dataclass
class ValidationReport:
    org: str
    validator_version: str
    model_version: str
    rules_dir: Path
    verdicts: list[ProviderVerdict] = field(default_factory=list)
    workdir: Path | None = None

    @property
    def passed(self) -> bool:
        """Every provider with rows passes, and at least one had rows."""
        return any(v.status != NO_DATA for v in self.verdicts) and all(v.passed for v in self.verdicts)

    def verdict(self, provider: str, dataset: str = COST_AND_USAGE) -> ProviderVerdict:
        for verdict in self.verdicts:
            if verdict.provider == provider and verdict.dataset == dataset:
                return verdict
        raise KeyError(f"no verdict for provider {provider!r} and dataset {dataset}")

    def format(self) -> str:
        lines = [
            f"FOCUS conformance of org {self.org}: focus-validator {self.validator_version}, "
            f"rules model {self.model_version} (offline, {self.rules_dir})"
        ]
        lines += [format_verdict(v) for v in self.verdicts] or ["no provider has FOCUS rows"]
        lines.append(f"overall: {'PASS' if self.passed else 'FAIL'}")
        if self.workdir:
            lines.append(f"artifacts (Parquet, JUnit XML, validator logs): {self.workdir}")
        return "\n".join(lines)


def check_errata(
    data_file: Path, errata: dict[str, Erratum], model: RulesModel, claims: list[str]
) -> list[ErratumCheck]:
    """Run each erratum's corrected predicate over the exported rows, where the rule applies."""
    checks = []
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        for rule_id, erratum in sorted(errata.items()):
            applicable = model.applicable(rule_id, claims)
            violations = None
            if applicable and erratum.violation:
                try:
                    sql = f"select count(*) from read_parquet(?) as focus where {erratum.violation}"
                    (violations,) = connection.execute(sql, [str(data_file)]).fetchall()[0]
                except duckdb.Error as exc:
                    raise ValueError(f"{conformance_path()}: key 'errata.{rule_id}.violation': {exc}") from exc
            checks.append(ErratumCheck(rule_id, erratum.reason, erratum.violation, applicable, violations))
    return checks


@dataclass(frozen=True)
class VersionJudge:
    """What judges one FOCUS version: the validator set to it, its rules model, and our claims and errata."""

    version: str
    referee: Referee
    model: RulesModel
    conformance: Conformance

    @classmethod
    def prepare(cls, version: str = PRIMARY_FOCUS_VERSION, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> VersionJudge:
        """Locate the validator and the version's model; refuse claims naming criteria the model lacks."""
        conformance = load_conformance(version=version)
        referee = Referee.locate(timeout=timeout, focus_version=version)
        model = load_model(referee.rules_dir, version).with_gates(conformance.gates())
        check_against_model(conformance, model.criteria)
        return cls(version, referee, model, conformance)


def validate_provider(
    warehouse: Warehouse,
    dataset: str,
    provider: Provider,
    judge: VersionJudge,
    workdir: Path,
    *,
    details: bool,
    include_custom: bool,
    first_day: date | None = None,
    last_day: date | None = None,
    days: Sequence[date] | None = None,
    focus_dataset: FocusDataset = COST_AND_USAGE,
) -> ProviderVerdict:
    """Export the provider's rows of the judge's version and FOCUS dataset (the days given, else all) and referee
    them. A Billing Period run reads the periods holding those days, in its own folder under the provider's."""
    referee, model, conformance = judge.referee, judge.model, judge.conformance
    claim = conformance.claim(provider)
    claims = claim.claims_for(focus_dataset) if claim else []
    version = judge.version.replace(".", "_")
    if focus_dataset == COST_AND_USAGE:
        rundir = workdir / provider
        export = export_focus(
            warehouse,
            dataset,
            provider,
            rundir / f"{dataset}_{provider}_focus_{version}.parquet",
            include_custom=include_custom,
            first_day=first_day,
            last_day=last_day,
            days=days,
            version=judge.version,
        )
    elif focus_dataset == BILLING_PERIOD:
        rundir = workdir / provider / "billing_period"
        path = rundir / f"{dataset}_{provider}_billing_period_{version}.parquet"
        export = export_billing_period(
            warehouse,
            dataset,
            provider,
            path,
            include_custom=include_custom,
            first_day=first_day,
            last_day=last_day,
            days=days,
        )
    else:
        raise ValueError(f"cloudcost produces no FOCUS {focus_dataset} dataset to referee")
    verdict = ProviderVerdict(
        provider, NO_DATA, rows=export.rows, formats=export.formats, claims=claims, dataset=focus_dataset
    )
    if export.rows == 0:
        return verdict
    if claim is None:
        verdict.warnings.append(
            f"no claim for {provider} in {conformance_path()}: validated with no applicability criteria"
        )
    elif claim.formats and set(export.formats) - set(claim.formats):
        verdict.warnings.append(
            f"rows of format(s) {sorted(set(export.formats) - set(claim.formats))} are validated against a claim "
            f"worked out for {claim.formats}"
        )
    run = referee.run(
        export.path, claims, rundir, details=details, dataset=None if focus_dataset == COST_AND_USAGE else focus_dataset
    )
    errata = {rule_id: e for rule_id, e in conformance.errata.items() if model.judges(rule_id, focus_dataset)}
    verdict.errata = check_errata(export.path, errata, model, claims)
    verdict.outcomes = classify(run, model, claims, errata, verdict.errata)
    verdict.results = rule_results(run.junit.cases, verdict.outcomes, model)
    verdict.totals = {
        "tests": len(run.junit.cases),
        PASSED: run.junit.count(PASSED),
        FAILED: run.junit.count(FAILED),
        SKIPPED: run.junit.count(SKIPPED),
        ERRORED: run.junit.count(ERRORED),
    }
    verdict.seconds = run.seconds
    verdict.data_file = export.path
    if any(o.classification == FAILURE for o in verdict.outcomes):
        verdict.status = FAIL
    else:
        verdict.status = PASS if claim is not None else UNCLAIMED
    return verdict


def run_validation(
    org: OrgSlug,
    *,
    providers: list[Provider] | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    keep_dir: Path | None = None,
    details: bool = True,
    include_custom: bool = True,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    focus_version: str = PRIMARY_FOCUS_VERSION,
) -> ValidationReport:
    """Referee the org's FOCUS table of ``focus_version``, one verdict per provider (those named, else every
    provider the org enables or that has rows). Artifacts go to ``keep_dir`` if given, else to a temporary folder
    removed afterwards. A version other than the primary one must have its table (``ExportError`` otherwise)."""
    org_config = load_org_by_slug(org)
    warehouse = open_warehouse()
    if focus_version != PRIMARY_FOCUS_VERSION:  # before the validator: the table is what is most likely missing
        require_table(warehouse, org_config.dataset, focus_version)
        with warehouse.session(org_config.dataset) as session:
            require_every_day(
                session,
                org,
                org_config.dataset,
                focus_version,
                first_day=first_day,
                last_day=last_day,
                providers=providers,
            )
    judge = VersionJudge.prepare(focus_version, timeout)
    counts = providers_with_rows(warehouse, org_config.dataset, focus_version)
    enabled = [name for name, entry in org_config.providers.items() if entry.enabled]
    chosen = providers or sorted(set(enabled) | {parse_provider(name) for name in counts})
    report = ValidationReport(org, judge.referee.version(), judge.model.version, judge.referee.rules_dir)
    with tempfile.TemporaryDirectory(prefix="cloudcost-validate-") as scratch:
        workdir = Path(keep_dir) if keep_dir else Path(scratch)
        report.workdir = workdir if keep_dir else None
        for provider in chosen:
            for focus_dataset in DATASETS.get(focus_version, (COST_AND_USAGE,)):
                if not counts.get(provider):
                    report.verdicts.append(ProviderVerdict(provider, NO_DATA, dataset=focus_dataset))
                    continue
                report.verdicts.append(
                    validate_provider(
                        warehouse,
                        org_config.dataset,
                        provider,
                        judge,
                        workdir,
                        details=details,
                        include_custom=include_custom,
                        first_day=first_day,
                        last_day=last_day,
                        focus_dataset=focus_dataset,
                    )
                )
    return report
