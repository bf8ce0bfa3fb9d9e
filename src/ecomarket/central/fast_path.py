"""The central's busiest requests, served without FastAPI's per-request machinery.

Catalogue pages, single products and sales from the branches are most of what
an instance serves. Through FastAPI each paid for routing across the included
routers, dependency solving, query parsing into models and four layers of
exception middleware: more than half of the instance's CPU per request, measured
with py-spy under ``bench/bench_central.py``, and the reason the instance
served half the requests per second of a trivial endpoint.

This layer serves those requests when they are well formed, through the routes'
own answer builders (``answer_product``, ``answer_sale``), so the bytes are the
same, a 404 or 409 of theirs included. Anything else (another route, an unknown
query parameter, a token that is not configured, a body that does not validate)
goes on untouched to the FastAPI app, which stays the one place that validates
input and defines the OpenAPI contract.

``ECOMARKET_FAST_PATH=false`` turns it off; the benchmark uses that to measure
both in the same run, and a test compares the answers of both.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import pydantic
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ecomarket.central.asgi import read_body, replay_body
from ecomarket.central.auth import resolve_token
from ecomarket.central.deps import CURSOR_MAX_DIGITS, DEFAULT_PAGE_LIMIT, json_response
from ecomarket.central.metrics import InstanceFigures
from ecomarket.central.routes import products, sales
from ecomarket.central.routes.products import answer_product
from ecomarket.central.routes.sales import answer_sale
from ecomarket.central.store import PAGE_LIMIT_MAX, CentralStore
from ecomarket.config import Settings
from ecomarket.schemas import MAX_PRODUCT_ID, SaleIn

T = TypeVar("T")
# The routes' own prefixes, so that a path is named in one place.
PRODUCTS = products.router.prefix
PRODUCT = PRODUCTS + "/"
SALES = sales.router.prefix


class FastPath:
    """Serves well-formed catalogue reads and sales itself; hands everything else on."""

    def __init__(
        self, app: ASGIApp, store: CentralStore, settings: Settings, figures: InstanceFigures
    ) -> None:
        self.app = app
        self.store = store
        self.settings = settings
        self.figures = figures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == SALES:
            await self._sale(scope, receive, send)
            return

        step: Awaitable[Response] | None = None
        if method == "GET" and path == PRODUCTS:
            page = _page_query(scope["query_string"])
            if page is not None:
                step = self._products_page(*page)
        elif method == "GET" and path.startswith(PRODUCT):
            product_id = _product_id(path[len(PRODUCT) :])
            if product_id is not None:
                step = answer_product(product_id, self.store)
        if step is None:
            await self.app(scope, receive, send)
            return
        response = await _guarded(scope, receive, send, step)
        await response(scope, receive, send)

    async def _products_page(self, cursor: int, limit: int) -> Response:
        return json_response(await self.store.products_page(cursor, limit))

    async def _sale(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        if body is None:
            return
        sale = self._writable_sale(scope, body)
        if sale is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        response = await _guarded(scope, receive, send, answer_sale(sale, self.store, self.figures))
        await response(scope, receive, send)

    def _writable_sale(self, scope: Scope, body: bytes) -> SaleIn | None:
        """The sale, when it is JSON that validates and its token may write it; else None."""
        headers = dict(scope["headers"])
        media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if media_type != b"application/json" or scheme.lower() != b"bearer":
            return None
        caller = resolve_token(self.settings, token.decode("latin-1"))
        if caller is None:
            return None
        try:
            sale = SaleIn.model_validate_json(body)
        except pydantic.ValidationError:
            return None
        return sale if caller.may_write_for(sale.branch_id) else None


async def _guarded(scope: Scope, receive: Receive, send: Send, step: Awaitable[T]) -> T:
    """Run ``step``; on an error answer 500 the way FastAPI's outermost layer does.

    Without this the error would reach uvicorn, whose own 500 goes around the
    middleware and so would not name the instance in ``X-Served-By``.
    """
    try:
        return await step
    except Exception:
        await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
        raise


def _page_query(query: bytes) -> tuple[int, int] | None:
    """(cursor, limit) from ``limit=&cursor=`` digits in range, or None for anything else."""
    cursor, limit = 0, DEFAULT_PAGE_LIMIT
    seen: set[bytes] = set()
    for part in query.split(b"&") if query else ():
        name, _, value = part.partition(b"=")
        if name in seen or not value.isdigit():  # bytes.isdigit is ASCII digits only
            return None
        seen.add(name)
        if name == b"limit":
            limit = int(value)
            if not 1 <= limit <= PAGE_LIMIT_MAX:
                return None
        elif name == b"cursor" and len(value) <= CURSOR_MAX_DIGITS:
            cursor = int(value)
        else:
            return None
    return cursor, limit


def _product_id(text: str) -> int | None:
    # str.isdigit also takes other scripts' digits ("²"), which int() may refuse.
    if not text.isdigit() or not text.isascii():
        return None
    product_id = int(text)
    return product_id if 1 <= product_id <= MAX_PRODUCT_ID else None
