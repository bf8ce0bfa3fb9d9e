"""The branch killed with rows pending, and stock movements made while it was away."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.branch_fixtures import (
    OPENING,
    PRODUCTS,
    Central,
    assert_applied_once,
    branch_stock,
    central_stock,
    move_stock,
    outbox,
    sell,
    start_branch,
    stock_central,
    wait_until,
)
from tests.processes import Running

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"
BRANCH = "branch-1"


async def _loaded(http: httpx.AsyncClient, branch: Running, central: Central) -> None:
    async def same() -> bool:
        at_branch = await branch_stock(http, branch.url)
        at_central = await central_stock(http, central.url, BRANCH)
        return {p: at_branch.get(p) for p in PRODUCTS} == at_central

    await wait_until(same, 30, "branch stock equal to the central's")


async def test_branch_killed_with_pending_rows_delivers_them_once(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    """100 rows pending, SIGKILL, start again: all delivered, none twice; the mode is kept."""
    central = Central(log_dir, redis_url)
    central.start()
    await stock_central(http, central.url, BRANCH)
    branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, NO_BROKER)
    try:
        await _loaded(http, branch, central)
        await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": "http-backoff"})
        central.kill()
        sale_ids = await sell(http, branch.url, 100, seed=8)
        assert (await outbox(http, branch.url))["pending"] == 100

        branch.kill()
        central.start()
        branch = start_branch(
            log_dir, BRANCH, central.url, tmp_path, redis_url, NO_BROKER, port=branch.port
        )

        async def drained() -> bool:
            return bool((await outbox(http, branch.url))["pending"] == 0)

        await wait_until(drained, 60, "pending rows delivered after the restart")
        status = await outbox(http, branch.url)
        assert status["mode"] == "http-backoff" and status["sent"] == 100, status
        await assert_applied_once(http, central.url, branch.url, BRANCH, sale_ids)
        assert [p["stock"] for p in (await http.get(f"{branch.url}/api/v1/products")).json()]
    finally:
        branch.stop()
        central.stop()


async def test_movement_made_while_branch_is_offline_reaches_it(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    """Goods received and shrinkage booked at the central while the branch is down converge."""
    central = Central(log_dir, redis_url)
    central.start()
    await stock_central(http, central.url, BRANCH)
    branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, NO_BROKER)
    try:
        await _loaded(http, branch, central)
        await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": 1})
        sale_ids = await sell(http, branch.url, 10, seed=9)
        branch.kill()

        await move_stock(http, central.url, BRANCH, 201, 50)
        await move_stock(http, central.url, BRANCH, 202, -7)

        branch = start_branch(
            log_dir, BRANCH, central.url, tmp_path, redis_url, NO_BROKER, port=branch.port
        )
        await _loaded(http, branch, central)
        sale_ids += await sell(http, branch.url, 10, seed=10)

        async def drained() -> bool:
            return bool((await outbox(http, branch.url))["pending"] == 0)

        await wait_until(drained, 30, "sales delivered")
        await assert_applied_once(http, central.url, branch.url, BRANCH, sale_ids)
        stock = await branch_stock(http, branch.url)
        sold = OPENING * len(PRODUCTS) - sum(stock[p] for p in PRODUCTS)
        assert (
            sold
            == sum(
                line["quantity"]
                for page in [(await http.get(f"{branch.url}/api/v1/sales?limit=500")).json()]
                for sale in page["items"]
                for line in sale["lines"]
            )
            + 7
            - 50
        )
    finally:
        branch.stop()
        central.stop()
