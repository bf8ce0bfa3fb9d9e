"""The broker restarted in the middle of a stream of sales: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from ecomarket import names
from ecomarket.bus.connection import connect
from ecomarket.bus.publisher import Publisher
from ecomarket.servers import Program
from tests.broker_node import halt
from tests.bus_fixtures import (
    OPENING,
    counter,
    new_sale,
    own_broker,
    publish_all,
    queue_depth,
    stock_of,
    stock_product,
    wait_applied,
    wait_ready,
)
from tests.processes import Running, start_program

__all__ = ["own_broker"]  # a fixture, imported to be used here


async def test_broker_restart_mid_stream(
    own_broker: tuple[Program, list[Running]],
    log_dir: Path,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """1,000 sales published across a broker restart are all applied, each once."""
    program, nodes = own_broker
    amqp_url = f"amqp://guest:guest@127.0.0.1:{program.port}/"
    await stock_product(redis_client)
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)
    connection = await connect(amqp_url, "test-publisher", give_up_after=30)
    publisher = await Publisher.open(connection, deadline=120)
    sales = [new_sale() for _ in range(1000)]

    async def restart_broker() -> None:
        await wait_applied(redis_client, 200, 60, "first sales applied")
        await asyncio.to_thread(halt, nodes[-1], signal.SIGTERM)
        # The same program (folder, node name, ports, epmd): durable queues and their
        # messages come back.
        nodes.append(await asyncio.to_thread(start_program, program, log_dir, 90))

    await asyncio.gather(publish_all(publisher, sales, window=20), restart_broker())

    await wait_applied(redis_client, len(sales), 90)
    await asyncio.sleep(1.0)
    assert await counter(redis_client, names.COUNTER_SALES) == len(sales)
    assert await redis_client.zcard(names.SALE_LEDGER) == len(sales)
    assert await stock_of(redis_client) == OPENING - len(sales)
    assert await queue_depth(connection, names.CENTRAL_SALES_QUEUE) == 0
    await wait_ready(http, central.url)  # the central reconnected by itself
    await connection.close()
