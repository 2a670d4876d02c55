"""One run's values, resolved once per task and passed down: the org file, the provider's billing config, the
export format, the rules that judge its deliveries, the raw table's schema and the warehouse. No stage reads a
config file again or looks a value up backwards (a format from its table name)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from cloudcost.config import BillingConfig, OrgConfig, Provider, RawFormat
from cloudcost.core.run_context import RunContext
from cloudcost.pipeline.delivery_guards import DeliveryRules
from cloudcost.schemas import TableSchema
from cloudcost.warehouse.base import Warehouse


@dataclass(frozen=True)
class ResolvedRun:
    run: RunContext
    org: OrgConfig
    dataset: str
    billing: BillingConfig
    source_format: str
    format: RawFormat
    rules: DeliveryRules
    schema: TableSchema
    warehouse: Warehouse

    def on_day(self, day: date, logical_date: date | None = None) -> ResolvedRun:
        """The same run for another billing day (the recheck reloads past days; a task may load several days);
        the lineage's run date stays unless ``logical_date`` is given."""
        return replace(self, run=replace(self.run, billing_day=day, logical_date=logical_date or self.run.logical_date))


def export_format(billing: BillingConfig, org: OrgConfig, provider: Provider) -> tuple[str, RawFormat]:
    """The org's export format for the provider, by name and as configured in its billing.yml."""
    name = org.providers[provider].export.format
    if name not in billing.formats:
        raise ValueError(
            f"configs/orgs/{org.slug}.yml: key 'providers.{provider}.export.format': {name!r} is not "
            f"one of the formats in configs/cloud/{provider}/cost/billing.yml ({', '.join(billing.formats)})"
        )
    return name, billing.formats[name]
