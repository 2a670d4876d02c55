"""Amounts as people read them: to the cent, with thousands separators and the currency. Display only: every
stored amount stays an exact DECIMAL, and only what is printed or logged goes through here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Round half away from zero to 2 decimals (the tables carry 10)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal | str | int | None) -> str:
    """``1,234.56``; empty for no value."""
    return "" if value is None else f"{to_cents(Decimal(value)):,.2f}"


def amount(value: Decimal | str | int, currency: str | None) -> str:
    """``1,234.56 USD`` (``???`` when the currency is unknown: never a bare number that looks like one)."""
    return f"{cents(value)} {currency or '???'}"
