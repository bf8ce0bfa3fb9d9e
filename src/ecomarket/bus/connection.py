"""The one robust RabbitMQ connection of a process.

``aio_pika.connect_robust`` reconnects by itself and restores the robust channels
opened on it (the publisher's); but its first connection must succeed, so
``connect`` retries that one until the broker answers or the deadline passes.
The central's consumers do not rely on aio-pika's restore: each keeps its own
subscription alive (``ecomarket.bus.subscription``).
"""

from __future__ import annotations

import asyncio
import logging
import time

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from yarl import URL

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


def safe_url(url: str) -> str:
    """The broker URL without its password, fit for a log line."""
    return str(URL(url).with_password(None)) if URL(url).password else url


async def connect(
    url: str, name: str, give_up_after: float | None = None
) -> AbstractRobustConnection:
    """Open the process's robust connection, retrying the first attempt for ``give_up_after`` s."""
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    attempt = 0
    while True:
        attempt += 1
        try:
            connection = await aio_pika.connect_robust(
                url,
                client_properties={"connection_name": name},
                reconnect_interval=RECONNECT_SECONDS,
            )
        except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
            if deadline is not None and time.monotonic() > deadline:
                raise
            if attempt == 1 or attempt % 30 == 0:
                logger.warning(
                    "%s: broker %s not reachable (%s); retrying", name, safe_url(url), exc
                )
            await asyncio.sleep(RECONNECT_SECONDS)
            continue
        logger.info("%s connected to broker %s", name, safe_url(url))
        return connection
