"""Anomaly rule: a day's cost more than ``threshold`` standard deviations from its trailing baseline.

The baseline is the ``baseline_days`` days before the judged day on which the org's rollup exists (a day
without a rollup is incomplete and never part of a baseline); a team with no cost on such a day counts 0.
At least ``min_baseline_days`` are needed. The deviation is measured against max(stddev, 5 % of the mean,
0.01): a flat baseline still flags a spike, and pennies never do (``min_cost``).

The first day of a month is neither judged nor part of any baseline: monthly fees, taxes and the recurring
charges of commitments land there (the demo's AWS tax, Azure and AWS purchases), so it jumps every month by
design and would both raise a false anomaly and widen the baseline of the days after it. Its spend still
counts in the budgets, whose forecast is the month's control for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

Q = Decimal("0.0000000001")
FLOOR_SHARE = Decimal("0.05")
FLOOR = Decimal("0.01")


def month_start(day: date) -> bool:
    """The day that carries a month's one-time and recurring charges: never judged, never a baseline day."""
    return day.day == 1


@dataclass(frozen=True)
class Judgement:
    cost: Decimal
    mean: Decimal
    stddev: Decimal
    z_score: Decimal
    baseline_days: int

    def is_anomaly(self, threshold: Decimal) -> bool:
        return abs(self.z_score) > threshold


def judge(
    series: Mapping[date, Decimal], day: date, complete_days: Sequence[date], baseline_days: int, min_days: int
) -> Judgement | None:
    """The day's deviation from its baseline, or None when the baseline is too short."""
    before = sorted(d for d in complete_days if d < day)[-baseline_days:]
    if len(before) < min_days:
        return None
    values = [series.get(d, Decimal(0)) for d in before]
    mean = sum(values, Decimal(0)) / len(values)
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / len(values)
    stddev = variance.sqrt()
    cost = series.get(day, Decimal(0))
    scale = max(stddev, abs(mean) * FLOOR_SHARE, FLOOR)
    return Judgement(cost, mean.quantize(Q), stddev.quantize(Q), ((cost - mean) / scale).quantize(Q), len(before))
