"""The sales ledger: sales reported by the branches, applied once each."""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status

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
from ecomarket.central.metrics import InstanceFigures
from ecomarket.central.store import CentralStore, Outcome
from ecomarket.schemas import Page, SaleIn, SaleOut

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/sales", tags=["sales"])


@router.post(
    "",
    response_model=SaleOut,
    status_code=status.HTTP_201_CREATED,
    responses=once_responses(SaleOut, "already applied", 404, 409),
)
async def post_sale(sale: SaleIn, store: Store, caller: AnyCaller, request: Request) -> Response:
    """Apply a sale once: 201 when applied, 200 with the first answer when seen before."""
    check_branch(caller, sale.branch_id)
    return await answer_sale(sale, store, request.app.state.figures)


async def answer_sale(sale: SaleIn, store: CentralStore, figures: InstanceFigures) -> Response:
    """Apply a sale the caller may write, count its outcome, and build the answer.

    Shared by the route above and the central's fast path, so that both give the
    same answers and the same counts.
    """
    result = await store.apply_sale(sale)
    if result.outcome is Outcome.UNKNOWN_PRODUCT:
        line = next(i for i, x in enumerate(sale.lines) if str(x.product_id) == result.body)
        return result_response(result, "sale_id", f"lines.{line}.product_id")

    figures.count(result.outcome)
    if not result.is_new:
        logger.warning(
            "sale %s of %s not applied again (%s) on %s",
            sale.sale_id, sale.branch_id, result.outcome, store.instance,
        )  # fmt: skip
    return result_response(result, "sale_id")


@router.get("", response_model=Page[SaleOut], responses=errors(422))
async def list_sales(store: Store, limit: Limit = 50, cursor: Cursor = None) -> Response:
    """List the ledger, newest first."""
    return json_response(await store.page(names.SALE_LEDGER, names.SALE, cursor, limit))


@router.get("/{sale_id}", response_model=SaleOut, responses=errors(404, 422))
async def get_sale(sale_id: UUID, store: Store) -> Response:
    """Read one sale of the ledger."""
    body = await store.record(names.SALE, str(sale_id))
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"sale_id: no sale {sale_id}")
    return json_response(body)
