"""Branch delivery mode 4: a Redis list that the central drains as a reliable queue."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from ecomarket import names
from ecomarket.servers import free_port, redis_program
from tests.branch_fixtures import (
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
from tests.processes import start_program

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"
BRANCH = "branch-2"


async def test_sales_survive_a_redis_outage(
    http: httpx.AsyncClient, log_dir: Path, tmp_path: Path
) -> None:
    """200 sales with Redis stopped for the second half: all applied once, stock equal."""
    program = redis_program(tmp_path / "redis", free_port(), name="redis-mode4")
    server = start_program(program, log_dir)
    redis_url = f"redis://127.0.0.1:{program.port}/0"
    central = Central(log_dir, redis_url)
    central.start()
    try:
        await stock_central(http, central.url, BRANCH)
        branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, NO_BROKER)
        response = await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": 4})
        assert response.json()["mode"] == "redis-queue"

        async def loaded() -> bool:
            stock = await branch_stock(http, branch.url)
            return all(stock.get(p) == OPENING for p in PRODUCTS)

        await wait_until(loaded, 20, "opening stock at the branch")
        sale_ids = await sell(http, branch.url, 100, seed=4)
        server.stop()  # a clean stop: the append-only file keeps what Redis acknowledged
        sale_ids += await sell(http, branch.url, 100, seed=5)
        assert (await outbox(http, branch.url))["pending"] > 0

        server = start_program(program, log_dir)

        async def applied() -> bool:
            stats = await central_stats(http, central.url)
            pending = (await outbox(http, branch.url))["pending"]
            return bool(pending == 0 and stats["sales_by_branch"].get(BRANCH) == 200)

        await wait_until(applied, 60, "all 200 sales applied after Redis came back")
        await assert_applied_once(http, central.url, branch.url, BRANCH, sale_ids)
        client = aioredis.Redis.from_url(redis_url)
        try:
            assert await client.llen(names.SALES_QUEUE_LIST) == 0
            assert await client.llen(names.SALES_QUEUE_DEAD) == 0
        finally:
            await client.aclose()
    finally:
        central.stop()
        server.stop()


async def test_items_of_a_dead_instance_are_taken_over(
    http: httpx.AsyncClient, log_dir: Path, redis_url: str
) -> None:
    """Items left in the processing list of an instance whose heartbeat stopped get applied."""
    central = Central(log_dir, redis_url)
    central.start()
    client = aioredis.Redis.from_url(redis_url)
    try:
        await stock_central(http, central.url, BRANCH)
        dead = names.SALES_QUEUE_PROCESSING + "central-9"
        await client.zadd(names.INSTANCE_HEARTBEAT, {"central-9": time.time() - 600})
        # What a real instance does before it claims anything.
        await client.sadd(names.SALES_QUEUE_PROCESSORS, "central-9")
        sale_ids = [str(uuid.uuid4()) for _ in range(5)]
        for sale_id in sale_ids:
            sale = {
                "sale_id": sale_id,
                "branch_id": BRANCH,
                "sold_at": "2026-01-05T10:00:00+00:00",
                "lines": [{"product_id": 201, "quantity": 1, "unit_price": "2.50"}],
            }
            await client.rpush(dead, json.dumps({"kind": "sale", "body": sale}))
        # The same sale twice in the queue (a branch that resent it) still counts once.
        await client.rpush(dead, json.dumps({"kind": "sale", "body": sale}))
        # What cannot be applied is set aside and never blocks the items behind it.
        unknown = {**sale, "sale_id": str(uuid.uuid4()), "lines": [
            {"product_id": 999, "quantity": 1, "unit_price": "1.00"}
        ]}  # fmt: skip
        await client.lpush(dead, "{not json", json.dumps({"kind": "sale", "body": unknown}))

        mine = names.SALES_QUEUE_PROCESSING + "central-1"

        async def taken_over() -> bool:
            lengths = [await client.llen(k) for k in (dead, names.SALES_QUEUE_LIST, mine)]
            return lengths == [0, 0, 0]

        await wait_until(taken_over, 30, "items of the dead instance drained")
        stats = await central_stats(http, central.url)
        assert stats["sales_by_branch"].get(BRANCH) == 5, stats
        assert stats["duplicates_suppressed"] == 1
        reasons = [
            json.loads(e)["reason"] for e in await client.lrange(names.SALES_QUEUE_DEAD, 0, -1)
        ]
        assert sorted(r.split(":")[0] for r in reasons) == ["malformed", "unknown_product"]
        stock = (await http.get(f"{central.url}/api/v1/products/201")).json()["stock"]
        assert stock["branches"][BRANCH] == OPENING - 5
    finally:
        await client.aclose()
        central.stop()
