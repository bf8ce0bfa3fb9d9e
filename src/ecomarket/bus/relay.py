"""The catalogue relay: moves catalogue events from the Redis outbox to RabbitMQ.

A product change or a stock movement is written to the stream ``CATALOGUE_OUTBOX``
in the same atomic step as the change itself, so an event exists exactly when
its change does. Every instance reads the stream in one consumer group; each
entry is published to ``ecomarket.catalogue`` with a confirm and only then
acknowledged and deleted. An entry taken by an instance that died before
publishing it is claimed by another after ``CLAIM_IDLE_MS``. A crash between the
confirm and the acknowledgement publishes an entry twice, with the same
``message_id``; branches apply by that id and version, so it counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio as redis

from ecomarket import names
from ecomarket.bus.publisher import NotConfirmed, Publisher

logger = logging.getLogger(__name__)

BATCH = 200
BLOCK_MS = 1000
CLAIM_IDLE_MS = 30_000
CLAIM_EVERY_SECONDS = 10.0
Entry = tuple[bytes, dict[bytes, bytes]]


def message_id(event: str, body: dict[str, Any]) -> str:
    """The id branches deduplicate by: product and version, or the movement id."""
    if event == names.EVENT_STOCK_MOVED:
        return str(body["movement_id"])
    return f"product:{body['product_id']}:{body['version']}"


class CatalogueRelay:
    """Drains the catalogue outbox of this instance's share into ``ecomarket.catalogue``."""

    def __init__(
        self,
        client: redis.Redis,
        publisher: Publisher,
        instance: str,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.redis = client
        self.publisher = publisher
        self.instance = instance
        self.claim_idle_ms = claim_idle_ms
        self.relayed = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create the consumer group if needed and start relaying."""
        with contextlib.suppress(redis.ResponseError):  # BUSYGROUP: it exists already
            await self.redis.xgroup_create(
                names.CATALOGUE_OUTBOX, names.CATALOGUE_RELAY_GROUP, id="0", mkstream=True
            )
        self._task = asyncio.create_task(self._run(), name="catalogue relay")

    async def stop(self) -> None:
        """Stop relaying; what is taken and not yet acknowledged stays pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        # Entries this instance took before a restart under the same name come first.
        await self._drain_own_pending()
        last_claim = 0.0
        loop = asyncio.get_running_loop()
        every = min(CLAIM_EVERY_SECONDS, self.claim_idle_ms / 1000)
        while True:
            try:
                if loop.time() - last_claim > every:
                    last_claim = loop.time()
                    await self._claim_abandoned()
                await self._relay(await self._read(">", block=True))
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                logger.warning("catalogue relay on %s: Redis unavailable (%r)", self.instance, exc)
                await asyncio.sleep(1.0)
            except NotConfirmed as exc:
                # The entries stay pending; the next claim round (or restart) takes them.
                logger.warning("catalogue relay on %s: %s", self.instance, exc)
                await asyncio.sleep(1.0)
            except redis.ResponseError as exc:
                # NOGROUP: the stream was deleted (a flushed database); create it again.
                logger.warning("catalogue relay on %s: %s; recreating group", self.instance, exc)
                with contextlib.suppress(redis.ResponseError):
                    await self.redis.xgroup_create(
                        names.CATALOGUE_OUTBOX, names.CATALOGUE_RELAY_GROUP, id="0", mkstream=True
                    )
                await asyncio.sleep(0.2)

    async def _read(self, start: str, *, block: bool) -> list[Entry]:
        reply: Any = await self.redis.xreadgroup(
            names.CATALOGUE_RELAY_GROUP,
            self.instance,
            {names.CATALOGUE_OUTBOX: start},
            count=BATCH,
            block=BLOCK_MS if block else None,
        )
        # Entries deleted while pending come back with no fields: nothing to relay.
        return [entry for _stream, entries in reply or [] for entry in entries if entry[1]]

    async def _drain_own_pending(self) -> None:
        with contextlib.suppress(redis.RedisError, NotConfirmed):
            while entries := await self._read("0", block=False):
                await self._relay(entries)

    async def _claim_abandoned(self) -> None:
        _next, entries, *_deleted = await self.redis.xautoclaim(
            names.CATALOGUE_OUTBOX,
            names.CATALOGUE_RELAY_GROUP,
            self.instance,
            min_idle_time=self.claim_idle_ms,
            start_id="0",
            count=BATCH,
        )
        claimed = [entry for entry in entries if entry and entry[1]]
        if claimed:
            logger.warning(
                "catalogue relay on %s claimed %s events of a silent instance",
                self.instance, len(claimed),
            )  # fmt: skip
            await self._relay(claimed)

    async def _relay(self, entries: list[Entry]) -> None:
        if not entries:
            return
        # Confirms are awaited together: one broker round trip for the whole batch.
        await asyncio.gather(*(self._publish(fields) for _id, fields in entries))

        ids = [entry_id for entry_id, _fields in entries]
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xack(names.CATALOGUE_OUTBOX, names.CATALOGUE_RELAY_GROUP, *ids)
            pipe.xdel(names.CATALOGUE_OUTBOX, *ids)
            await pipe.execute()
        self.relayed += len(entries)

    async def _publish(self, fields: dict[bytes, bytes]) -> None:
        event = fields[b"event"].decode()
        body = fields[b"body"]
        await self.publisher.publish(
            names.CATALOGUE_EXCHANGE,
            body,
            message_id=message_id(event, json.loads(body)),
            type=event,
            # No branch may be listening yet; the branches catch up from the
            # central's ledgers when they start, so an unrouted event is not an error.
            mandatory=False,
        )
