"""Switching the delivery mode in the middle of a stream, and the branch's own API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aio_pika
import httpx

from ecomarket import names
from tests.branch_fixtures import (
    PRODUCTS,
    Central,
    assert_applied_once,
    branch_stock,
    central_stats,
    central_stock,
    move_stock,
    outbox,
    sell,
    start_branch,
    stock_central,
    wait_until,
)

BRANCH = "branch-2"
MODES = ["http-direct", "redis-queue", "rabbit-direct", "http-retry", "rabbit-fanout", "3"]


async def test_mode_switched_mid_stream_loses_nothing(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, amqp_url: str, tmp_path: Path
) -> None:
    """Sales and customers flow while the mode cycles through all six: each applied once."""
    central = Central(log_dir, redis_url, amqp_url)
    central.start()
    await stock_central(http, central.url, BRANCH)
    branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, amqp_url)
    try:

        async def same_stock() -> bool:
            at_branch = await branch_stock(http, branch.url)
            at_central = await central_stock(http, central.url, BRANCH)
            return {p: at_branch.get(p) for p in PRODUCTS} == at_central

        await wait_until(same_stock, 30, "opening stock at the branch")

        async def switch() -> None:
            for mode in MODES:
                response = await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": mode})
                assert response.status_code == 200, response.text
                await asyncio.sleep(0.4)

        selling = asyncio.create_task(sell(http, branch.url, 300, seed=11))
        await switch()
        sale_ids = await selling
        emails = [f"shopper{n}@example.org" for n in range(5)]
        for email in emails:
            response = await http.post(
                f"{branch.url}/api/v1/customers", json={"email": email, "name": "A Shopper"}
            )
            assert response.status_code == 201, response.text
        again = await http.post(
            f"{branch.url}/api/v1/customers", json={"email": emails[0], "name": "Twice"}
        )
        assert again.status_code == 409

        async def settled() -> bool:
            stats = await central_stats(http, central.url)
            pending = (await outbox(http, branch.url))["pending"]
            return bool(
                pending == 0
                and stats["sales_by_branch"].get(BRANCH) == len(sale_ids)
                and stats["customers"] == len(emails)
            )

        await wait_until(settled, 60, "every sale and customer applied")
        await assert_applied_once(http, central.url, branch.url, BRANCH, sale_ids)
        status = await outbox(http, branch.url)
        assert status["mode"] == "http-backoff" and status["rejected"] == 0

        # A movement while the branch is online reaches it through the catalogue exchange.
        await move_stock(http, central.url, BRANCH, 203, 25)
        await wait_until(same_stock, 30, "movement applied at the branch through the bus")
    finally:
        branch.stop()
        central.stop()
        # The broker outlives this test: leave no queue collecting later tests' events.
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(names.BRANCH_CATALOGUE_QUEUE + BRANCH)


async def test_till_answers(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    """Receipts, 409 on short stock naming the product, 422 on bad bodies, the dashboard."""
    central = Central(log_dir, redis_url)
    central.start()
    await stock_central(http, central.url, BRANCH)
    no_broker = "amqp://guest:guest@127.0.0.1:1/"
    branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, no_broker)
    try:
        await wait_until(
            lambda: _has_products(http, branch.url), 20, "catalogue loaded at the branch"
        )
        url = f"{branch.url}/api/v1/sales"
        sale = {"lines": [{"product_id": 201, "quantity": 2}, {"product_id": 203, "quantity": 1}]}
        receipt = (await http.post(url, json={**sale, "paid": "20.00"})).json()
        assert receipt["total"] == "12.25" and receipt["change"] == "7.75"

        short = await http.post(url, json={"lines": [{"product_id": 202, "quantity": 5000}],
                                           "paid": "1.00"})  # fmt: skip
        assert short.status_code == 409 and "202" in short.json()["detail"]
        low = await http.post(url, json={**sale, "paid": "12.24"})
        assert low.status_code == 422 and low.json()["detail"][0]["field"] == "paid"
        bad = await http.post(url, json={"lines": [{"product_id": 201, "quantity": 0}],
                                         "paid": "1.00"})  # fmt: skip
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "lines.0.quantity"
        unknown_mode = await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": 7})
        assert unknown_mode.status_code == 422

        page = (await http.get(f"{url}?limit=1")).json()
        assert page["items"][0]["sale_id"] == receipt["sale_id"]
        await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": "http-direct"})
        switched = await http.post(
            f"{branch.url}/dashboard/delivery-mode",
            content="mode=redis-queue",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert switched.status_code == 303
        page_html = (await http.get(f"{branch.url}/dashboard")).text
        assert "redis-queue" in page_html and "product 201" in page_html
    finally:
        branch.stop()
        central.stop()


async def _has_products(http: httpx.AsyncClient, url: str) -> bool:
    return len((await http.get(f"{url}/api/v1/products")).json()) == len(PRODUCTS)
