"""The central instance's part of the event bus, started and stopped with the instance.

One robust connection per process carries everything: the publisher (dead
letters, catalogue events, replays), the consumers (sales, the two customer
groups, dead letters) and the catalogue relay. The HTTP API does not wait for
the broker: the bus connects in the background, and ``/readyz`` says
"not ready" until it is connected and every consumer is subscribed. Each
consumer renews its own subscription after a reconnect or a broker-side cancel
(see ``subscription.py``), and is "not ready" until it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from fastapi import FastAPI, Request

from ecomarket import names
from ecomarket.bus import customers, deadletter
from ecomarket.bus.connection import connect
from ecomarket.bus.consumer import (
    ACK,
    CLOSE_SECONDS,
    BatchConsumer,
    Handler,
    QueueSpec,
    Verdict,
    quorum_arguments,
)
from ecomarket.bus.publisher import Publisher
from ecomarket.bus.relay import CatalogueRelay
from ecomarket.bus.sales import SalesHandler, sales_queue
from ecomarket.central.store import CentralStore
from ecomarket.config import Settings

logger = logging.getLogger(__name__)

# The dead-letter queue is the end of the road: nothing is dead-lettered from it.
DEAD = QueueSpec(
    names.DEAD_QUEUE, [(names.DEAD_EXCHANGE, "")], 64, quorum_arguments(dead_letters=False)
)


class DeadLetterRecorder:
    """Records each message of ``central.dead`` in Redis, once."""

    def __init__(self, store: CentralStore) -> None:
        self.store = store

    async def __call__(self, batch: list[AbstractIncomingMessage]) -> list[Verdict]:
        """Every dead letter recorded, then acknowledged."""
        for message in batch:
            await deadletter.record(self.store, message)
        return [ACK] * len(batch)


class CentralBus:
    """Connection, consumers and relay of one central instance."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.store: CentralStore = app.state.store
        self.connection: AbstractRobustConnection | None = None
        self.publisher: Publisher | None = None
        self.consumers: list[BatchConsumer] = []
        self.relay: CatalogueRelay | None = None
        self._ready = asyncio.Event()
        self._setup: asyncio.Task[None] | None = None
        app.state.bus = self
        app.state.readiness["rabbitmq"] = self.ready
        panels: list[Any] = getattr(app.state, "dashboard_panels", [])
        app.state.dashboard_panels = [*panels, self.panel]

    async def start(self) -> None:
        """Connect and start consuming in the background; the HTTP API starts at once."""
        self._setup = asyncio.create_task(self._connect_and_consume(), name="bus set-up")

    async def stop(self) -> None:
        """Stop consuming and relaying; unsettled messages go back to their queues."""
        if self._setup is not None and not self._setup.done():
            self._setup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._setup
        for consumer in reversed(self.consumers):
            await consumer.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self.connection is not None:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS, TimeoutError):
                await asyncio.wait_for(self.connection.close(), CLOSE_SECONDS)
        logger.info("event bus of %s stopped", self.settings.instance)

    async def ready(self) -> bool:
        """Connected to the broker, with every consumer subscribed right now."""
        connection = self.connection
        return (
            self._ready.is_set()
            and connection is not None
            and connection.connected.is_set()
            and all(consumer.running for consumer in self.consumers)
        )

    async def _connect_and_consume(self) -> None:
        try:
            await self._set_up()
        except Exception:
            # Not ready for good (e.g. a queue declared elsewhere with other arguments):
            # /readyz keeps saying so, and the log says why.
            logger.exception("event bus of %s could not start", self.settings.instance)
            raise

    async def _set_up(self) -> None:
        instance = self.settings.instance
        self.connection = connection = await connect(self.settings.amqp_url, instance)
        self.publisher = publisher = await Publisher.open(connection)
        dead_letters = deadletter.DeadLetters(publisher, instance)
        figures = self.app.state.figures
        # The dead-letter queue first, so that a letter sent by the others has a queue.
        queues: list[tuple[QueueSpec, Handler, deadletter.DeadLetters | None]] = [
            (DEAD, DeadLetterRecorder(self.store), None),
            (customers.NOTIFICATIONS, customers.NotificationsHandler(self.store), dead_letters),
            (customers.STATISTICS, customers.StatisticsHandler(self.store), dead_letters),
            (sales_queue(self.settings), SalesHandler(self.store, figures), dead_letters),
        ]
        for spec, handler, sender in queues:
            consumer = BatchConsumer(connection, spec, handler, sender, instance)
            # Listed before it starts, so that ``stop`` stops it even mid-subscription.
            self.consumers.append(consumer)
            await consumer.start()
        self.relay = CatalogueRelay(self.store.redis, publisher, instance)
        await self.relay.start()
        self._ready.set()
        logger.info(
            "event bus of %s ready (%s sales delivery)", instance, self.settings.sales_delivery
        )

    async def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each of this instance's queues (read passively)."""
        depths: dict[str, int] = {}
        if self.connection is None or not self._ready.is_set():
            return depths
        for consumer in self.consumers:
            # A passive declare of a queue that is gone closes the channel: one per read.
            try:
                async with self.connection.channel() as channel:
                    queue = await channel.declare_queue(consumer.spec.name, passive=True)
                    depths[consumer.spec.name] = queue.declaration_result.message_count or 0
            except (TimeoutError, *CONNECTION_EXCEPTIONS):
                depths[consumer.spec.name] = -1
        return depths

    async def panel(self, request: Request) -> dict[str, dict[str, Any]]:
        """Dashboard table: queue depths, outbox backlog, duplicates suppressed, dead letters."""
        stats = await self.store.stats()
        rows: dict[str, Any] = {
            f"queue {name}": depth for name, depth in (await self.queue_depths()).items()
        }
        rows["duplicates suppressed"] = stats.duplicates_suppressed
        rows["dead letters"] = stats.dead_letters
        rows["broker connected"] = "yes" if await self.ready() else "no"
        running = sum(consumer.running for consumer in self.consumers)
        rows["consumers subscribed"] = f"{running}/{len(self.consumers)}"
        rows["catalogue events relayed here"] = self.relay.relayed if self.relay else 0
        # Relayed entries are deleted, so the stream's length is the backlog.
        rows["catalogue outbox backlog"] = await self.store.redis.xlen(names.CATALOGUE_OUTBOX)
        return {"Event bus": rows}


def central_bus(settings: Settings) -> Any:
    """The service factory to pass to ``create_app``."""
    return lambda app: CentralBus(app, settings)
