"""The fast path answers exactly as the FastAPI routes do, and hands on what it does not serve.

Two instances share one Redis: ``central-1`` with the fast path, ``central-2``
without it, so every answer can be compared with the one FastAPI gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.central_helpers import movement, sale, snapshot
from tests.conftest import branch_headers
from tests.processes import Running


@pytest.fixture
async def pair(
    centrals: Callable[..., Running], http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> tuple[str, str]:
    """The URLs of an instance with the fast path and one without, over three products."""
    fast = centrals("central-1")
    full = centrals("central-2", ECOMARKET_FAST_PATH="false")
    for pid in (101, 102, 103):
        body = {"name": f"Product {pid}", "price": "2.50"}
        await http.put(f"{full.url}/api/v1/products/{pid}", json=body, headers=admin_headers)
        await http.post(
            f"{full.url}/api/v1/stock-movements", json=movement(pid, 20), headers=admin_headers
        )
    return fast.url, full.url


async def both(
    http: httpx.AsyncClient, urls: tuple[str, str], method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, httpx.Response]:
    """The same request to each instance, fast path first."""
    fast = await http.request(method, urls[0] + path, **kwargs)
    full = await http.request(method, urls[1] + path, **kwargs)
    return fast, full


def same(fast: httpx.Response, full: httpx.Response, request: object) -> None:
    """The two answers to ``request`` match in status, content type and body."""
    assert (fast.status_code, fast.content) == (full.status_code, full.content), request
    assert fast.headers["content-type"] == full.headers["content-type"], request


READS = [
    "/api/v1/products",
    "/api/v1/products?limit=2",
    "/api/v1/products?limit=2&cursor=101",
    "/api/v1/products?cursor=102",
    "/api/v1/products?limit=0",
    "/api/v1/products?limit=501",
    "/api/v1/products?limit=abc",
    "/api/v1/products?limit=2&limit=3",
    "/api/v1/products?cursor=1234567890123456789",
    "/api/v1/products?other=1",
    "/api/v1/products/102",
    "/api/v1/products/0102",
    "/api/v1/products/999",
    "/api/v1/products/0",
    "/api/v1/products/2147483648",
    "/api/v1/products/%C2%B2",
]


async def test_reads_answer_as_the_routes_do(
    pair: tuple[str, str], http: httpx.AsyncClient
) -> None:
    for path in READS:
        same(*await both(http, pair, "GET", path), path)


async def test_sales_answer_as_the_routes_do(
    pair: tuple[str, str], http: httpx.AsyncClient, redis_url: str
) -> None:
    token = branch_headers("branch-1")
    first = sale("branch-1", [(101, 2, "2.50")])

    applied = await http.post(f"{pair[0]}/api/v1/sales", json=first, headers=token)
    assert applied.status_code == 201
    assert applied.json()["applied_by"] == "central-1"
    # A repeat answers the first body, whichever path serves it.
    same(*await both(http, pair, "POST", "/api/v1/sales", json=first, headers=token), first)
    assert (await http.get(f"{pair[1]}/api/v1/products/101")).json()["stock"]["total"] == 18

    before = snapshot(redis_url)
    refused: list[dict[str, Any]] = [
        {"json": {**first, "lines": [{"product_id": 101, "quantity": 3, "unit_price": "2.50"}]}},
        {"json": sale("branch-1", [(101, 1, "2.50"), (999, 1, "1.00")])},
        {"json": sale("branch-2")},
        {"json": {**sale("branch-1"), "extra": 1}},
        {"json": sale("branch-1", [(101, 0, "2.50")])},
        {"content": b"{not json", "headers": {**token, "content-type": "application/json"}},
        {"content": b"", "headers": {**token, "content-type": "application/json"}},
        {"json": sale("branch-1"), "headers": {"Authorization": "Bearer nobody"}},
        {"json": sale("branch-1"), "headers": {"Authorization": "Basic abc"}},
        {
            "json": sale("branch-1"),
            "headers": {"Authorization": "Bearer caf\xe9".encode("latin-1")},
        },
        {"json": sale("branch-1"), "headers": {}},
    ]
    for request in refused:
        kwargs = {"headers": token, **request}
        fast, full = await both(http, pair, "POST", "/api/v1/sales", **kwargs)
        same(fast, full, request)
        assert fast.status_code in (401, 403, 404, 409, 422), request
    assert snapshot(redis_url) == before


async def test_an_error_on_the_fast_path_still_names_the_instance(
    centrals: Callable[..., Running], http: httpx.AsyncClient
) -> None:
    # Redis on a port where nothing listens: every store call fails.
    central = centrals("central-9", ECOMARKET_REDIS_URL="redis://127.0.0.1:1/0")
    answer = await http.get(f"{central.url}/api/v1/products")
    assert answer.status_code == 500
    assert answer.headers["X-Served-By"] == "central-9"
