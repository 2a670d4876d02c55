"""What we claim about FOCUS conformance, per provider, and which validator rules are known to be wrong.

Kept as data (``configs/focus_conformance.yml``) so a claim is reviewed like any other config and the referee
test reads the errata from the same place the report does. Claims and errata are per FOCUS version: the primary
version's (1.3) at the top of the file, every other version's under ``versions.<version>`` in the same shape.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cloudcost.config import Provider
from cloudcost.paths import config_dir
from cloudcost.schemas import PRIMARY_FOCUS_VERSION
from cloudcost.validate.model import Gate
from cloudcost.yaml_text import YAMLError, parse_yaml

CRITERION = r"^[A-Z][A-Z0-9_]{2,80}$"
FocusDataset = Literal["CostAndUsage", "BillingPeriod", "ContractCommitment", "InvoiceDetail"]  # --focus-dataset
COST_AND_USAGE: FocusDataset = "CostAndUsage"  # the dataset ``claims`` are worked out for
BILLING_PERIOD: FocusDataset = "BillingPeriod"
RULE_ID = r"^[A-Za-z][A-Za-z0-9-]{2,120}$"
FOCUS_VERSION = r"^[1-9][0-9]*\.[0-9]+$"


class ConformanceConfigError(ValueError):
    """``configs/focus_conformance.yml`` is missing or invalid; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderClaim(_Strict):
    """The applicability criteria we claim for one provider's FOCUS rows, and why we claim no others."""

    mapping: str | None = Field(default=None, description="the procedure the claim was worked out for")
    formats: list[str] = Field(default_factory=list, description="x_source_format values the claim covers")
    claims: list[str] = Field(default_factory=list)
    not_claimed: dict[str, str] = Field(default_factory=dict, description="criterion -> reason")
    dataset_claims: dict[FocusDataset, list[str]] = Field(
        default_factory=dict, description="dataset -> criteria claimed for that dataset's run only (beside claims)"
    )

    def claims_for(self, dataset: FocusDataset = COST_AND_USAGE) -> list[str]:
        """The criteria claimed when judging ``dataset``: ``claims`` and that dataset's own, sorted."""
        return sorted({*self.claims, *self.dataset_claims.get(dataset, [])})

    @model_validator(mode="after")
    def _names(self) -> ProviderClaim:
        for name in [*self.claims, *self.not_claimed, *(c for cs in self.dataset_claims.values() for c in cs)]:
            if not re.fullmatch(CRITERION, name):
                raise ValueError(f"{name!r} is not an applicability criterion name")
        both = sorted(set(self.claims) & set(self.not_claimed))
        if both:
            raise ValueError(f"claimed and not claimed at once: {both}")
        return self


class Erratum(_Strict):
    """A rule the validator checks wrongly; ``violation`` is the rule as the spec states it (SQL predicate)."""

    effect: Literal["false failure", "false pass"]
    reason: str = Field(min_length=10)
    violation: str | None = None
    gate: list[list[str]] | None = Field(
        default=None,
        description="the rule applies when every criterion of one list is claimed (the spec's gate, replacing the "
        "model's criteria, which the validator reads as any-of)",
    )

    @model_validator(mode="after")
    def _gate_names(self) -> Erratum:
        for group in self.gate or []:
            if not group:
                raise ValueError("an empty list in gate would enable the rule under any claims")
            for name in group:
                if not re.fullmatch(CRITERION, name):
                    raise ValueError(f"{name!r} is not an applicability criterion name")
        return self


class AdditionsOfProvider(_Strict):
    """What FOCUS 1.4 adds for one provider: column -> how it is filled or why NULL; dataset -> why not produced."""

    columns: dict[str, str] = Field(default_factory=dict)
    billing_period: dict[str, str] = Field(default_factory=dict)
    datasets: dict[str, str] = Field(default_factory=dict)


class Additions(_Strict):
    providers: dict[Provider, AdditionsOfProvider]


class Conformance(_Strict):
    """The claims and errata of one FOCUS version."""

    providers: dict[Provider, ProviderClaim]
    additions: Additions | None = None  # what this version adds to the one before it, per provider
    errata: dict[str, Erratum] = Field(default_factory=dict)

    def claim(self, provider: Provider) -> ProviderClaim | None:
        return self.providers.get(provider)

    def gates(self) -> dict[str, Gate]:
        """The corrected gate of each erratum that has one (``RulesModel.with_gates``)."""
        return {
            rule_id: tuple(frozenset(group) for group in erratum.gate)
            for rule_id, erratum in self.errata.items()
            if erratum.gate is not None
        }


class ConformanceFile(Conformance):
    """The whole file: the primary version's claims and errata, and each other version's under ``versions``."""

    versions: dict[str, Conformance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _version_keys(self) -> ConformanceFile:
        for version in self.versions:
            if not re.fullmatch(FOCUS_VERSION, version):
                raise ValueError(f"{version!r} is not a FOCUS version like '1.4'")
            if version == PRIMARY_FOCUS_VERSION:
                raise ValueError(f"FOCUS {version} is the primary version: its claims are at the top of the file")
        return self

    def of_version(self, version: str) -> Conformance | None:
        """The claims and errata of ``version`` (``None``: the file has no section for it)."""
        if version == PRIMARY_FOCUS_VERSION:
            return Conformance(providers=self.providers, errata=self.errata)
        return self.versions.get(version)


def conformance_path() -> Path:
    return config_dir() / "focus_conformance.yml"


@cache
def _load(path: Path, mtime_ns: int) -> ConformanceFile:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ConformanceConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        conformance = ConformanceFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise ConformanceConfigError(f"{path}: {problems}") from None
    sections = {"errata": conformance, **{f"versions.{v}.errata": c for v, c in conformance.versions.items()}}
    for key, section in sections.items():
        bad = [rule_id for rule_id in section.errata if not re.fullmatch(RULE_ID, rule_id)]
        if bad:
            raise ConformanceConfigError(f"{path}: key '{key}': not rule ids: {bad}")
    return conformance


def load_conformance(path: Path | None = None, version: str = PRIMARY_FOCUS_VERSION) -> Conformance:
    """The claims and errata of FOCUS ``version`` from the conformance file (re-read when it changes on disk)."""
    path = path or conformance_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConformanceConfigError(f"{path}: cannot read: {exc}") from exc
    conformance = _load(path, mtime).of_version(version)
    if conformance is None:
        raise ConformanceConfigError(f"{path}: key 'versions': no section for FOCUS {version}")
    return conformance


def check_against_model(conformance: Conformance, criteria: dict[str, str], path: Path | None = None) -> None:
    """Every criterion named must exist in the rules model, and each provider must account for all of them.

    The validator only logs an unknown criterion and then skips its rules, so a typo would silently weaken
    the referee; we refuse it instead.
    """
    path = path or conformance_path()
    problems = []
    gated = {c for gate in conformance.gates().values() for group in gate for c in group}
    if gated - set(criteria):
        problems.append(f"errata: unknown criteria in a gate {sorted(gated - set(criteria))}")
    for provider, claim in conformance.providers.items():
        named = [*claim.claims, *claim.not_claimed]
        by_dataset = [c for claimed in claim.dataset_claims.values() for c in claimed]
        unknown = sorted(set(named + by_dataset) - set(criteria))
        if unknown:
            problems.append(f"providers.{provider}: unknown criteria {unknown}")
        missing = sorted(set(criteria) - set(named))
        if missing:
            problems.append(f"providers.{provider}: neither claimed nor in not_claimed: {missing}")
    if problems:
        raise ConformanceConfigError(f"{path}: " + "; ".join(problems))
