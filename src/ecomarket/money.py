"""Exact money: decimal strings on the wire, integer cents inside."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

MAX_CENTS = 10**11  # a billion in any currency is a typo, not a price


def to_cents(amount: Decimal) -> int:
    """Whole cents of an amount that has at most two decimal places."""
    return int(amount * 100)


def from_cents(cents: int) -> str:
    """The decimal string of an amount of cents, always with two places."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _check_amount(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite amount")
    if value < 0:
        raise ValueError("must not be negative")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValueError("must have at most two decimal places")
    if to_cents(value) >= MAX_CENTS:
        raise ValueError("is too large")
    return value.quantize(Decimal("0.01"))


# A non-negative amount with at most two places. Floats are refused (strict) because
# a float on the wire has already lost exactness; JSON strings like "3.50" are the contract.
Money = Annotated[
    Decimal,
    AfterValidator(_check_amount),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
]
