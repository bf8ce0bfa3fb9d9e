"""Consuming a queue in batches: collect what is available, handle it, then settle it.

The broker pushes up to ``prefetch`` messages; the worker takes every message
already here (at least one), hands the batch to the handler, and settles each
message by the handler's verdict: acknowledged once its effect is stored, sent
to ``ecomarket.dead`` with a reason, or given back to the queue to be tried
again. So the broker round trip and the Redis round trip are paid per batch,
not per message, and nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as redis
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from pydantic import BaseModel, ValidationError

from ecomarket import names
from ecomarket.bus.deadletter import DeadLetters
from ecomarket.bus.subscription import Subscription
from ecomarket.bus.topology import declare_exchanges

logger = logging.getLogger(__name__)

# Redis unavailable: the batch stays unacknowledged and is tried again after a pause,
# so that an outage neither loses messages nor counts against their delivery limit.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)
TRANSIENT_PAUSE = 0.5
# A quorum queue dead-letters a message returned this many times (a consumer that
# crashes on it, again and again); above CRASH_ATTEMPTS so that the handler's own
# verdict, which says why, normally comes first.
DELIVERY_LIMIT = 10
CRASH_ATTEMPTS = 3
CLOSE_SECONDS = 5.0


@dataclass(frozen=True)
class Verdict:
    """What to do with one message: ack, dead (with a reason) or retry (after a crash)."""

    kind: str
    reason: str = ""
    detail: str = ""


ACK = Verdict("ack")


def dead(reason: str, detail: str = "") -> Verdict:
    """Send the message to ``ecomarket.dead`` with this reason, then acknowledge it."""
    return Verdict("dead", reason, detail)


def retry(detail: str) -> Verdict:
    """The handler crashed on this message: give it back, or dead-letter it when it keeps on."""
    return Verdict("retry", "handler_error", detail)


Model = TypeVar("Model", bound=BaseModel)


def read_body(model: type[Model], body: bytes) -> Model | Verdict:
    """The message body as ``model``, or the dead-letter verdict that names what is wrong."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        if any(error["type"] == "json_invalid" for error in errors):
            return dead("malformed_json", errors[0]["msg"])
        fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in errors)
        return dead("wrong_schema", f"{fields}: {errors[0]['msg']}")


Handler = Callable[[list[AbstractIncomingMessage]], Awaitable[list[Verdict]]]


@dataclass(frozen=True)
class QueueSpec:
    """A queue a consumer owns: its arguments and what it is bound to."""

    name: str
    bindings: list[tuple[str, str]]  # (exchange, routing key)
    prefetch: int = 256
    arguments: dict[str, Any] = field(default_factory=dict)
    # How long a small batch waits for more messages before it is handled (see _work).
    linger: float = 0.005

    async def declare(
        self, channel: AbstractChannel, call_seconds: float | None = None
    ) -> AbstractQueue:
        """Declare the exchanges, this queue and its bindings, idempotently; the queue.

        ``call_seconds`` bounds each broker call, not the whole declaration.
        """
        exchanges = await declare_exchanges(channel)
        queue = await channel.declare_queue(
            self.name, durable=True, arguments=self.arguments, timeout=call_seconds
        )
        for exchange, routing_key in self.bindings:
            await queue.bind(exchanges[exchange], routing_key, timeout=call_seconds)
        return queue


def quorum_arguments(*, dead_letters: bool = True, expires_ms: int | None = None) -> dict[str, Any]:
    """Arguments of a durable quorum queue, dead-lettering to ``ecomarket.dead``."""
    arguments: dict[str, Any] = {"x-queue-type": "quorum"}
    if dead_letters:
        arguments["x-delivery-limit"] = DELIVERY_LIMIT
        arguments["x-dead-letter-exchange"] = names.DEAD_EXCHANGE
    if expires_ms is not None:
        arguments["x-expires"] = expires_ms
    return arguments


def delivery_count(message: AbstractIncomingMessage) -> int:
    """How many times a quorum queue delivered this message before (its own header)."""
    count = (message.headers or {}).get("x-delivery-count", 0)
    return count if isinstance(count, int) else 0


