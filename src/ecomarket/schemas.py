"""The wire format shared by the central, the branches and the event bus.

Every model forbids unknown fields: a typo in a field name is an error that
names the field, never a silently ignored value.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
)

from ecomarket.config import BRANCH_ID_PATTERN
from ecomarket.money import Money

MAX_QUANTITY = 100_000  # more of one product in one line is a typo at any till
MAX_LINES = 200

ProductId = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]
BranchId = Annotated[str, Field(pattern=BRANCH_ID_PATTERN)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
SignedQuantity = Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, strict=True)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

T = TypeVar("T")


def _iso_text(value: object) -> object:
    # pydantic would read a bare number as seconds since 1970; a till sends text.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date and time with a time zone")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class StrictModel(BaseModel):
    """Base of every request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ProductIn(StrictModel):
    """Body of ``PUT /api/v1/products/{id}``."""

    name: Name
    price: Money


class StockView(BaseModel):
    """Stock of one product: the chain total and each branch."""

    total: int
    branches: dict[str, int]


class ProductOut(BaseModel):
    """A product as read from the central."""

    id: int
    name: str
    price: str
    stock: StockView
    below_zero: bool = False


class SaleLine(StrictModel):
    """One line of a sale: what was sold, how many, at which unit price."""

    product_id: ProductId
    quantity: Quantity
    unit_price: Money


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


class MovementIn(StrictModel):
    """A stock movement made at the central for one product at one branch."""

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


class CustomerIn(StrictModel):
    """A customer registered at a branch."""

    customer_id: UUID
    email: EmailStr
    name: Name
    branch_id: BranchId


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
