"""Helpers of the event bus tests: a clean broker, sale builders, waiting for figures."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aio_pika
import httpx
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from ecomarket import names
from ecomarket.bus.connection import connect
from ecomarket.bus.publisher import Publisher
from ecomarket.central.store import CentralStore
from ecomarket.schemas import MovementIn, MovementReason, ProductIn, SaleIn, SaleLine
from ecomarket.servers import Program
from tests.broker_node import private_node
from tests.processes import Running

PRODUCT = 101
OPENING = 100_000
CENTRAL_QUEUES = [
    names.CENTRAL_SALES_QUEUE,
    names.NOTIFICATIONS_QUEUE,
    names.STATISTICS_QUEUE,
    names.DEAD_QUEUE,
    *(names.CENTRAL_SALES_BROADCAST_QUEUE + f"central-{i}" for i in range(1, 4)),
]


def new_sale(product_id: int = PRODUCT, quantity: int = 1, branch: str = "branch-1") -> SaleIn:
    """A valid sale of one line."""
    return SaleIn(
        sale_id=uuid.uuid4(),
        branch_id=branch,
        sold_at=datetime.now(UTC),
        lines=[SaleLine(product_id=product_id, quantity=quantity, unit_price=Decimal("3.50"))],
    )


async def stock_product(client: aioredis.Redis, product_id: int = PRODUCT) -> None:
    """Put a product in the catalogue with opening stock at branch-1."""
    store = CentralStore(client, "test")
    await store.put_product(product_id, ProductIn(name="Bamboo toothbrush", price=Decimal("3.5")))
    await store.apply_movement(
        MovementIn(
            movement_id=uuid.uuid4(),
            branch_id="branch-1",
            product_id=product_id,
            quantity=OPENING,
            reason=MovementReason.RECEIVED,
        )
    )


async def stock_of(client: aioredis.Redis, product_id: int = PRODUCT) -> int:
    """The central's stock of a product at branch-1."""
    return int(await client.hget(f"{names.STOCK}{product_id}", "branch-1") or 0)


async def counter(client: aioredis.Redis, name: str) -> int:
    """One chain-wide counter."""
    return int(await client.hget(names.COUNTERS, name) or 0)


async def wait_for(
    check: Callable[[], Awaitable[bool]], within: float = 60, what: str = "condition"
) -> float:
    """Poll ``check`` until true; the seconds it took. AssertionError after ``within`` s."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what} not reached after {within} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def wait_applied(
    client: aioredis.Redis, count: int, within: float = 60, what: str = ""
) -> float:
    """Wait until at least ``count`` sales are applied; the seconds it took."""

    async def applied() -> bool:
        return await counter(client, names.COUNTER_SALES) >= count

    return await wait_for(applied, within, what or f"{count} sales applied")


async def wait_ready(http: httpx.AsyncClient, url: str, within: float = 30) -> None:
    """Wait until a central answers 200 on /readyz (its consumers run)."""

    async def ready() -> bool:
        try:
            return (await http.get(url + "/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(ready, within, f"{url} ready")


async def publish_all(publisher: Publisher, sales: list[SaleIn], window: int = 200) -> None:
    """Publish sales with confirms, ``window`` in flight at a time."""
    for start in range(0, len(sales), window):
        await asyncio.gather(*(publisher.publish_sale(s) for s in sales[start : start + window]))


async def queue_depth(connection: AbstractRobustConnection, queue: str) -> int:
    """Messages ready in a queue (unacknowledged ones are not counted)."""
    async with connection.channel() as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


@pytest.fixture
def own_broker(
    tmp_path: Path, log_dir: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Program, list[Running]]]:
    """A private RabbitMQ node (and its epmd) that the test may stop and start again.

    ``nodes[-1]`` is the node running now; a restart appends the new one.
    """
    name = "rabbitmq-" + request.module.__name__.rpartition(".test_")[2]
    with private_node(tmp_path / "rabbitmq", log_dir, name) as started:
        yield started


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[tuple[AbstractRobustConnection, Publisher]]:
    """A clean broker (no central queue left by an earlier test) and a publisher on it."""
    connection = await connect(amqp_url, "test", give_up_after=30)
    async with connection.channel() as channel:
        for queue in CENTRAL_QUEUES:
            await channel.queue_delete(queue)
    publisher = await Publisher.open(connection, deadline=120)
    yield connection, publisher
    await publisher.close()
    await connection.close()


def raw_message(body: bytes, message_id: str) -> aio_pika.Message:
    """A message as a careless publisher might send it."""
    return aio_pika.Message(
        body, message_id=message_id, content_type="application/json", delivery_mode=2
    )
