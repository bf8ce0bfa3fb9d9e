"""Stock movements made at the central: goods received, shrinkage, transfers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from ecomarket import names
from ecomarket.central.auth import Admin
from ecomarket.central.deps import (
    Cursor,
    Limit,
    Store,
    errors,
    json_response,
    once_responses,
    result_response,
)
from ecomarket.config import BRANCH_ID_PATTERN
from ecomarket.schemas import MovementIn, MovementOut, Page

router = APIRouter(prefix="/api/v1/stock-movements", tags=["stock"])


@router.post(
    "",
    response_model=MovementOut,
    status_code=status.HTTP_201_CREATED,
    responses=once_responses(MovementOut, "already applied", 404, 409),
)
async def post_movement(movement: MovementIn, store: Store, _: Admin) -> Response:
    """Apply a stock movement once: 201 when applied, 200 when seen before."""
    return result_response(await store.apply_movement(movement), "movement_id")


@router.get("", response_model=Page[MovementOut], responses=errors(422))
async def list_movements(
    store: Store,
    limit: Limit = 50,
    cursor: Cursor = None,
    branch_id: Annotated[
        str | None, Query(pattern=BRANCH_ID_PATTERN, description="only this branch's")
    ] = None,
) -> Response:
    """List stock movements, newest first, of the chain or of one branch."""
    ledger = f"{names.BRANCH_MOVEMENT_LEDGER}{branch_id}" if branch_id else names.MOVEMENT_LEDGER
    return json_response(await store.page(ledger, names.MOVEMENT, cursor, limit))
