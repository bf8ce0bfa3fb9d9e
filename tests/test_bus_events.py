"""Dead letters, customers and catalogue events through a real RabbitMQ and Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from ecomarket import names
from ecomarket.bus.consumer import DELIVERY_LIMIT
from ecomarket.bus.publisher import Publisher
from ecomarket.schemas import CustomerIn
from tests.bus_fixtures import (
    OPENING,
    PRODUCT,
    bus,
    counter,
    new_sale,
    publish_all,
    raw_message,
    stock_of,
    stock_product,
    wait_applied,
    wait_for,
    wait_ready,
)
from tests.processes import Running

__all__ = ["bus"]  # the fixture, imported so that pytest finds it here

Bus = tuple[AbstractRobustConnection, Publisher]


async def dead_letters(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every dead letter listed by a central."""
    response = await http.get(url + "/api/v1/dead-letters", params={"limit": 100})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_bad_messages_are_dead_lettered_and_never_block(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    """Malformed, unknown version or product, crashing: each dies with its reason; others pass."""
    _connection, publisher = bus
    await stock_product(redis_client)
    # A product whose stock key holds the wrong type: the apply script crashes on it.
    crashing_product = 202
    await stock_product(redis_client, crashing_product)
    await redis_client.delete(f"{names.STOCK}{crashing_product}")
    await redis_client.set(f"{names.STOCK}{crashing_product}", "corrupt")
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)

    unknown = new_sale(product_id=999)
    crashing = new_sale(product_id=crashing_product)
    exchange = publisher.exchanges[names.SALES_EXCHANGE]
    await exchange.publish(raw_message(b'{"sale_id": ', "not-json"), "")
    await exchange.publish(raw_message(b'{"sale_id": "x"}', "bad-schema"), "")
    future = new_sale()
    await publisher.publish(
        names.SALES_EXCHANGE,
        future.model_dump_json().encode(),
        message_id="from-the-future",
        headers={"x-schema-version": 2},
    )
    await publisher.publish_sale(unknown)
    await publisher.publish_sale(crashing)
    behind = [new_sale() for _ in range(50)]
    await publish_all(publisher, behind)

    took = await wait_applied(redis_client, len(behind), 20, "sales behind the bad ones applied")
    assert took < 10

    async def five_dead() -> bool:
        return len(await dead_letters(http, central.url)) == 5

    await wait_for(five_dead, 20, "five dead letters")
    letters = {item["message_id"]: item for item in await dead_letters(http, central.url)}
    assert letters["not-json"]["reason"] == "malformed_json"
    assert letters["bad-schema"]["reason"] == "wrong_schema"
    assert letters["from-the-future"]["reason"] == "unknown_version"
    assert letters[str(unknown.sale_id)]["reason"] == "unknown_product"
    assert letters[str(crashing.sale_id)]["reason"] == "handler_error"
    assert all(item["queue"] == names.CENTRAL_SALES_QUEUE for item in letters.values())
    assert await stock_of(redis_client) == OPENING - len(behind)

    # Once the product exists, the unknown-product sale replays and is applied.
    await stock_product(redis_client, 999)
    letter_id = letters[str(unknown.sale_id)]["dead_letter_id"]
    response = await http.post(
        f"{central.url}/api/v1/dead-letters/{letter_id}/replay", headers=admin_headers
    )
    assert response.status_code == 202, response.text

    async def replayed() -> bool:
        return await redis_client.exists(f"{names.SALE}{unknown.sale_id}") == 1

    await wait_for(replayed, 20, "replayed sale applied")
    listed = {item["dead_letter_id"]: item for item in await dead_letters(http, central.url)}
    assert listed[letter_id]["replayed_at"]


