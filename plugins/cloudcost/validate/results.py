"""One word per rule of a referee run, as the conformance history keeps it: pass, fail, skipped or erratum.

The validator's own status is the start (passed, skipped, failed or errored); our classification of its failures
overrides it, so the history says what the verdict says: a rule gated on a criterion we do not claim is skipped,
a listed erratum whose corrected check holds is an erratum, and a corrected check that finds rows is a failure.
"""

from __future__ import annotations

from cloudcost.validate.junit import PASSED, SKIPPED, JUnitCase
from cloudcost.validate.model import RulesModel
from cloudcost.validate.verdict import ERRATUM, FAILURE, FOLLOWS, NOT_APPLICABLE, RuleOutcome

PASS, FAIL, SKIP, EXCUSED = "pass", "fail", "skipped", "erratum"
RESULTS = (PASS, FAIL, SKIP, EXCUSED)
_FROM_VALIDATOR = {PASSED: PASS, SKIPPED: SKIP}  # failed and errored: FAIL until classified


def rule_results(cases: dict[str, JUnitCase], outcomes: list[RuleOutcome], model: RulesModel) -> dict[str, str]:
    """Every rule of the run with its result (see the module docstring), sorted by rule id."""
    results = {rule_id: _FROM_VALIDATOR.get(case.status, FAIL) for rule_id, case in cases.items()}
    by_class: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_class.setdefault(outcome.classification, []).append(outcome.rule_id)
    for rule_id in by_class.get(NOT_APPLICABLE, []):
        results[rule_id] = SKIP
    for rule_id in by_class.get(ERRATUM, []):
        results[rule_id] = EXCUSED
    # a composite failing only through excused children takes the strongest excuse among them: erratum, else
    # skipped; children first, so repeat until nothing changes (composites nest)
    follows = set(by_class.get(FOLLOWS, []))
    changed = True
    while changed:
        changed = False
        for rule_id in sorted(follows):
            rule = model.get(rule_id)
            children = [results.get(child) for child in (rule.children if rule else ())]
            result = EXCUSED if EXCUSED in children else SKIP
            if results.get(rule_id) != result:
                results[rule_id], changed = result, True
    for rule_id in by_class.get(FAILURE, []):  # last: a corrected erratum check that finds rows fails the rule
        results[rule_id] = FAIL
    return dict(sorted(results.items()))
