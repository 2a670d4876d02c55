"""In-warehouse FOCUS conformance checks, row level, in SQL: fast enough to gate every run.

The FinOps Foundation's validator is the referee for whole files; it misses a single bad value among
good rows, which these checks catch. Each rule counts offending rows in the run's slice. The rules are derived
from the FOCUS table they check, so every version registered in ``cloudcost.schemas.FOCUS_SCHEMA_FILES`` gets
them: 1.3 always, a later version once its table exists in the org's dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.paths import schemas_dir
from cloudcost.pipeline.billing_period_rules import BILLING_PERIOD_VERSION, billing_period_violations
from cloudcost.schemas import (
    FOCUS_SCHEMA_FILES,
    PRIMARY_FOCUS_VERSION,
    TableSchema,
    billing_period_1_4_schema,
    focus_schema,
    quote_column,
)
from cloudcost.warehouse.base import Warehouse
from cloudcost.yaml_text import parse_yaml


class FocusRuleViolation(AssertionError):
    """Rows of the slice break FOCUS rules; the message lists each rule and how many rows break it."""


@dataclass(frozen=True)
class Rule:
    rule_id: str
    description: str
    violation: str  # SQL predicate true for an offending row


def _literal_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


@cache
def allowed_values() -> dict:
    return parse_yaml((schemas_dir() / "focus/allowed_values.yml").read_text(encoding="utf-8"))


def rules(schema: TableSchema | None = None) -> list[Rule]:
    """Mandatory non-null columns, allowed values, currency format, period order, cost relations of ``schema``
    (the 1.3 table by default); an allowed-values rule is kept only for a column the table has."""
    schema = schema or focus_schema()
    out = []
    for column in schema.columns:
        if not column.nullable and not column.name.startswith("x_"):
            out.append(
                Rule(
                    f"{column.name}-not-null", f"{column.name} must not be null", f"{quote_column(column.name)} is null"
                )
            )
    values = allowed_values()
    for column, allowed in values["enums"].items():
        if column not in schema.column_names:
            continue
        ref = quote_column(column)
        out.append(
            Rule(
                f"{column}-allowed",
                f"{column} must be one of {allowed}",
                f"{ref} is not null and {ref} not in ({_literal_list(allowed)})",
            )
        )
    pairs = [f"('{c}', '{s}')" for c, subs in values["service_subcategories"].items() for s in subs]
    out += [
        Rule(
            "ServiceSubcategory-matches-category",
            "ServiceSubcategory must belong to its ServiceCategory",
            "ServiceSubcategory is not null and (ServiceCategory, ServiceSubcategory) "
            f"not in (values {', '.join(pairs)})",
        ),
        Rule(
            "BillingCurrency-format",
            "BillingCurrency is an ISO 4217 code",
            "not regexp_full_match(BillingCurrency, '[A-Z]{3}')",
        ),
        Rule("ChargePeriod-order", "ChargePeriodStart < ChargePeriodEnd", "not (ChargePeriodStart < ChargePeriodEnd)"),
        Rule(
            "BillingPeriod-order",
            "BillingPeriodStart < BillingPeriodEnd",
            "not (BillingPeriodStart < BillingPeriodEnd)",
        ),
        Rule(
            "CoveredUsage-billed-zero",
            "commitment-covered usage has BilledCost 0",
            "ChargeCategory = 'Usage' and CommitmentDiscountStatus = 'Used' and BilledCost <> 0",
        ),
        Rule(
            "Tax-has-no-pricing-category",
            "PricingCategory is null for Tax charges",
            "ChargeCategory = 'Tax' and PricingCategory is not null",
        ),
    ]
    return out


def check_focus_rules(
    warehouse: Warehouse, dataset: str, run: RunContext, version: str = PRIMARY_FOCUS_VERSION
) -> dict[str, int]:
    """Count violations of every rule in the run's slice of the ``version`` table (for 1.4, and the Billing Period
    rows of the periods the slice holds); raise if any rule has offending rows."""
    schema = focus_schema(version)
    table = qualified(dataset, schema.table)
    all_rules = rules(schema)
    counts = ", ".join(f"count(*) filter (where {rule.violation}) as r{i}" for i, rule in enumerate(all_rules))
    with warehouse.session(dataset) as session:
        row = session.fetchall(
            f"select {counts} from {table} where x_cloud_provider = ? and x_ingestion_date = ?",
            [run.provider, run.billing_day],
        )[0]
        counts_by_rule = {rule.rule_id: int(n) for rule, n in zip(all_rules, row, strict=True)}
        if version == BILLING_PERIOD_VERSION and warehouse.table_exists(
            session, dataset, billing_period_1_4_schema().table
        ):
            counts_by_rule |= billing_period_violations(session, dataset, run)
    failures = {rule_id: n for rule_id, n in counts_by_rule.items() if n}
    if failures:
        detail = "; ".join(f"{rule_id}: {n} row(s)" for rule_id, n in failures.items())
        raise FocusRuleViolation(f"{run.org}/{run.provider} {run.billing_day}: FOCUS {version} rules broken: {detail}")
    return counts_by_rule


def versions_to_check(warehouse: Warehouse, dataset: str) -> list[str]:
    """The primary version, then every other registered version whose table the org's dataset holds."""
    with warehouse.session(dataset) as session:
        present = warehouse.tables(session, dataset)
    return [PRIMARY_FOCUS_VERSION] + [
        version
        for version in FOCUS_SCHEMA_FILES
        if version != PRIMARY_FOCUS_VERSION and focus_schema(version).table in present
    ]


def check_every_focus_version(warehouse: Warehouse, dataset: str, run: RunContext) -> dict[str, dict[str, int]]:
    """The daily check: the rules of each version in ``versions_to_check`` on the run's slice, first failure
    raised; returns version -> rule id -> 0."""
    return {
        version: check_focus_rules(warehouse, dataset, run, version)
        for version in versions_to_check(warehouse, dataset)
    }
