"""The FOCUS requirements model the validator runs (``model-1.3.json``), read for what the JUnit XML omits.

The XML says only "Nullability check for X"; the model has each rule's requirement text and keyword, and the
composite tree. The tree matters because focus-validator 2.2.1 runs a child rule that names no applicability
criterion even when its parent composite is gated on a criterion we do not claim (e.g. "PricingCurrency MUST
NOT be null" under "PricingCurrency adheres to ..." gated on PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED);
the spec makes the whole column conditional, so we treat such a child as not applicable.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

Gate = tuple[frozenset[str], ...]  # a corrected gate: the rule applies when all criteria of one set are claimed


@dataclass(frozen=True)
class ModelRule:
    rule_id: str
    function: str  # Composite, Nullability, Format, Validation, Presence, ...
    keyword: str  # MUST, SHOULD, MAY, RECOMMENDED, ...
    requirement: str  # the rule's MustSatisfy text
    criteria: tuple[str, ...]  # its own applicability criteria (any one enables it)
    children: tuple[str, ...]  # rules a composite combines
    dataset: str | None = None  # the FOCUS dataset it judges (CostAndUsage, BillingPeriod, ...); None: any dataset

    @property
    def is_composite(self) -> bool:
        return bool(self.children)


def _rule_refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("CheckFunction") == "CheckModelRule" and isinstance(node.get("ModelRuleId"), str):
            yield node["ModelRuleId"]
        for value in node.values():
            yield from _rule_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _rule_refs(item)


class RulesModel:
    """Rules, criteria and the composite tree of one model file."""

    def __init__(self, path: Path, data: dict) -> None:
        self.path = path
        self.version = str(data.get("Details", {}).get("ModelVersion", "unknown"))
        self.focus_version = str(data.get("Details", {}).get("FOCUSVersion", "unknown"))
        self.criteria: dict[str, str] = {
            name: str(value.get("Description", "")) if isinstance(value, dict) else str(value)
            for name, value in data.get("ApplicabilityCriteria", {}).items()
        }
        self.rules: dict[str, ModelRule] = {}
        parents: dict[str, set[str]] = {}
        for rule_id, raw in data.get("ModelRules", {}).items():
            criteria = raw.get("ValidationCriteria", {})
            children = tuple(dict.fromkeys(_rule_refs(criteria.get("Requirement", {}))))
            self.rules[rule_id] = ModelRule(
                rule_id=rule_id,
                function=str(raw.get("Function", "")),
                keyword=str(criteria.get("Keyword", "")),
                requirement=" ".join(str(criteria.get("MustSatisfy", "")).split()),
                criteria=tuple(raw.get("ApplicabilityCriteria") or ()),
                children=children,
                dataset=raw.get("DatasetId"),
            )
            for child in children:
                parents.setdefault(child, set()).add(rule_id)
        self.parents = {child: tuple(sorted(ids)) for child, ids in parents.items()}
        self.gates: dict[str, Gate] = {}

    def with_gates(self, gates: dict[str, Gate]) -> RulesModel:
        """A copy in which each rule of ``gates`` applies by its corrected gate instead of its own criteria (the
        validator reads a rule's criteria as any-of, where the spec may require several together)."""
        corrected = copy.copy(self)
        corrected.gates = {**self.gates, **gates}
        return corrected

    def get(self, rule_id: str) -> ModelRule | None:
        return self.rules.get(rule_id)

    def judges(self, rule_id: str, dataset: str) -> bool:
        """Whether a run over ``dataset`` reaches the rule (a rule of no dataset, or unknown here, reaches every)."""
        rule = self.rules.get(rule_id)
        return rule is None or rule.dataset in (None, dataset)

    def applicable(self, rule_id: str, claims: Iterable[str]) -> bool:
        """Whether the rule applies under ``claims``: its own criteria (if any) are claimed, and some chain
        of composites above it (if it has parents) applies too."""
        return self._applicable(rule_id, frozenset(claims), frozenset())

    def blocking_criteria(self, rule_id: str, claims: Iterable[str]) -> list[str]:
        """Unclaimed criteria on the rule or its ancestors that make it not applicable (for the report)."""
        claimed, todo = frozenset(claims), [rule_id]
        found: set[str] = set()
        seen: set[str] = set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            rule = self.rules.get(current)
            if rule and not self._enabled(rule, claimed):
                gate = self.gates.get(current)
                found.update(frozenset().union(*gate) - claimed if gate else rule.criteria)
            todo.extend(self.parents.get(current, ()))
        return sorted(found)

    def _applicable(self, rule_id: str, claims: frozenset[str], path: frozenset[str]) -> bool:
        rule = self.rules.get(rule_id)
        if rule is None:
            return True  # not in the model: nothing tells us otherwise
        if not self._enabled(rule, claims):
            return False
        parents = [p for p in self.parents.get(rule_id, ()) if p not in path]
        if not parents:
            return True
        return any(self._applicable(parent, claims, path | {rule_id}) for parent in parents)

    def _enabled(self, rule: ModelRule, claims: frozenset[str]) -> bool:
        """The rule's own gate: its corrected gate if it has one, else any one of its criteria (or none)."""
        gate = self.gates.get(rule.rule_id)
        if gate is not None:
            return any(group <= claims for group in gate)
        return not rule.criteria or bool(claims.intersection(rule.criteria))


@cache
def _load(path: Path, mtime_ns: int) -> RulesModel:
    return RulesModel(path, json.loads(path.read_text(encoding="utf-8")))


def load_model(rules_dir: Path, focus_version: str = "1.3") -> RulesModel:
    """``model-<focus_version>.json`` from the offline rules folder."""
    path = rules_dir / f"model-{focus_version}.json"
    return _load(path, path.stat().st_mtime_ns)
