"""The central's drain of delivery mode 4: the Redis list the branches push to.

Reliable-queue pattern: an item is moved atomically (BLMOVE) from the shared
list to this instance's own processing list, applied exactly once through the
store, and only then removed (LREM). An instance that dies holding items leaves
them in its processing list; any live instance moves them back to the shared
list once that instance's heartbeat is stale, and an instance restarted under
the same name takes its own leftovers first. An item applied twice that way
changes nothing: the store applies by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import redis.asyncio as redis
from fastapi import FastAPI, Request
from pydantic import ValidationError

from ecomarket import names
from ecomarket.central.metrics import InstanceFigures
from ecomarket.central.store import CentralStore, Outcome
from ecomarket.schemas import CustomerIn, SaleIn

logger = logging.getLogger(__name__)

BATCH = 100  # items claimed per round after the first, blocking, one
BLOCK_SECONDS = 1
STALE_SECONDS = 15.0  # a heartbeat older than this means the instance is gone
SWEEP_SECONDS = 5.0
RETRY_SECONDS = 1.0


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisQueueDrain:
    """Drains ``names.SALES_QUEUE_LIST`` for one instance, for the life of the instance."""

    def __init__(self, store: CentralStore, figures: InstanceFigures) -> None:
        self.store = store
        self.figures = figures
        self.redis: redis.Redis = store.redis
        self.processing = names.SALES_QUEUE_PROCESSING + store.instance
        self._task: asyncio.Task[None] | None = None
        self._next_sweep = 0.0

    async def start(self) -> None:
        """Start draining in the background (Redis may still be down: it keeps trying)."""
        self._task = asyncio.create_task(self._run(), name=f"{self.store.instance}-redis-queue")

    async def stop(self) -> None:
        """Stop; an item claimed but not yet applied stays in the processing list."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                if time.monotonic() >= self._next_sweep:
                    await self.requeue_abandoned()
                    self._next_sweep = time.monotonic() + SWEEP_SECONDS
                await self.drain_once()
            except (redis.RedisError, OSError) as exc:
                logger.warning(
                    "instance %s: sales queue unavailable (%r)", self.store.instance, exc
                )
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:
                logger.exception("instance %s: sales queue round failed", self.store.instance)
                await asyncio.sleep(RETRY_SECONDS)

    async def drain_once(self) -> int:
        """Apply what this instance holds, or claim and apply a new batch; how many applied."""
        # Leftovers first: from a round cut short by Redis, or from before a restart.
        items = await self.redis.lrange(self.processing, 0, BATCH - 1)
        if not items:
            # Known before it holds anything, so that a sweep finds this list if we die.
            await self.redis.sadd(names.SALES_QUEUE_PROCESSORS, self.store.instance)
            first = await self.redis.blmove(
                names.SALES_QUEUE_LIST, self.processing, BLOCK_SECONDS, "LEFT", "RIGHT"
            )
            if first is None:
                return 0
            async with self.redis.pipeline(transaction=False) as pipe:
                for _ in range(BATCH - 1):
                    pipe.lmove(names.SALES_QUEUE_LIST, self.processing, "LEFT", "RIGHT")
                more = await pipe.execute()
            items = [first, *(item for item in more if item is not None)]

        for item in map(_text, items):
            await self._apply(item)
            await self.redis.lrem(self.processing, 1, item)
        return len(items)

    async def _apply(self, item: str) -> None:
        about = "an item"
        try:
            envelope = json.loads(item)
            kind, body = envelope["kind"], envelope["body"]
            if kind == "sale":
                sale = SaleIn.model_validate(body)
                about = f"sale {sale.sale_id} of {sale.branch_id}"
                result = await self.store.apply_sale(sale)
                self.figures.count(result.outcome)
            elif kind == "customer":
                customer = CustomerIn.model_validate(body)
                about = f"customer {customer.customer_id} of {customer.branch_id}"
                result = await self.store.register_customer(customer)
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            await self._set_aside(item, about, f"malformed: {exc}")
            return
        if result.outcome is Outcome.DUPLICATE:
            logger.warning("%s from the Redis queue already applied, on %s",
                           about, self.store.instance)  # fmt: skip
        elif result.outcome in (Outcome.UNKNOWN_PRODUCT, Outcome.CONFLICT):
            await self._set_aside(item, about, f"{result.outcome.value}: {result.body[:200]}")

    async def _set_aside(self, item: str, about: str, reason: str) -> None:
        logger.warning("%s set aside from the Redis queue on %s: %s",
                       about, self.store.instance, reason)  # fmt: skip
        entry = json.dumps({"reason": reason, "item": item, "by": self.store.instance})
        await self.redis.rpush(names.SALES_QUEUE_DEAD, entry)

    async def requeue_abandoned(self) -> int:
        """Move the items of instances with a stale heartbeat back to the shared list."""
        moved = 0
        now = time.time()
        # The set of processors, not a SCAN of the keyspace: a sweep costs the number of
        # instances, not the number of sales in Redis.
        for raw in await self.redis.smembers(names.SALES_QUEUE_PROCESSORS):
            instance = _text(raw)
            if instance == self.store.instance:
                continue
            beat = await self.redis.zscore(names.INSTANCE_HEARTBEAT, instance)
            if beat is not None and now - beat < STALE_SECONDS:
                continue
            key = names.SALES_QUEUE_PROCESSING + instance
            # LMOVE is atomic per item, so two instances sweeping at once never double an item.
            while await self.redis.lmove(key, names.SALES_QUEUE_LIST, "RIGHT", "LEFT") is not None:
                moved += 1
        if moved:
            logger.warning("instance %s re-queued %s items left by dead instances",
                           self.store.instance, moved)  # fmt: skip
        return moved


def redis_queue_service(app: FastAPI) -> RedisQueueDrain:
    """Service factory for ``create_app``: the drain, plus its dashboard panel."""
    drain = RedisQueueDrain(app.state.store, app.state.figures)

    async def panel(request: Request) -> dict[str, Any]:
        try:
            waiting = await drain.redis.llen(names.SALES_QUEUE_LIST)
            dead = await drain.redis.llen(names.SALES_QUEUE_DEAD)
        except redis.RedisError:
            return {}
        return {"Redis sales queue (mode 4)": {"waiting": waiting, "set aside": dead}}

    if not hasattr(app.state, "dashboard_panels"):
        app.state.dashboard_panels = []
    app.state.dashboard_panels.append(panel)
    return drain
