"""The customer register."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ecomarket import names
from ecomarket.central.auth import AnyCaller, check_branch
from ecomarket.central.deps import (
    Cursor,
    Limit,
    Store,
    errors,
    json_response,
    once_responses,
    result_response,
)
from ecomarket.schemas import CustomerIn, CustomerOut, Page

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.post(
    "",
    response_model=CustomerOut,
    status_code=status.HTTP_201_CREATED,
    responses=once_responses(CustomerOut, "already registered", 409),
)
async def post_customer(customer: CustomerIn, store: Store, caller: AnyCaller) -> Response:
    """Register a customer once: 201 when new, 200 when seen before."""
    check_branch(caller, customer.branch_id)
    return result_response(await store.register_customer(customer), "customer_id")


@router.get("", response_model=Page[CustomerOut], responses=errors(422))
async def list_customers(store: Store, limit: Limit = 50, cursor: Cursor = None) -> Response:
    """List customers, newest first."""
    return json_response(await store.page(names.CUSTOMER_LEDGER, names.CUSTOMER, cursor, limit))
