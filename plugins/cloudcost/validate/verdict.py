"""Turn one validator run into a per-provider verdict: which failures are ours, which are the model's.

Every rule the validator failed is classified, most specific first:
- ``not_applicable``: the rule (or every composite above it) is gated on a criterion we do not claim; the
  validator 2.2.1 still runs such children (see ``model.py``);
- ``erratum``: listed in ``configs/focus_conformance.yml`` as checked wrongly; its corrected predicate is run
  by us instead (``check_errata``), and a violation there is a failure;
- ``follows``: a composite whose failed children are all excused by the two above;
- ``failure``: everything else. A provider passes only with no failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cloudcost.config import Provider
from cloudcost.validate.conformance import COST_AND_USAGE, Erratum
from cloudcost.validate.junit import ERRORED, FAILED
from cloudcost.validate.model import RulesModel
from cloudcost.validate.referee import RefereeRun

FAILURE, ERRATUM, NOT_APPLICABLE, FOLLOWS = "failure", "erratum", "not_applicable", "follows"
PASS, FAIL, UNCLAIMED, NO_DATA = "PASS", "FAIL", "UNCLAIMED", "NO DATA"


@dataclass(frozen=True)
class RuleOutcome:
    """A rule the validator did not pass, with what we make of it."""

    rule_id: str
    status: str  # the validator's: failed | errored
    classification: str  # failure | erratum | not_applicable | follows
    check: str
    keyword: str
    requirement: str  # the rule's text in the model
    message: str  # the validator's message (or ours, for a corrected erratum check)
    violations: int | None = None
    samples: tuple[str, ...] = ()
    note: str = ""
    composite: bool = False


@dataclass(frozen=True)
class ErratumCheck:
    """An erratum's corrected predicate, run by us over the exported rows."""

    rule_id: str
    reason: str
    violation: str | None
    applicable: bool
    violations: int | None  # None: not run (not applicable, or no predicate)


@dataclass
class ProviderVerdict:
    provider: Provider
    status: str  # PASS | FAIL | UNCLAIMED | NO DATA
    rows: int = 0
    formats: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    outcomes: list[RuleOutcome] = field(default_factory=list)
    errata: list[ErratumCheck] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    data_file: Path | None = None
    results: dict[str, str] = field(default_factory=dict)  # every rule: pass | fail | skipped | erratum (results.py)
    dataset: str = COST_AND_USAGE  # the FOCUS dataset judged (the validator's --focus-dataset)

    def of(self, classification: str) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.classification == classification]

    @property
    def failures(self) -> list[RuleOutcome]:
        return self.of(FAILURE)

    @property
    def failed_rule_ids(self) -> list[str]:
        return [o.rule_id for o in self.failures]

    @property
    def passed(self) -> bool:
        return self.status in (PASS, NO_DATA)


def classify(
    run: RefereeRun,
    model: RulesModel,
    claims: list[str],
    errata: dict[str, Erratum],
    erratum_checks: list[ErratumCheck],
) -> list[RuleOutcome]:
    """Classify every failed or errored rule of ``run`` (see the module docstring)."""
    cases = run.junit.cases
    bad = {rule_id for rule_id, case in cases.items() if case.status in (FAILED, ERRORED)}
    classes: dict[str, str] = {}
    notes: dict[str, str] = {}
    for rule_id in bad:
        if not model.applicable(rule_id, claims):
            classes[rule_id] = NOT_APPLICABLE
            notes[rule_id] = "gated on unclaimed " + ", ".join(model.blocking_criteria(rule_id, claims))
        elif rule_id in errata:
            classes[rule_id] = ERRATUM
            notes[rule_id] = errata[rule_id].reason
    # composites: excused when every failed child is excused; resolve bottom-up until nothing changes
    changed = True
    while changed:
        changed = False
        for rule_id in sorted(bad - set(classes)):
            rule = model.get(rule_id)
            if rule is None or not rule.is_composite:
                continue
            failed_children = [c for c in rule.children if c in bad]
            if failed_children and all(classes.get(c) in (NOT_APPLICABLE, ERRATUM, FOLLOWS) for c in failed_children):
                classes[rule_id] = FOLLOWS
                notes[rule_id] = "only excused children fail: " + ", ".join(failed_children)
                changed = True
    outcomes = []
    for rule_id in sorted(bad):
        case, rule, detail = cases[rule_id], model.get(rule_id), run.details.get(rule_id)
        outcomes.append(
            RuleOutcome(
                rule_id=rule_id,
                status=case.status,
                classification=classes.get(rule_id, FAILURE),
                check=case.check or (rule.function if rule else ""),
                keyword=rule.keyword if rule else "",
                requirement=rule.requirement if rule else "",
                message=detail.message if detail else case.message,
                violations=detail.violations if detail else None,
                samples=tuple(detail.samples) if detail else (),
                note=notes.get(rule_id, ""),
                composite=bool(rule and rule.is_composite),
            )
        )
    for check in erratum_checks:
        if not check.violations:
            continue
        rule = model.get(check.rule_id)
        outcomes.append(
            RuleOutcome(
                rule_id=check.rule_id,
                status="corrected",
                classification=FAILURE,
                check="Erratum",
                keyword=rule.keyword if rule else "",
                requirement=rule.requirement if rule else "",
                message=f"corrected check found {check.violations} row(s) where {_short(check.violation or '')}",
                violations=check.violations,
            )
        )
    return outcomes


