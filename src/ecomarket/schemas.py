"""The wire format shared by the central, the branches and the event bus.

Every model forbids unknown fields: a typo in a field name is an error that
names the field, never a silently ignored value.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ecomarket.config import BRANCH_ID_PATTERN
from ecomarket.money import MAX_CENTS, Money

MAX_QUANTITY = 100_000  # more of one product in one line is a typo at any till
MAX_LINES = 200
MAX_PRODUCT_ID = 2**31 - 1

ProductId = Annotated[int, Field(ge=1, le=MAX_PRODUCT_ID, strict=True)]
BranchId = Annotated[str, Field(pattern=BRANCH_ID_PATTERN)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
# Zero is refused by MovementIn's validator; the schema says so too, so that clients
# generated from /openapi.json never send it.
SignedQuantity = Annotated[
    int,
    Field(
        ge=-MAX_QUANTITY,
        le=MAX_QUANTITY,
        strict=True,
        json_schema_extra={"not": {"const": 0}},
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]

T = TypeVar("T")


def _iso_text(value: object) -> object:
    # pydantic would read a bare number as seconds since 1970; a till sends text.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date and time with a time zone")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text)]

_MAX_WHOLE_DIGITS = len(str(MAX_CENTS // 100 - 1))
_AMOUNT_TEXT = re.compile(rf"[0-9]{{1,{_MAX_WHOLE_DIGITS}}}(\.[0-9]{{1,2}})?")


def _amount_text(value: object) -> object:
    # A float on the wire has already lost exactness, and Decimal would also read
    # "1e2", " 3.5" or "NaN": the contract is plain decimal text like "3.50".
    if isinstance(value, bool | float):
        raise ValueError('must be a decimal string like "3.50"')
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        raise ValueError('must be a decimal string like "3.50"')
    return value


# What clients send for an amount; the schema declares exactly what is accepted.
Price = Annotated[
    Money,
    BeforeValidator(_amount_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^{_AMOUNT_TEXT.pattern}$"},
                {"type": "integer", "minimum": 0, "maximum": MAX_CENTS // 100 - 1},
            ],
            "examples": ["3.50"],
        }
    ),
]


class StrictModel(BaseModel):
    """Base of every request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ProductIn(StrictModel):
    """Body of ``PUT /api/v1/products/{id}``."""

    name: Name
    price: Price


class StockView(BaseModel):
    """Stock of one product: the chain total and each branch."""

    total: int
    branches: dict[str, int]


class ProductOut(BaseModel):
    """A product as read from the central."""

    id: int
    name: str
    price: str
    version: int  # grows with every change; branches apply catalogue events in its order
    stock: StockView
    below_zero: bool = False


class SaleLine(StrictModel):
    """One line of a sale: what was sold, how many, at which unit price."""

    product_id: ProductId
    quantity: Quantity
    unit_price: Price


class SaleIn(StrictModel):
    """A sale as the till recorded it; the sale id makes every retry safe."""

    sale_id: UUID
    branch_id: BranchId
    sold_at: Moment
    lines: Annotated[list[SaleLine], Field(min_length=1, max_length=MAX_LINES)]


class SaleOut(BaseModel):
    """A sale as recorded in the central's ledger."""

    sale_id: str
    branch_id: str
    sold_at: str
    lines: list[dict[str, object]]
    total: str
    sequence: int
    applied_by: str
    applied_at: str


class MovementReason(StrEnum):
    """Why stock moved at a branch without a sale."""

    RECEIVED = "received"
    SHRINKAGE = "shrinkage"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    CORRECTION = "correction"
    RETURNED = "returned"


# Reasons whose sign is fixed by their meaning; a correction may go either way.
_POSITIVE_REASONS = {MovementReason.RECEIVED, MovementReason.TRANSFER_IN, MovementReason.RETURNED}
_NEGATIVE_REASONS = {MovementReason.SHRINKAGE, MovementReason.TRANSFER_OUT}


def _sign_rule(reasons: set[MovementReason], bound: dict[str, int]) -> dict[str, Any]:
    return {
        "if": {
            "properties": {"reason": {"enum": sorted(r.value for r in reasons)}},
            "required": ["reason"],
        },
        "then": {"properties": {"quantity": bound}},
    }


class MovementIn(StrictModel):
    """A stock movement made at the central for one product at one branch."""

    # The schema states the sign rule of ``_check_sign`` too.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                _sign_rule(_POSITIVE_REASONS, {"minimum": 1}),
                _sign_rule(_NEGATIVE_REASONS, {"maximum": -1}),
            ]
        },
    )

    movement_id: UUID
    branch_id: BranchId
    product_id: ProductId
    # Declared before quantity so that the quantity check can see it.
    reason: MovementReason
    quantity: SignedQuantity

    @field_validator("quantity")
    @classmethod
    def _check_sign(cls, quantity: int, info: ValidationInfo) -> int:
        reason = info.data.get("reason")
        if quantity == 0:
            raise ValueError("must not be zero")
        if reason in _POSITIVE_REASONS and quantity < 0:
            raise ValueError(f"must be positive for reason {reason.value!r}")
        if reason in _NEGATIVE_REASONS and quantity > 0:
            raise ValueError(f"must be negative for reason {reason.value!r}")
        return quantity


class MovementOut(BaseModel):
    """A stock movement as recorded in the central's ledger."""

    sequence: int
    movement_id: str
    branch_id: str
    product_id: int
    quantity: int
    reason: MovementReason
    applied_by: str
    applied_at: str


class CustomerIn(StrictModel):
    """A customer registered at a branch."""

    customer_id: UUID
    email: EmailStr
    name: Name
    branch_id: BranchId


class CustomerOut(BaseModel):
    """A customer as recorded in the register."""

    sequence: int
    customer_id: str
    email: str
    name: str
    branch_id: str
    registered_by: str
    registered_at: str


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None


class Stats(BaseModel):
    """Chain-wide figures for the dashboard and for monitoring."""

    products: int
    sales: int
    revenue: str
    customers: int
    customers_counted: int
    notifications: int
    duplicates_suppressed: int
    products_below_zero: int
    movements: int
    dead_letters: int
    branches: list[str]
    sales_by_branch: dict[str, int]


def utc_iso(moment: datetime) -> str:
    """ISO 8601 text of an aware moment, the form stored and sent everywhere."""
    return moment.isoformat()
