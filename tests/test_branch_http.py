"""Branch delivery modes 1 to 3 against a real central that dies and comes back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.branch_fixtures import (
    ADMIN,
    OPENING,
    PRODUCTS,
    Central,
    assert_applied_once,
    branch_stock,
    central_stats,
    outbox,
    sell,
    start_branch,
    stock_central,
    wait_until,
)

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"
BRANCH = "branch-1"


async def _stocked_branch(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, central: Central, data: Path, mode: str
) -> str:
    await stock_central(http, central.url, BRANCH)
    branch = start_branch(log_dir, BRANCH, central.url, data, redis_url, NO_BROKER)
    response = await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": mode})
    assert response.status_code == 200, response.text

    async def loaded() -> bool:
        stock = await branch_stock(http, branch.url)
        return all(stock.get(p) == OPENING for p in PRODUCTS)

    await wait_until(loaded, 20, "opening stock at the branch")
    return branch.url


@pytest.mark.parametrize("mode", ["http-direct", "http-retry", "http-backoff"])
async def test_sales_survive_a_central_outage(
    mode: str, http: httpx.AsyncClient, log_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    """200 sales, the central SIGKILLed for the second half: all applied once, stock equal."""
    central = Central(log_dir, redis_url)
    central.start()
    try:
        url = await _stocked_branch(http, log_dir, redis_url, central, tmp_path, mode)
        sale_ids = await sell(http, url, 100, seed=1)
        central.kill()
        sale_ids += await sell(http, url, 100, seed=2)
        assert (await outbox(http, url))["pending"] > 0

        async def error_shown() -> bool:
            # The dispatcher may be between rounds (or inside its quick retries).
            return bool((await outbox(http, url))["last_error"])

        await wait_until(error_shown, 15, "the delivery error shown in the outbox")
        if mode == "http-backoff":
            await wait_until(
                lambda: _breaker_is(http, url, "open"), 20, "breaker open while the central is down"
            )

        central.start()

        async def drained() -> bool:
            return (await outbox(http, url))["pending"] == 0

        await wait_until(drained, 60, "outbox drained after the central came back")
        await assert_applied_once(http, central.url, url, BRANCH, sale_ids)
        status = await outbox(http, url)
        assert status["sent"] == 200 and status["rejected"] == 0
        assert status["breaker"] == "closed"
    finally:
        central.stop()


async def _breaker_is(http: httpx.AsyncClient, url: str, state: str) -> bool:
    return bool((await outbox(http, url))["breaker"] == state)


async def test_refused_sale_is_set_aside_and_does_not_block(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    """A sale of a product the central deleted is rejected for good; the rest go through."""
    central = Central(log_dir, redis_url)
    central.start()
    try:
        url = await _stocked_branch(http, log_dir, redis_url, central, tmp_path, "1")
        # No broker here, so the branch does not hear of the deletion and still sells it.
        await http.delete(f"{central.url}/api/v1/products/204", headers=ADMIN)
        refused = await http.post(
            f"{url}/api/v1/sales",
            json={"lines": [{"product_id": 204, "quantity": 1}], "paid": "5.00"},
        )
        assert refused.status_code == 201
        sale_ids = await sell(http, url, 20, seed=3, products=[201, 202, 203])

        async def settled() -> bool:
            status = await outbox(http, url)
            return bool(status["pending"] == 0)

        await wait_until(settled, 30, "outbox settled")
        status = await outbox(http, url)
        assert status["rejected"] == 1 and status["sent"] == 20, status
        assert "404" in status["rejected_rows"][0]["reason"]
        assert status["rejected_rows"][0]["ref_id"] == refused.json()["sale_id"]
        stats = await central_stats(http, central.url)
        assert stats["sales_by_branch"][BRANCH] == len(sale_ids)
    finally:
        central.stop()
