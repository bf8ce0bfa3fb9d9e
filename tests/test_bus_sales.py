"""Sales through RabbitMQ: instances killed, all down, broadcast; nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from ecomarket import names
from ecomarket.bus.publisher import Publisher
from tests.bus_fixtures import (
    OPENING,
    bus,
    counter,
    new_sale,
    publish_all,
    queue_depth,
    stock_of,
    stock_product,
    wait_applied,
    wait_for,
    wait_ready,
)
from tests.processes import Running

__all__ = ["bus"]  # the fixture, imported so that pytest finds it here

Bus = tuple[AbstractRobustConnection, Publisher]


async def test_instance_killed_mid_stream(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """2,000 sales and 1,000 duplicates, one of two instances SIGKILLed: exactly 2,000 applied."""
    connection, publisher = bus
    await stock_product(redis_client)
    first = centrals("central-1", amqp_url=amqp_url)
    second = centrals("central-2", amqp_url=amqp_url)
    await wait_ready(http, first.url)
    await wait_ready(http, second.url)
    sales = [new_sale(quantity=random.randint(1, 3)) for _ in range(2000)]
    stream = sales + random.sample(sales, 1000)
    random.shuffle(stream)

    async def killed_and_restarted() -> None:
        await wait_applied(redis_client, 300, 60, "first sales applied")
        second.kill()
        restarted = centrals("central-2", amqp_url=amqp_url)
        await wait_ready(http, restarted.url)

    await asyncio.gather(publish_all(publisher, stream, window=50), killed_and_restarted())

    await wait_applied(redis_client, len(sales), 120)
    await asyncio.sleep(1.0)  # let redeliveries of the killed instance's batch settle
    assert await counter(redis_client, names.COUNTER_SALES) == len(sales)
    assert await redis_client.zcard(names.SALE_LEDGER) == len(sales)
    sold = sum(sale.lines[0].quantity for sale in sales)
    assert await stock_of(redis_client) == OPENING - sold
    assert await counter(redis_client, names.COUNTER_DUPLICATES) >= 1000

    async def nothing_left() -> bool:
        return await queue_depth(connection, names.CENTRAL_SALES_QUEUE) == 0

    await wait_for(nothing_left, 10, "empty sales queue")
    # Stopping returns whatever an instance still holds unacknowledged to the queue.
    for running in (first, second):
        running.stop()
    await asyncio.sleep(0.5)
    assert await queue_depth(connection, names.CENTRAL_SALES_QUEUE) == 0


async def test_sales_published_while_every_instance_is_down(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """Both instances stopped, 100 sales published, one started again: all 100 applied."""
    _connection, publisher = bus
    await stock_product(redis_client)
    first = centrals("central-1", amqp_url=amqp_url)
    second = centrals("central-2", amqp_url=amqp_url)
    await wait_ready(http, first.url)
    await wait_ready(http, second.url)
    first.stop()
    second.stop()

    sales = [new_sale() for _ in range(100)]
    await publish_all(publisher, sales)
    assert await counter(redis_client, names.COUNTER_SALES) == 0
    centrals("central-1", amqp_url=amqp_url)

    await wait_applied(redis_client, len(sales), 30)
    assert await stock_of(redis_client) == OPENING - len(sales)


async def test_broadcast_applies_once_and_counts_duplicates(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """Three instances each get every sale: applied once, twice as many duplicates suppressed."""
    connection, publisher = bus
    await stock_product(redis_client)
    running = [
        centrals(f"central-{i}", amqp_url=amqp_url, ECOMARKET_SALES_DELIVERY="broadcast")
        for i in (1, 2, 3)
    ]
    for central in running:
        await wait_ready(http, central.url)
    sales = [new_sale() for _ in range(300)]
    await publish_all(publisher, sales)

    async def all_seen() -> bool:
        return await counter(redis_client, names.COUNTER_DUPLICATES) >= 2 * len(sales)

    await wait_for(all_seen, 60, "every instance saw every sale")
    stats = (await http.get(running[0].url + "/api/v1/stats")).json()
    assert stats["sales"] == len(sales)
    assert stats["duplicates_suppressed"] == 2 * len(sales)
    assert await stock_of(redis_client) == OPENING - len(sales)
    for i in (1, 2, 3):
        queue = names.CENTRAL_SALES_BROADCAST_QUEUE + f"central-{i}"
        assert await queue_depth(connection, queue) == 0
    page = await http.get(running[0].url + "/dashboard/panel")
    assert "Event bus" in page.text and "duplicates suppressed" in page.text
    assert "queue central.sales.central-1" in page.text and "outbox backlog" in page.text
