"""The catalogue: products and their stock at every branch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from ecomarket.central.auth import Admin
from ecomarket.central.deps import (
    DEFAULT_PAGE_LIMIT,
    WRITE_ERRORS,
    Cursor,
    Limit,
    Store,
    errors,
    json_response,
    problem_response,
)
from ecomarket.central.store import CentralStore
from ecomarket.schemas import MAX_PRODUCT_ID, Page, ProductIn, ProductOut

router = APIRouter(prefix="/api/v1/products", tags=["catalogue"])
ProductPath = Annotated[int, Path(ge=1, le=MAX_PRODUCT_ID, description="product id")]


@router.get("", response_model=Page[ProductOut], responses=errors(422))
async def list_products(
    store: Store, limit: Limit = DEFAULT_PAGE_LIMIT, cursor: Cursor = None
) -> Response:
    """List products with stock per branch, by id."""
    return json_response(await store.products_page(int(cursor or 0), limit))


@router.get("/{product_id}", response_model=ProductOut, responses=errors(404, 422))
async def get_product(product_id: ProductPath, store: Store) -> Response:
    """Read one product with its stock per branch."""
    return await answer_product(product_id, store)


async def answer_product(product_id: int, store: CentralStore) -> Response:
    """The product as JSON, or the 404 that names it; shared with the fast path."""
    body = await store.product_json(product_id)
    if body is None:
        return problem_response(status.HTTP_404_NOT_FOUND, f"product_id: no product {product_id}")
    return json_response(body)


@router.put(
    "/{product_id}",
    response_model=ProductOut,
    responses={
        201: {"model": ProductOut, "description": "created"},
        **WRITE_ERRORS,
        **errors(409),
    },
)
async def put_product(
    product_id: ProductPath, product: ProductIn, store: Store, _: Admin
) -> Response:
    """Create (201) or update (200) a product."""
    created = await store.put_product(product_id, product)
    body = await store.product_json(product_id)
    if body is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "product_id: deleted while being written")
    return json_response(body, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(404, 422),
)
async def delete_product(product_id: ProductPath, store: Store, _: Admin) -> Response:
    """Remove a product from the catalogue."""
    if not await store.delete_product(product_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"product_id: no product {product_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
