"""What we claim about FOCUS conformance, per provider, and which validator rules are known to be wrong.

Kept as data (``configs/focus_conformance.yml``) so a claim is reviewed like any other config and the referee
test reads the errata from the same place the report does.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cloudcost.config import Provider
from cloudcost.paths import config_dir

CRITERION = r"^[A-Z][A-Z0-9_]{2,80}$"
RULE_ID = r"^[A-Za-z][A-Za-z0-9-]{2,120}$"


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

    @model_validator(mode="after")
    def _names(self) -> ProviderClaim:
        for name in [*self.claims, *self.not_claimed]:
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


class Focus14Provider(_Strict):
    """What FOCUS 1.4 adds for one provider: column -> how it is filled or why NULL; dataset -> why not produced."""

    columns: dict[str, str] = Field(default_factory=dict)
    billing_period: dict[str, str] = Field(default_factory=dict)
    datasets: dict[str, str] = Field(default_factory=dict)


class Focus14(_Strict):
    providers: dict[Provider, Focus14Provider]


class Conformance(_Strict):
    providers: dict[Provider, ProviderClaim]
    focus_1_4: Focus14 | None = None
    errata: dict[str, Erratum] = Field(default_factory=dict)

    def claim(self, provider: Provider) -> ProviderClaim | None:
        return self.providers.get(provider)


def conformance_path() -> Path:
    return config_dir() / "focus_conformance.yml"


@cache
def _load(path: Path, mtime_ns: int) -> Conformance:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConformanceConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        conformance = Conformance.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise ConformanceConfigError(f"{path}: {problems}") from None
    bad = [rule_id for rule_id in conformance.errata if not re.fullmatch(RULE_ID, rule_id)]
    if bad:
        raise ConformanceConfigError(f"{path}: key 'errata': not rule ids: {bad}")
    return conformance


def load_conformance(path: Path | None = None) -> Conformance:
    """The parsed conformance file (re-read when it changes on disk)."""
    path = path or conformance_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConformanceConfigError(f"{path}: cannot read: {exc}") from exc
    return _load(path, mtime)


def check_against_model(conformance: Conformance, criteria: dict[str, str], path: Path | None = None) -> None:
    """Every criterion named must exist in the rules model, and each provider must account for all of them.

    The validator only logs an unknown criterion and then skips its rules, so a typo would silently weaken
    the referee; we refuse it instead.
    """
    path = path or conformance_path()
    problems = []
    for provider, claim in conformance.providers.items():
        named = [*claim.claims, *claim.not_claimed]
        unknown = sorted(set(named) - set(criteria))
        if unknown:
            problems.append(f"providers.{provider}: unknown criteria {unknown}")
        missing = sorted(set(criteria) - set(named))
        if missing:
            problems.append(f"providers.{provider}: neither claimed nor in not_claimed: {missing}")
    if problems:
        raise ConformanceConfigError(f"{path}: " + "; ".join(problems))