class BatchConsumer:
    """Consumes one queue on its own channel, batch by batch, until stopped."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        spec: QueueSpec,
        handler: Handler,
        dead_letters: DeadLetters | None,
        instance: str,
    ) -> None:
        self.connection = connection
        self.spec = spec
        self.handler = handler
        self.dead_letters = dead_letters
        self.instance = instance
        self.settled = 0
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        # The subscription renews the consumer whenever it is lost (see subscription.py);
        # the worker and its inbox outlive every renewal.
        self._subscription = Subscription(connection, spec, self._inbox.put, instance)
        self._worker: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the queue is being consumed right now (false while subscribing again)."""
        worker = self._worker
        return self._subscription.running and worker is not None and not worker.done()

    async def start(self) -> None:
        """Start the worker, then subscribe; returns once the queue is first consumed."""
        self._worker = asyncio.create_task(self._work(), name=f"consume {self.spec.name}")
        await self._subscription.start()

    async def stop(self) -> None:
        """Stop taking messages; what is not settled goes back to the queue."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._subscription.stop()

    async def _work(self) -> None:
        # The worker must outlive anything a batch does: if it died, messages would
        # pile up unacknowledged in the inbox while the broker sees a live consumer.
        while True:
            batch = [await self._inbox.get()]
            self._take_waiting(batch)
            if len(batch) < self.spec.prefetch // 4 and self.spec.linger:
                # When messages trickle in, a batch per message would pay the Redis and
                # broker round trips per message again; a few milliseconds of waiting
                # gathers them, and costs a busy queue nothing, since its batches are full.
                await asyncio.sleep(self.spec.linger)
                self._take_waiting(batch)
            try:
                await self._handle(batch)
            except Exception:
                logger.exception("%s: a batch of %s failed", self.instance, self.spec.name)
                await _give_back(batch)

    def _take_waiting(self, batch: list[AbstractIncomingMessage]) -> None:
        while not self._inbox.empty() and len(batch) < self.spec.prefetch:
            batch.append(self._inbox.get_nowait())

    async def _handle(self, batch: list[AbstractIncomingMessage]) -> None:
        verdicts = await self._judge(batch)
        try:
            await self._settle(batch, verdicts)
        except CONNECTION_EXCEPTIONS as exc:
            # The channel is gone: the broker gives these messages to a consumer
            # again, and applying by id makes that harmless.
            logger.warning(
                "%s: %s messages of %s not settled (%r); they will be redelivered",
                self.instance, len(batch), self.spec.name, exc,
            )  # fmt: skip
        except Exception:
            # A dead letter the broker would not confirm, or a bug: give back what is
            # not settled rather than hold it unacknowledged for the channel's life.
            logger.exception("%s: settling a batch of %s failed", self.instance, self.spec.name)
            await _give_back(batch)

    async def _judge(self, batch: list[AbstractIncomingMessage]) -> list[Verdict]:
        pause = TRANSIENT_PAUSE
        while True:
            try:
                return await self.handler(batch)
            except TRANSIENT as exc:
                logger.warning(
                    "%s: Redis unavailable (%r); holding %s messages of %s",
                    self.instance, exc, len(batch), self.spec.name,
                )  # fmt: skip
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
            except Exception:
                if len(batch) == 1:
                    logger.exception("%s: handler of %s crashed", self.instance, self.spec.name)
                    return [retry("the handler crashed")]
                # Handle the messages one by one, so that the one that crashes the handler
                # is found and no other message pays for it.
                return [(await self._judge([message]))[0] for message in batch]

    async def _settle(self, batch: list[AbstractIncomingMessage], verdicts: list[Verdict]) -> None:
        # Messages delivered on a channel that has closed since (a reconnect) cannot be
        # settled: the broker already gave them back, and settling them would fail the
        # live ones of the batch, which would then stay unacknowledged for good.
        live = [(m, v) for m, v in zip(batch, verdicts, strict=True) if _is_live(m)]
        if len(live) < len(batch):
            logger.warning(
                "%s: %s messages of %s came on a closed channel; the broker redelivers them",
                self.instance, len(batch) - len(live), self.spec.name,
            )  # fmt: skip
        acked: list[AbstractIncomingMessage] = []
        for message, verdict in live:
            if verdict.kind == "retry" and delivery_count(message) + 1 < CRASH_ATTEMPTS:
                logger.warning(
                    "%s: message %s of %s given back after a crash (%s)",
                    self.instance, message.message_id, self.spec.name, verdict.detail,
                )  # fmt: skip
                await message.nack(requeue=True)
                continue
            if verdict.kind != "ack":
                if self.dead_letters is None:
                    # The end of the road (the dead-letter queue itself): keep the message,
                    # and pause so that one that cannot be recorded does not spin the worker.
                    await asyncio.sleep(TRANSIENT_PAUSE)
                    await message.nack(requeue=True)
                    continue
                await self.dead_letters.send(
                    message, self.spec.name, verdict.reason, verdict.detail
                )
            acked.append(message)
        await self._ack(acked, whole_batch=len(acked) == len(batch))
        self.settled += len(batch)

    async def _ack(self, messages: list[AbstractIncomingMessage], *, whole_batch: bool) -> None:
        if not messages:
            return
        last = messages[-1]
        if whole_batch and all(m.channel is last.channel for m in messages):
            # Deliveries on a channel are in order and every earlier batch is settled,
            # so one multiple-ack of the last settles the whole batch.
            await last.ack(multiple=True)
            return
        for message in messages:
            await message.ack()


def _is_live(message: AbstractIncomingMessage) -> bool:
    """Whether the channel the message came on is still open."""
    try:
        return not message.channel.is_closed
    except CONNECTION_EXCEPTIONS:
        return False


async def _give_back(batch: list[AbstractIncomingMessage]) -> None:
    """Return to the queue what is not settled; a message of a closed channel already is."""
    for message in batch:
        if not message.processed and _is_live(message):
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
