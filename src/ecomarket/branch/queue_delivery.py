"""Delivery modes 4 to 6: a Redis list the central drains, or RabbitMQ with confirms.

A row counts as sent once Redis has replied to the push (the list is then the
central's to drain) or once the broker has confirmed the message (it is then in
every durable queue bound to the exchange). A reply lost on the way back makes
the row go again; the central applies by id, so the repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis

from ecomarket import names
from ecomarket.branch.broker import Broker
from ecomarket.branch.outbox import OutboxRow
from ecomarket.branch.till import SALE
from ecomarket.branch.verdict import Verdict

logger = logging.getLogger(__name__)


def envelope(row: OutboxRow) -> str:
    """The item pushed onto the Redis list: the kind of event and its body."""
    # The body is already JSON text; splicing it in avoids parsing it again.
    return '{"kind":"' + row.kind + '","body":' + row.body + "}"


class RedisDelivery:
    """Mode 4: RPUSH a batch onto the central's sales queue in one command."""

    def __init__(self, redis_url: str) -> None:
        self._client = redis.Redis.from_url(
            redis_url, socket_timeout=5.0, socket_connect_timeout=2.0
        )

    async def close(self) -> None:
        """Close the Redis client."""
        await self._client.aclose()

    async def send(self, rows: list[OutboxRow]) -> list[Verdict]:
        """Push every row at once; Redis's reply confirms them all."""
        try:
            await self._client.rpush(names.SALES_QUEUE_LIST, *(envelope(row) for row in rows))
        except (redis.RedisError, OSError) as exc:
            return [Verdict.retry(f"Redis: {exc}")] * len(rows)
        return [Verdict.sent()] * len(rows)


class RabbitDelivery:
    """Modes 5 and 6: publish each row with a publisher confirm."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def _publish(self, row: OutboxRow, direct: bool) -> None:
        publisher = self.broker.publisher
        assert publisher is not None
        body = row.body.encode()
        if row.kind != SALE:
            await publisher.publish(
                names.CUSTOMERS_EXCHANGE,
                body,
                message_id=row.ref_id,
                type=names.EVENT_CUSTOMER_REGISTERED,
            )
        elif direct:
            await publisher.publish(
                names.SALES_DIRECT_EXCHANGE,
                body,
                message_id=row.ref_id,
                routing_key=names.SALES_DIRECT_KEY,
            )
        else:
            await publisher.publish(names.SALES_EXCHANGE, body, message_id=row.ref_id)

    async def send(self, rows: list[OutboxRow], *, direct: bool) -> list[Verdict]:
        """Publish the rows together (their confirms overlap) and judge each."""
        if self.broker.publisher is None:
            return [Verdict.retry("broker not connected")] * len(rows)
        outcomes = await asyncio.gather(
            *(self._publish(row, direct) for row in rows), return_exceptions=True
        )
        verdicts = []
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                verdicts.append(Verdict.retry(f"broker: {outcome!r}"))
            else:
                verdicts.append(Verdict.sent())
        return verdicts
