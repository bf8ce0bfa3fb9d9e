"""A trivial FastAPI instance with the central's routes and no work behind them.

It gives the ceiling the cluster is measured against (the same nginx, client
and uvicorn settings, with nothing but the framework in the request path), and,
with ``--delay-ms``, a deliberately slow instance for the least-conn drill.

Run it with ``python -m ecomarket.cluster.trivial --port 9001 --name trivial-1``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from ecomarket.central.asgi import ServedBy
from ecomarket.serve import serve

PRODUCTS = [
    {
        "id": product_id,
        "name": f"product {product_id}",
        "price": "4.50",
        "stock": {"total": 100, "branches": {"branch-1": 100}},
        "below_zero": False,
    }
    for product_id in range(101, 113)
]


def create_app(name: str, delay_ms: float = 0.0) -> ASGIApp:
    """The trivial app; every route waits ``delay_ms`` first when given."""
    app = FastAPI(title=f"trivial {name}")
    delay = delay_ms / 1000

    async def pause() -> None:
        if delay:
            await asyncio.sleep(delay)

    @app.get("/healthz")
    @app.get("/readyz")
    async def health() -> dict[str, str]:
        """Always alive."""
        return {"status": "ok", "instance": name}

    @app.get("/api/v1/products")
    async def products() -> dict[str, Any]:
        """A fixed catalogue page."""
        await pause()
        return {"items": PRODUCTS, "next_cursor": None}

    @app.get("/api/v1/products/{product_id}")
    async def product(product_id: int) -> dict[str, Any]:
        """A fixed product."""
        await pause()
        return PRODUCTS[product_id % len(PRODUCTS)]

    @app.get("/api/v1/sales")
    async def sales() -> dict[str, Any]:
        """An empty ledger page."""
        await pause()
        return {"items": [], "next_cursor": None}

    @app.get("/api/v1/stats")
    async def stats() -> dict[str, int]:
        """Fixed figures."""
        await pause()
        return {"products": len(PRODUCTS), "sales": 0}

    @app.post("/api/v1/sales", status_code=201)
    @app.post("/api/v1/customers", status_code=201)
    @app.post("/api/v1/stock-movements", status_code=201)
    async def write(request: Request) -> JSONResponse:
        """Echo the body back, as if it were stored."""
        await pause()
        return JSONResponse(await request.json(), status_code=201)

    return ServedBy(app, name)


def main() -> None:
    """Command line: --port, --name, --delay-ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="trivial")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    options = parser.parse_args()
    serve(create_app(options.name, options.delay_ms), name=options.name, port=options.port)


if __name__ == "__main__":
    main()
