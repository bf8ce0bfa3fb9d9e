"""One queue kept consumed: a supervising loop that subscribes again whenever it is lost.

aio-pika's robust connection re-declares the queues and re-registers the consumers
of its robust channels after a reconnect, but it tells its caller nothing about it:
there is no flag saying "this consumer is registered again", a restore that fails
(a quorum queue without a leader yet right after the node restarts answers the
declare or the consume with an error or a timeout) is retried by its own rules,
and a consumer cancelled by the broker (``basic.cancel``) is restored only when the
cancel reaches its recovery hook. One run of the branch's broker-outage test ended
with the central connected, "ready", and consuming nothing.

So a consumer does not rely on that restore. Its channel is a plain (not robust)
channel on the process's robust connection, which aio-pika leaves alone, and this
loop owns it: subscribe (channel, QoS, exchanges, queue, bindings, consume), then
wait until the channel closes, the broker cancels the consumer, or a periodic probe
twice in a row finds the queue without consumers or not answering; then close what
is left and subscribe again, with backoff, until it works. ``running`` is false
meanwhile, so ``/readyz`` says "not ready" exactly while the queue is not consumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

if TYPE_CHECKING:
    from ecomarket.bus.consumer import QueueSpec

logger = logging.getLogger(__name__)

# Every broker call of a subscription is bounded: a quorum queue without a leader
# may leave a call unanswered, and a subscription stuck there would consume nothing.
CALL_SECONDS = 10.0
FIRST_PAUSE = 0.5
LONGEST_PAUSE = 5.0
# How often the broker is asked whether the queue still has consumers and answers.
PROBE_SECONDS = 5.0
CLOSE_SECONDS = 5.0
# A subscription that lasted this long was healthy: the next one starts without a pause.
STEADY_SECONDS = 30.0

Deliver = Callable[[AbstractIncomingMessage], Awaitable[None]]


class Subscription:
    """Keeps one queue consumed on a channel of its own until stopped."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        spec: QueueSpec,
        deliver: Deliver,
        instance: str,
    ) -> None:
        self.connection = connection
        self.spec = spec
        self.deliver = deliver
        self.instance = instance
        self.subscriptions = 0  # how many times it subscribed (1 + the renewals)
        self._running = asyncio.Event()
        self._channel: aio_pika.Channel | None = None
        self._loop: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether a consumer is registered on an open channel right now."""
        return self._running.is_set() and self._loop is not None and not self._loop.done()

    async def start(self) -> None:
        """Start the supervising loop and wait until the first subscription works."""
        self._loop = loop = asyncio.create_task(
            self._supervise(), name=f"subscribe {self.spec.name}"
        )
        first = asyncio.ensure_future(self._running.wait())
        await asyncio.wait({first, loop}, return_when=asyncio.FIRST_COMPLETED)
        first.cancel()
        if loop.done():
            loop.result()  # the loop cannot end by itself: raise what ended it

    async def stop(self) -> None:
        """Stop subscribing and close the channel (its unsettled messages go back)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        self._running.clear()
        await self._close()

    async def _supervise(self) -> None:
        pause = FIRST_PAUSE
        failures = 0
        while True:
            try:
                await self.connection.ready()
                cancelled = await self._subscribe()
            except Exception as exc:  # whatever failed (broker, queue, timeout): retry
                failures += 1
                # The first failure and then one in ten: a broker down for minutes
                # must not flood the log.
                if failures == 1 or failures % 10 == 0:
                    logger.warning(
                        "%s: subscribing to %s failed (%r, attempt %s); retrying in %.1f s",
                        self.instance, self.spec.name, exc, failures, pause,
                    )  # fmt: skip
                await self._close()
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            again = " again" if self.subscriptions > 1 else ""
            logger.info(
                "%s consuming %s%s (%s failed attempts before)",
                self.instance, self.spec.name, again, failures,
            )  # fmt: skip
            failures = 0
            since = time.monotonic()
            self._running.set()
            try:
                reason = await self._watch(cancelled)
            except Exception as exc:  # a bug in watching must not end the loop
                reason = f"watching failed: {exc!r}"
            finally:
                self._running.clear()
            logger.warning(
                "%s: consumer of %s lost (%s); subscribing again",
                self.instance, self.spec.name, reason,
            )  # fmt: skip
            await self._close()
            if time.monotonic() - since > STEADY_SECONDS:
                pause = FIRST_PAUSE
            else:
                # Lost soon after subscribing, again and again: back off rather than spin.
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)

    async def _subscribe(self) -> asyncio.Event:
        """Channel, QoS, exchanges, queue, bindings, consumer; the broker-cancel flag."""
        spec = self.spec
        # A plain channel: aio-pika does not restore it behind our back; this loop does.
        channel = aio_pika.Channel(self.connection)
        self._channel = channel
        async with asyncio.timeout(CALL_SECONDS * 3):
            await channel.initialize()
            await channel.set_qos(prefetch_count=spec.prefetch, timeout=CALL_SECONDS)
            queue = await spec.declare(channel, CALL_SECONDS)
            cancelled = asyncio.Event()
            underlay = await channel.get_underlay_channel()
            # One consumer per channel: any basic.cancel on it is ours.
            underlay.on_consumer_cancel_callbacks.add(lambda _frame: cancelled.set())
            await queue.consume(self.deliver, timeout=CALL_SECONDS)
        self.subscriptions += 1
        return cancelled

    async def _watch(self, cancelled: asyncio.Event) -> str:
        """Wait until the subscription is lost; why it was."""
        channel = self._channel
        assert channel is not None
        closed = asyncio.ensure_future(channel.closed())
        cancel = asyncio.ensure_future(cancelled.wait())
        last_problem = ""
        try:
            while True:
                done, _ = await asyncio.wait(
                    {closed, cancel}, timeout=PROBE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if closed in done:
                    return "channel closed"
                if cancel in done:
                    return "cancelled by the broker"
                problem = await self._probe(channel)
                if problem and last_problem:
                    return problem
                # One bad answer may be a busy broker or a busy process: act on two in a row,
                # since subscribing again redelivers what is in flight.
                last_problem = problem
        finally:
            for waiter in (closed, cancel):
                waiter.cancel()

    async def _probe(self, channel: aio_pika.Channel) -> str:
        """Ask the broker, on the consuming channel, whether the queue has consumers."""
        try:
            queue = await channel.declare_queue(self.spec.name, passive=True, timeout=CALL_SECONDS)
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            return f"probe failed: {exc!r}"
        consumers = queue.declaration_result.consumer_count or 0
        return "" if consumers > 0 else "the broker lists no consumer on the queue"

    async def _close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is None or not channel.is_initialized or channel.is_closed:
            return
        # Closing the channel returns its unacknowledged messages to the queue.
        with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
            await asyncio.wait_for(channel.close(), CLOSE_SECONDS)
