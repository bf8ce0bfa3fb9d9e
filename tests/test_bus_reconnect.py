"""The central's consumers come back after every broker restart, clean or abrupt."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from ecomarket import names
from ecomarket.bus.connection import connect
from ecomarket.bus.publisher import Publisher
from ecomarket.servers import Program
from tests.broker_node import halt
from tests.bus_fixtures import (
    OPENING,
    bus,
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

__all__ = ["bus", "own_broker"]  # fixtures, imported to be used here

SALES_PER_ROUND = 150
# SIGTERM (a clean shutdown) and SIGKILL (a crash of the node), in turn.
RESTARTS = [signal.SIGTERM, signal.SIGKILL, signal.SIGTERM]


async def test_consumers_resume_after_each_restart(
    own_broker: tuple[Program, list[Running]],
    log_dir: Path,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """Three restarts while sales are published: after each, every sale applied exactly once."""
    program, nodes = own_broker
    amqp_url = f"amqp://guest:guest@127.0.0.1:{program.port}/"
    await stock_product(redis_client)
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)
    connection = await connect(amqp_url, "test-publisher", give_up_after=30)
    publisher = await Publisher.open(connection, deadline=120)
    published = 0
    for round_number, how in enumerate(RESTARTS, start=1):
        sales = [new_sale() for _ in range(SALES_PER_ROUND)]

        async def restart(how: signal.Signals = how) -> None:
            await asyncio.sleep(0.3)  # some of the round published before, some after
            await asyncio.to_thread(halt, nodes[-1], how)
            nodes.append(await asyncio.to_thread(start_program, program, log_dir, 90))

        await asyncio.gather(publish_all(publisher, sales, window=10), restart())
        published += len(sales)

        await wait_applied(
            redis_client, published, 45, f"{published} sales applied after restart {round_number}"
        )
        await wait_ready(http, central.url)
    await asyncio.sleep(1.0)  # a late duplicate would show now
    assert await counter(redis_client, names.COUNTER_SALES) == published
    assert await redis_client.zcard(names.SALE_LEDGER) == published
    assert await stock_of(redis_client) == OPENING - published
    assert await queue_depth(connection, names.CENTRAL_SALES_QUEUE) == 0
    await connection.close()


async def test_consumer_resumes_after_a_broker_cancel(
    bus: tuple[AbstractRobustConnection, Publisher],
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """The sales queue deleted under the consumer (basic.cancel): declared and consumed again."""
    connection, publisher = bus
    await stock_product(redis_client)
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)
    async with connection.channel() as channel:
        await channel.queue_delete(names.CENTRAL_SALES_QUEUE)
    sales = [new_sale() for _ in range(50)]
    # Published while the queue may not exist yet: the publisher sends again what no queue took.
    await publish_all(publisher, sales, window=10)

    await wait_applied(
        redis_client, len(sales), 30, "sales applied after the broker cancelled the consumer"
    )
    await wait_ready(http, central.url)
    assert f"consumer of {names.CENTRAL_SALES_QUEUE} lost (cancelled by the broker)" in (
        central.output()
    )
    assert await counter(redis_client, names.COUNTER_SALES) == len(sales)
