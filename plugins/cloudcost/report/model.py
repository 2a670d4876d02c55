"""What a report holds: exact Decimal aggregates of the rollups for one org and date range.

Formatting (terminal.py, html.py) reads only these objects, so both outputs show the same numbers. Every
amount carries its BillingCurrency; a total is taken only over one currency (``in_currency``): the sums
below refuse a ReportData that still holds several.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from cloudcost.report.money import ZERO, share

UNTAGGED = "__untagged__"
BASIS = "EffectiveCost"
MOVERS_METHOD = (
    "EffectiveCost of the second half of the range vs the first half (equal numbers of calendar days; "
    "the middle day of an odd-length range is in neither)"
)


@dataclass(frozen=True)
class ProviderLine:
    """One provider's spend and untagged share, in one currency: over the range, or of one day (the subclass)."""

    provider: str
    currency: str
    effective_cost: Decimal
    billed_cost: Decimal
    untagged_effective_cost: Decimal
    rows: int
    untagged_rows: int

    @property
    def untagged_share(self) -> Decimal | None:
        """Untagged EffectiveCost as a % of the provider's EffectiveCost."""
        return share(self.untagged_effective_cost, self.effective_cost)

    @property
    def untagged_rows_share(self) -> Decimal | None:
        return share(Decimal(self.untagged_rows), Decimal(self.rows))


@dataclass(frozen=True)
class DailyProviderCost(ProviderLine):
    """One provider's day: the grain of the stacked daily chart and the untagged trend."""

    day: date = field(kw_only=True)


@dataclass(frozen=True)
class CostLine:
    """A service category or a team (``count`` > 1: the "other" line folding the smaller ones)."""

    name: str
    currency: str
    effective_cost: Decimal
    billed_cost: Decimal
    count: int = 1


@dataclass(frozen=True)
class Mover:
    kind: str  # "team" or "service category"
    name: str
    currency: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def change_share(self) -> Decimal | None:
        return share(self.change, abs(self.before)) if self.before else None


@dataclass(frozen=True)
class TagKeyLine:
    """A tag key seen on rows without a team that maps to no attribution dimension."""

    provider: str
    currency: str
    tag_key: str
    rows: int
    effective_cost: Decimal
    provider_untagged_rows: int

    @property
    def rows_share(self) -> Decimal | None:
        """Share of the provider's untagged rows that carry the key."""
        return share(Decimal(self.rows), Decimal(self.provider_untagged_rows))


@dataclass(frozen=True)
class BudgetLine:
    budget: str
    team: str
    basis: str
    currency: str
    amount: Decimal
    actual_to_date: Decimal
    forecast: Decimal
    status: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class AnomalyLine:
    charge_day: date
    team: str
    service_category: str
    currency: str
    cost: Decimal
    baseline_mean: Decimal
    z_score: Decimal
    threshold: Decimal


@dataclass(frozen=True)
class AlertLine:
    charge_day: date
    kind: str
    severity: str
    subject: str
    message: str
    resolved: bool


@dataclass(frozen=True)
class Halves:
    """The two equal periods the top movers compare."""

    first: tuple[date, date]
    second: tuple[date, date]

    @classmethod
    def of(cls, start: date, end: date) -> Halves | None:
        """None for a one-day range: there is nothing to compare."""
        half = ((end - start).days + 1) // 2
        if half < 1:
            return None
        return cls((start, start + timedelta(days=half - 1)), (end - timedelta(days=half - 1), end))


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows. ``budgets``/``anomalies``/``alerts`` are None when their table does not
    exist (no evaluation has run yet), which the outputs tell apart from "evaluated, nothing found"."""

    org: str
    org_name: str
    dataset: str
    start: date
    end: date
    daily: list[DailyProviderCost]
    categories: list[CostLine]
    teams: list[CostLine]
    movers: list[Mover]
    halves: Halves | None
    tag_keys: list[TagKeyLine]
    budgets: list[BudgetLine] | None = None
    budget_as_of: date | None = None
    anomalies: list[AnomalyLine] | None = None
    alerts: list[AlertLine] | None = None
    generated_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def days_with_data(self) -> list[date]:
        return sorted({d.day for d in self.daily})

    @property
    def provider_names(self) -> list[str]:
        return sorted({d.provider for d in self.daily})

    @property
    def currencies(self) -> list[str]:
        """Every BillingCurrency of the range's rollups, in name order."""
        return sorted({d.currency for d in self.daily} | {line.currency for line in self.categories + self.teams})

    def in_currency(self, currency: str) -> ReportData:
        """The report of the spend billed in ``currency`` only: the one view whose sums may be taken."""
        return replace(
            self,
            daily=[d for d in self.daily if d.currency == currency],
            categories=[line for line in self.categories if line.currency == currency],
            teams=[line for line in self.teams if line.currency == currency],
            movers=[m for m in self.movers if m.currency == currency],
            tag_keys=[k for k in self.tag_keys if k.currency == currency],
        )

    def one_currency(self) -> str | None:
        """The one currency of this data (None without spend); an error where amounts of several would be added."""
        currencies = self.currencies
        if len(currencies) > 1:
            raise ValueError(f"amounts in {', '.join(currencies)} cannot be added: take in_currency() first")
        return currencies[0] if currencies else None

    @property
    def providers(self) -> list[ProviderLine]:
        """Per provider over the range, largest EffectiveCost first (of one currency)."""
        currency = self.one_currency()
        lines = []
        for provider in self.provider_names:
            days = [d for d in self.daily if d.provider == provider]
            lines.append(
                ProviderLine(
                    provider,
                    currency or "",
                    sum((d.effective_cost for d in days), ZERO),
                    sum((d.billed_cost for d in days), ZERO),
                    sum((d.untagged_effective_cost for d in days), ZERO),
                    sum(d.rows for d in days),
                    sum(d.untagged_rows for d in days),
                )
            )
        return sorted(lines, key=lambda p: (-p.effective_cost, p.provider))

    @property
    def effective_cost(self) -> Decimal:
        self.one_currency()  # refuses a sum across currencies
        return sum((d.effective_cost for d in self.daily), ZERO)

    @property
    def billed_cost(self) -> Decimal:
        self.one_currency()
        return sum((d.billed_cost for d in self.daily), ZERO)

    @property
    def untagged_effective_cost(self) -> Decimal:
        self.one_currency()
        return sum((d.untagged_effective_cost for d in self.daily), ZERO)

    @property
    def untagged_share(self) -> Decimal | None:
        return share(self.untagged_effective_cost, self.effective_cost)

    def untagged_trend(self, provider: str | None = None) -> list[tuple[date, Decimal | None]]:
        """Untagged % of EffectiveCost per day of the range (None on days without cost), of one currency."""
        self.one_currency()
        trend = []
        for day in self.days:
            rows = [d for d in self.daily if d.day == day and provider in (None, d.provider)]
            trend.append(
                (
                    day,
                    share(
                        sum((d.untagged_effective_cost for d in rows), ZERO),
                        sum((d.effective_cost for d in rows), ZERO),
                    ),
                )
            )
        return trend
