"""The catalogue relay takes over from a dead instance; readiness waits for the broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from ecomarket import names
from ecomarket.bus.publisher import Publisher
from ecomarket.bus.relay import CatalogueRelay
from tests.bus_fixtures import bus, wait_for
from tests.processes import Running

__all__ = ["bus"]  # the fixture, imported so that pytest finds it here

Bus = tuple[AbstractRobustConnection, Publisher]


async def test_events_taken_by_a_dead_instance_are_claimed(
    bus: Bus, redis_client: aioredis.Redis
) -> None:
    """An outbox entry read by an instance that died unpublished is published by another."""
    connection, publisher = bus
    channel = await connection.channel()
    exchange = await channel.declare_exchange(names.CATALOGUE_EXCHANGE, "fanout", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange)

    await redis_client.xgroup_create(
        names.CATALOGUE_OUTBOX, names.CATALOGUE_RELAY_GROUP, id="0", mkstream=True
    )
    body = {"version": 3, "product_id": 7, "name": "Tea", "price": "5.60"}
    await redis_client.xadd(
        names.CATALOGUE_OUTBOX, {"event": names.EVENT_PRODUCT_CHANGED, "body": json.dumps(body)}
    )
    # central-9 takes the entry, then dies before publishing it.
    await redis_client.xreadgroup(
        names.CATALOGUE_RELAY_GROUP, "central-9", {names.CATALOGUE_OUTBOX: ">"}, count=10
    )

    relay = CatalogueRelay(redis_client, publisher, "central-1", claim_idle_ms=300)
    await relay.start()
    try:
        message = await queue.get(timeout=5, fail=False)
        for _ in range(50):
            if message is not None:
                break
            await asyncio.sleep(0.1)
            message = await queue.get(timeout=5, fail=False)
    finally:
        await relay.stop()
    assert message is not None, "the abandoned event was not relayed"
    await message.ack()
    assert message.message_id == "product:7:3"
    assert message.type == names.EVENT_PRODUCT_CHANGED
    assert json.loads(message.body) == body

    async def acknowledged() -> bool:
        return await redis_client.xlen(names.CATALOGUE_OUTBOX) == 0

    await wait_for(acknowledged, 5, "outbox entry acknowledged and deleted")
    await channel.close()


async def test_not_ready_without_the_broker(
    centrals: Callable[..., Running], http: httpx.AsyncClient
) -> None:
    """With consumers on and no broker, the instance is alive and serves, but not ready."""
    central = centrals("central-1", amqp_url="amqp://guest:guest@127.0.0.1:1/")
    assert (await http.get(central.url + "/healthz")).status_code == 200
    response = await http.get(central.url + "/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["rabbitmq"] is False and checks["redis"] is True
    assert (await http.get(central.url + "/api/v1/stats")).status_code == 200
