"""The branch's one RabbitMQ connection, opened in the background so the till never waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aio_pika.abc import AbstractRobustConnection

from ecomarket.bus.connection import connect, safe_url
from ecomarket.bus.publisher import Publisher

logger = logging.getLogger(__name__)

# A publish not confirmed within this time leaves its row pending for the next round,
# so that a dead broker never holds the dispatcher for long.
PUBLISH_DEADLINE = 5.0


class Broker:
    """Connects (retrying forever) and then offers the connection and a confirming publisher."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.connection: AbstractRobustConnection | None = None
        self.publisher: Publisher | None = None
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin connecting in the background."""
        self._task = asyncio.create_task(self._connect(), name=f"{self.name}-broker")

    async def _connect(self) -> None:
        self.connection = await connect(self.url, self.name)
        while self.publisher is None:
            try:
                self.publisher = await Publisher.open(self.connection, deadline=PUBLISH_DEADLINE)
            except Exception as exc:  # the robust connection may be between two lives
                logger.warning("%s: no publisher channel yet on %s (%r)",
                               self.name, safe_url(self.url), exc)  # fmt: skip
                await asyncio.sleep(1.0)
        self.connected.set()

    async def stop(self) -> None:
        """Stop connecting, or close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