def _short(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_verdict(verdict: ProviderVerdict) -> str:
    """A few lines a person reads: status, counts, every failure with its requirement and evidence."""
    name = verdict.provider if verdict.dataset == COST_AND_USAGE else f"{verdict.provider} {verdict.dataset}"
    head = f"{name}: {verdict.status}"
    if verdict.status == NO_DATA:
        return f"{head} (no FOCUS rows)"
    totals = verdict.totals
    source = ", ".join(verdict.formats) or verdict.dataset
    lines = [
        f"{head}  {verdict.rows} rows ({source}), {totals.get('tests', 0)} rules: "
        f"{totals.get('passed', 0)} passed, {totals.get('failed', 0)} failed, {totals.get('skipped', 0)} skipped"
        f"{', ' + str(totals['errored']) + ' errored' if totals.get('errored') else ''}"
        f" [{verdict.seconds:.1f} s]",
        f"  claims: {', '.join(verdict.claims) or 'none (every conditional rule is skipped)'}",
    ]
    lines += [f"  warning: {w}" for w in verdict.warnings]
    leaves = [o for o in verdict.failures if not o.composite]
    composites = [o for o in verdict.failures if o.composite]
    if leaves or composites:
        lines.append(f"  failures ({len(leaves)} rules, {len(composites)} composites above them):")
    for o in leaves:
        evidence = f"{o.violations} rows" if o.violations is not None else o.status
        lines.append(f"    {o.rule_id} [{o.keyword or '?'}] {_short(o.requirement)}")
        lines.append(f"      {evidence}: {_short(o.message)}")
        if o.samples:
            lines.append(f"      e.g. {_short('; '.join(o.samples))}")
    if composites:
        lines.append(f"    composites failing because of the above: {', '.join(o.rule_id for o in composites)}")
    errata = verdict.of(ERRATUM)
    if verdict.errata:
        lines.append("  errata (validator checks wrongly; cloudcost runs the corrected rule):")
        for check in verdict.errata:
            failed = " [validator failed it]" if any(o.rule_id == check.rule_id for o in errata) else ""
            if not check.applicable:
                state = "not applicable under the claims"
            elif check.violations is None:
                state = "not re-checked"
            else:
                state = f"corrected check: {check.violations} violating rows"
            lines.append(f"    {check.rule_id}{failed}: {state}")
    not_applicable = verdict.of(NOT_APPLICABLE)
    if not_applicable:
        lines.append(f"  not applicable (failed, but under an unclaimed criterion): {len(not_applicable)}")
        for o in not_applicable:
            lines.append(f"    {o.rule_id}: {o.note}")
    follows = verdict.of(FOLLOWS)
    if follows:
        lines.append(f"  composites failing only through excused rules: {', '.join(o.rule_id for o in follows)}")
    return "\n".join(lines)
