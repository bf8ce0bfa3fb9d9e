"""After the load: is every acknowledged write in the central's ledger, and is stock exact?"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from ecomarket.loadtest.workload import Product, StockKey, Write

MAX_PAGES = 2000  # a bound on ledger paging, far above what one run writes
LEDGERS = {
    "movement": ("/api/v1/stock-movements", "movement_id"),
    "customer": ("/api/v1/customers", "customer_id"),
}


async def request_json(
    client: httpx.AsyncClient, path: str, *, post: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """GET ``path`` (or POST the body ``post``), retried on transport errors and 5xx.

    The checks, and the load test's own set-up, must not flake. Only requests that
    are safe to repeat come here: reads, and writes that carry their own id.
    """
    method = "GET" if post is None else "POST"
    for attempt in range(5):
        try:
            response = await client.request(method, path, json=post)
            if response.status_code < 500:
                body = response.json() if response.status_code in (200, 201) else None
                return response.status_code, body
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2 * (attempt + 1))
    raise RuntimeError(f"{method} {path} kept failing")


async def catalogue(client: httpx.AsyncClient) -> tuple[list[Product], dict[StockKey, int]]:
    """Every product with its price, and the stock of every branch and product."""
    products: list[Product] = []
    stock: dict[StockKey, int] = {}
    cursor = ""
    for _ in range(MAX_PAGES):
        status, page = await request_json(client, f"/api/v1/products?limit=500{cursor}")
        if status != 200:
            raise RuntimeError(f"cannot read the catalogue: HTTP {status}")
        for item in page["items"]:
            products.append(Product(item["id"], item["price"]))
            for branch, quantity in item["stock"]["branches"].items():
                stock[(branch, item["id"])] = quantity
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    return products, stock


async def _sales_found(clients: list[httpx.AsyncClient], writes: list[Write]) -> set[str]:
    pending = [w.record_id for w in writes if w.kind == "sale"]
    found: set[str] = set()

    async def check(client: httpx.AsyncClient) -> None:
        while pending:
            sale_id = pending.pop()
            status, _ = await request_json(client, f"/api/v1/sales/{sale_id}")
            if status == 200:
                found.add(sale_id)

    await asyncio.gather(*(check(client) for client in clients))
    return found


async def _ledger_found(
    client: httpx.AsyncClient, kind: str, wanted: set[str], query: str = ""
) -> set[str]:
    path, id_field = LEDGERS[kind]
    found: set[str] = set()
    cursor = ""
    # Newest first: this run's records are on the first pages.
    for _ in range(MAX_PAGES):
        if wanted <= found:
            break
        status, page = await request_json(client, f"{path}?limit=500{query}{cursor}")
        if status != 200:
            raise RuntimeError(f"cannot read {path}: HTTP {status}")
        found |= {str(item[id_field]) for item in page["items"]} & wanted
        if not page.get("next_cursor"):
            break
        cursor = f"&cursor={page['next_cursor']}"
    return found


async def verify(
    clients: list[httpx.AsyncClient], writes: list[Write], before: dict[StockKey, int]
) -> dict[str, Any]:
    """Compare the central with what the load test sent; differences are failures.

    Sales are read one by one, spread over ``clients``; the other ledgers are paged.
    """
    applied = await _sales_found(clients, writes)
    client = clients[0]
    for kind in LEDGERS:
        if kind == "movement":
            for branch in sorted({w.branch_id for w in writes if w.kind == kind}):
                wanted = {w.record_id for w in writes if w.kind == kind and w.branch_id == branch}
                applied |= await _ledger_found(client, kind, wanted, f"&branch_id={branch}")
        else:
            wanted = {w.record_id for w in writes if w.kind == kind}
            applied |= await _ledger_found(client, kind, wanted)

    missing = [w for w in writes if w.acknowledged and w.record_id not in applied]
    unacknowledged_applied = [w for w in writes if not w.acknowledged and w.record_id in applied]

    # A write the client saw fail may still have been applied; it is counted in the
    # expectation when the ledger has it, so that stock is checked exactly either way.
    expected = dict(before)
    for write in writes:
        if write.record_id in applied:
            for key, change in write.stock.items():
                expected[key] = expected.get(key, 0) + change
    _, after = await catalogue(client)
    branches = {w.branch_id for w in writes}
    cells = {key for key in expected.keys() | after.keys() if key[0] in branches}
    differences = sorted(key for key in cells if after.get(key, 0) != expected.get(key, 0))

    failures = Counter[str]()
    if missing:
        failures["acknowledged write missing from the ledger"] = len(missing)
    if differences:
        failures["stock differs from the writes applied"] = len(differences)
    return {
        "failures": dict(failures),
        "writes_checked": len(writes),
        "acknowledged_missing": [f"{w.kind} {w.record_id}" for w in missing[:10]],
        "unacknowledged_but_applied": len(unacknowledged_applied),
        "stock_cells_checked": len(cells),
        "stock_differences": [
            f"{branch} product {product}: expected {expected.get((branch, product), 0)}, "
            f"central has {after.get((branch, product), 0)}"
            for branch, product in differences[:10]
        ],
    }
