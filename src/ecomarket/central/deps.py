"""Dependencies shared by the central's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.responses import Response

from ecomarket.central.store import PAGE_LIMIT_MAX, CentralStore, Outcome, Result


async def get_store(request: Request) -> CentralStore:
    """The store of this instance, built once at start-up."""
    store: CentralStore = request.app.state.store
    return store


Store = Annotated[CentralStore, Depends(get_store)]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX, description="page size")]
Cursor = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page"),
]


def json_response(body: str | bytes, status_code: int = 200) -> Response:
    """A response whose JSON is already built (by a Lua script, or stored)."""
    return Response(content=body, status_code=status_code, media_type="application/json")


def result_response(result: Result, id_field: str) -> Response:
    """The HTTP answer to an exactly-once step: 201 applied, 200 repeat, 404, 409."""
    if result.outcome is Outcome.UNKNOWN_PRODUCT:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"product_id: no product {result.body} in the catalogue"
        )
    if result.outcome is Outcome.CONFLICT:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{id_field}: already used for different content; the first is kept",
        )
    code = status.HTTP_201_CREATED if result.is_new else status.HTTP_200_OK
    return json_response(result.body, code)
