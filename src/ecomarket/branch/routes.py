"""The branch's HTTP API: the till, the catalogue copy, the outbox and its delivery mode."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, EmailStr, Field

from ecomarket.branch import catalogue, outbox, till
from ecomarket.branch.modes import DeliveryMode, parse_mode
from ecomarket.branch.state import Branch
from ecomarket.money import Money, to_cents
from ecomarket.schemas import MAX_LINES, Name, ProductId, Quantity, StrictModel

logger = logging.getLogger(__name__)
router = APIRouter()


class TillLine(StrictModel):
    """One line as the till sends it."""

    product_id: ProductId
    quantity: Quantity


class TillSale(StrictModel):
    """Body of ``POST /api/v1/sales`` at a branch: the branch prices the lines itself."""

    lines: Annotated[list[TillLine], Field(min_length=1, max_length=MAX_LINES)]
    paid: Money


class TillCustomer(StrictModel):
    """Body of ``POST /api/v1/customers`` at a branch."""

    email: EmailStr
    name: Name


class ModeIn(StrictModel):
    """Body of ``PUT /api/v1/delivery-mode``: a mode's name or its number."""

    mode: str | int


class OutboxStatus(BaseModel):
    """The outbox at a glance."""

    branch_id: str
    mode: str
    mode_number: int
    pending: int
    sent: int
    rejected: int
    breaker: str
    last_error: str | None
    last_error_at: str | None
    rejected_rows: list[dict[str, Any]]


def branch_of(request: Request) -> Branch:
    """The running branch, built at start-up."""
    branch: Branch = request.app.state.branch
    return branch


BranchDep = Annotated[Branch, Depends(branch_of)]


@router.post("/api/v1/sales", status_code=status.HTTP_201_CREATED)
async def post_sale(sale: TillSale, branch: BranchDep) -> Response:
    """Sell: price from the local catalogue, check stock, record and queue, in one transaction."""
    lines = [till.LineIn(line.product_id, line.quantity) for line in sale.lines]
    branch_id = branch.config.branch_id
    paid = to_cents(sale.paid)
    receipt: str = await branch.db.run(lambda conn: till.record_sale(conn, branch_id, lines, paid))
    branch.dispatcher.nudge()
    return Response(receipt, status.HTTP_201_CREATED, media_type="application/json")


@router.get("/api/v1/sales")
async def list_sales(
    branch: BranchDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """This branch's receipts, newest first."""
    page: dict[str, Any] = await branch.db.run(lambda conn: till.sales_page(conn, cursor, limit))
    return page


@router.get("/api/v1/products")
async def list_products(branch: BranchDep) -> list[dict[str, Any]]:
    """The branch's catalogue copy with its own stock of each product."""
    products: list[dict[str, Any]] = await branch.db.run(catalogue.products)
    return products


@router.post("/api/v1/customers", status_code=status.HTTP_201_CREATED)
async def post_customer(customer: TillCustomer, branch: BranchDep) -> dict[str, Any]:
    """Register a customer (409 when the email is already known here) and queue the event."""
    branch_id = branch.config.branch_id
    registered: dict[str, Any] = await branch.db.run(
        lambda conn: till.register_customer(conn, branch_id, customer.email, customer.name)
    )
    branch.dispatcher.nudge()
    return registered


async def outbox_status(branch: Branch) -> OutboxStatus:
    """Counts by state, the mode, the breaker and the last delivery error."""
    found, aside = await branch.db.run(lambda conn: (outbox.counts(conn), outbox.rejected(conn)))
    dispatcher = branch.dispatcher
    return OutboxStatus(
        branch_id=branch.config.branch_id,
        mode=dispatcher.mode.value,
        mode_number=dispatcher.mode.number,
        breaker=dispatcher.http.breaker.state.value,
        last_error=dispatcher.last_error,
        last_error_at=dispatcher.last_error_at,
        rejected_rows=aside,
        **found,
    )


@router.get("/api/v1/outbox")
async def get_outbox(branch: BranchDep) -> OutboxStatus:
    """Pending, sent and rejected rows, the delivery mode, the breaker and the last error."""
    return await outbox_status(branch)


@router.put("/api/v1/delivery-mode")
async def put_delivery_mode(body: ModeIn, branch: BranchDep) -> dict[str, Any]:
    """Switch the delivery mode (a name or 1 to 6); kept across restarts."""
    try:
        mode: DeliveryMode = parse_mode(body.mode)
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"field": "mode", "msg": str(exc), "type": "value_error"}],
        ) from None
    await branch.dispatcher.set_mode(mode)
    return {"mode": mode.value, "mode_number": mode.number}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (it needs nothing else to sell)."""
    return {"status": "ok"}