async def test_customers_are_welcomed_and_counted_once(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """Each customer.registered event gives one welcome message, one count, one register entry."""
    _connection, publisher = bus
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)
    customers = [
        CustomerIn(
            customer_id=uuid.uuid4(), email=f"c{i}@example.org", name="Ada", branch_id="branch-1"
        )
        for i in range(5)
    ]
    for customer in customers + customers[:2]:  # two of them delivered twice
        await publisher.publish_customer(customer)

    async def counted() -> bool:
        return (
            await counter(redis_client, names.COUNTER_NOTIFICATIONS) == 5
            and await counter(redis_client, names.COUNTER_CUSTOMERS_COUNTED) == 5
        )

    await wait_for(counted, 20, "customers counted")
    stats = (await http.get(central.url + "/api/v1/stats")).json()
    assert stats["customers"] == 5
    assert stats["notifications"] == 5
    notes = (await http.get(central.url + "/api/v1/notifications")).json()["items"]
    assert {n["customer_id"] for n in notes} == {str(c.customer_id) for c in customers}
    assert all(n["message"].startswith("Welcome") for n in notes)


async def test_catalogue_changes_are_published(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    """A product change and a stock movement reach ecomarket.catalogue with their ids."""
    connection, _publisher = bus
    channel = await connection.channel()
    exchange = await channel.declare_exchange(names.CATALOGUE_EXCHANGE, "fanout", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange)
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)

    response = await http.put(
        f"{central.url}/api/v1/products/{PRODUCT}",
        json={"name": "Bamboo toothbrush", "price": "3.50"},
        headers=admin_headers,
    )
    assert response.status_code in (200, 201), response.text
    movement = {
        "movement_id": str(uuid.uuid4()),
        "branch_id": "branch-1",
        "product_id": PRODUCT,
        "quantity": 7,
        "reason": "received",
    }
    response = await http.post(
        f"{central.url}/api/v1/stock-movements", json=movement, headers=admin_headers
    )
    assert response.status_code == 201, response.text

    received = []
    async with queue.iterator(timeout=15) as messages:
        async for message in messages:
            async with message.process():
                received.append(message)
            if len(received) == 2:
                break
    product, moved = received
    assert (product.type, product.message_id) == ("product.changed", f"product:{PRODUCT}:1")
    assert json.loads(product.body)["version"] == 1
    assert (moved.type, moved.message_id) == ("stock.moved", movement["movement_id"])
    assert moved.delivery_mode == 2 and moved.content_type == "application/json"
    assert await redis_client.xlen(names.CATALOGUE_OUTBOX) == 0
    await channel.close()


async def test_poison_past_delivery_limit_is_recorded(
    bus: Bus,
    amqp_url: str,
    redis_client: aioredis.Redis,
    centrals: Callable[..., Running],
    http: httpx.AsyncClient,
) -> None:
    """A message given back more times than the queue's limit is moved by the broker and shown."""
    connection, publisher = bus
    central = centrals("central-1", amqp_url=amqp_url)
    await wait_ready(http, central.url)
    central.stop()  # the queues stay; nobody consumes them now
    poison = new_sale(product_id=PRODUCT)
    await publisher.publish_sale(poison)

    # Stand in for a consumer that dies on the message every time it takes it.
    channel = await connection.channel()
    queue = await channel.get_queue(names.CENTRAL_SALES_QUEUE, ensure=False)
    for _ in range(DELIVERY_LIMIT + 1):
        message = await queue.get(fail=False, timeout=5)
        if message is None:
            break
        await message.nack(requeue=True)
    await channel.close()

    central = centrals("central-1", amqp_url=amqp_url)

    async def recorded() -> bool:
        return any(
            item["message_id"] == str(poison.sale_id)
            for item in await dead_letters(http, central.url)
        )

    await wait_for(recorded, 20, "poison message recorded")
    letter = next(
        item
        for item in await dead_letters(http, central.url)
        if item["message_id"] == str(poison.sale_id)
    )
    assert letter["reason"] == "delivery_limit"
    assert letter["queue"] == names.CENTRAL_SALES_QUEUE
    assert await counter(redis_client, names.COUNTER_SALES) == 0
