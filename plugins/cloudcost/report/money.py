"""Display rounding of exact Decimals: cents that add up to the rounded total, and percentages."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
ZERO = Decimal(0)


def to_cents(value: Decimal) -> Decimal:
    """Round half away from zero to 2 decimals (the rollups carry 10)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate_cents(values: Sequence[Decimal]) -> tuple[list[Decimal], Decimal]:
    """Rows rounded to cents whose sum is exactly the rounded total (largest-remainder rounding).

    Rounding each row on its own can leave the column a cent or more off its total; here every row is
    floored to the cent and the cents the total still needs go to the rows with the largest remainders,
    so a row is never more than one cent from its exact value and the table adds up.
    """
    total = to_cents(sum(values, ZERO))
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    missing = int((total - sum(floors, ZERO)) / CENT)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    parts = list(floors)
    for i in order[:missing]:
        parts[i] += CENT
    return parts, total


def money(value: Decimal | None) -> str:
    """``1,234.56``; an already-rounded value is shown as is."""
    return "" if value is None else f"{to_cents(value):,.2f}"


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, one decimal; None when the whole is zero."""
    if whole == 0:
        return None
    return (part * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def signed_money(value: Decimal) -> str:
    """``+12.30`` / ``-4.00``: the direction of a change."""
    return f"{to_cents(value):+,.2f}"
