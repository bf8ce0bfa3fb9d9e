"""Dead letters: what cannot be applied goes to ``ecomarket.dead`` with its reason.

Two roads lead there. A consumer that refuses a message (malformed JSON, wrong
schema, unknown version, unknown product, a handler that keeps crashing on it)
publishes a copy with the reason in ``x-dead-reason``, then acknowledges the
original. A message that a quorum queue delivered ``x-delivery-limit`` times
without an answer (it killed every consumer that took it) is moved there by the
broker itself, with its ``x-death`` headers. The central's ``central.dead``
queue records both kinds in Redis, once each, so that they are listed and can
be replayed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from ecomarket import names
from ecomarket.bus.publisher import Publisher
from ecomarket.central.store import CentralStore, Outcome

logger = logging.getLogger(__name__)

REASON = "x-dead-reason"
DETAIL = "x-dead-detail"
QUEUE = "x-dead-queue"
EXCHANGE = "x-dead-exchange"
ROUTING_KEY = "x-dead-routing-key"
BY = "x-dead-by"
REPLAYED_FROM = "x-replayed-from"
# Headers that describe a past death; a replayed message starts without them.
_DEATH_HEADERS = ("x-death", "x-first-death-", "x-last-death-", "x-dead-", "x-delivery-count")


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def dead_letter_id(queue: str, message_id: str, reason: str, body: bytes) -> str:
    """Same message, same queue, same reason: same dead letter, however often it is sent."""
    raw = "\x00".join((queue, message_id, reason)).encode() + b"\x00" + body
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


class DeadLetters:
    """Sends messages a consumer refuses to ``ecomarket.dead``, with the reason."""

    def __init__(self, publisher: Publisher, instance: str) -> None:
        self.publisher = publisher
        self.instance = instance

    async def send(
        self, message: AbstractIncomingMessage, queue: str, reason: str, detail: str
    ) -> None:
        """Publish a copy of ``message`` with its reason and wait for the confirm."""
        headers = dict(message.headers or {})
        headers.update({
            REASON: reason,
            DETAIL: detail[:500],
            QUEUE: queue,
            EXCHANGE: message.exchange or "",
            ROUTING_KEY: message.routing_key or "",
            BY: self.instance,
        })  # fmt: skip
        logger.warning(
            "message %s of %s dead-lettered on %s: %s %s",
            message.message_id, queue, self.instance, reason, detail,
        )  # fmt: skip
        await self.publisher.publish(
            names.DEAD_EXCHANGE,
            message.body,
            message_id=message.message_id or dead_letter_id(queue, "", reason, message.body),
            type=message.type,
            headers=headers,
        )


def describe(message: AbstractIncomingMessage, instance: str) -> dict[str, Any]:
    """The record of one dead letter, from either road (our headers, or the broker's)."""
    headers = message.headers or {}
    deaths = headers.get("x-death")
    first: dict[str, Any] = {}
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        first = deaths[0]
    if REASON in headers:
        reason, detail = _text(headers[REASON]), _text(headers.get(DETAIL, ""))
        queue, exchange = _text(headers.get(QUEUE, "")), _text(headers.get(EXCHANGE, ""))
        routing_key = _text(headers.get(ROUTING_KEY, ""))
    else:
        reason = _text(headers.get("x-first-death-reason", first.get("reason", "unknown")))
        detail = f"moved by the broker after {first.get('count', '?')} such death(s)"
        queue = _text(headers.get("x-first-death-queue", first.get("queue", "")))
        exchange = _text(headers.get("x-first-death-exchange", first.get("exchange", "")))
        keys = first.get("routing-keys") or [""]
        routing_key = _text(keys[0])
    message_id = message.message_id or ""
    return {
        "dead_letter_id": dead_letter_id(queue, message_id, reason, message.body),
        "reason": reason,
        "detail": detail,
        "queue": queue,
        "exchange": exchange,
        "routing_key": routing_key,
        "message_id": message_id,
        "type": message.type,
        "body": message.body.decode(errors="replace"),
        "headers": {k: _text(v) for k, v in headers.items() if not k.startswith(_DEATH_HEADERS)},
        "recorded_by": instance,
        "recorded_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


async def record(store: CentralStore, message: AbstractIncomingMessage) -> Outcome:
    """Record one dead letter once; a dead letter seen again is shown as dead again."""
    entry = describe(message, store.instance)
    letter_id = entry["dead_letter_id"]
    fingerprint = letter_id  # the id is already a digest of what makes it the same
    result = await store.record_once(
        names.DEAD_LETTER, names.DEAD_LETTER_LEDGER, names.DEAD_LETTER_SEQ,
        letter_id, entry, fingerprint, names.COUNTER_DEAD_LETTERS,
    )  # fmt: skip
    # A replayed message that failed again comes back with the same id: it is dead again.
    await store.redis.hdel(names.DEAD_LETTER_REPLAYED, letter_id)
    if result.is_new:
        logger.info(
            "dead letter %s recorded on %s: message %s of %s, %s",
            letter_id, store.instance, entry["message_id"], entry["queue"], entry["reason"],
        )  # fmt: skip
    return result.outcome


async def replay(
    store: CentralStore, publisher: Publisher, letter_id: str
) -> dict[str, Any] | None:
    """Send a dead letter back to the queue it died in; None when there is no such letter."""
    raw = await store.record(names.DEAD_LETTER, letter_id)
    if raw is None:
        return None
    entry = json.loads(raw)
    headers = {k: v for k, v in entry["headers"].items() if not k.startswith(_DEATH_HEADERS)}
    headers[REPLAYED_FROM] = letter_id
    # Through the default exchange straight to the queue, so that only the group that
    # refused it sees it again, not every subscriber of the original exchange.
    await publisher.publish(
        "",
        entry["body"].encode(),
        message_id=entry["message_id"] or letter_id,
        routing_key=entry["queue"],
        type=entry["type"],
        headers=headers,
    )
    replayed_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    await store.redis.hset(names.DEAD_LETTER_REPLAYED, letter_id, replayed_at)
    logger.info("dead letter %s replayed to %s by %s", letter_id, entry["queue"], store.instance)
    return {"dead_letter_id": letter_id, "queue": entry["queue"], "replayed_at": replayed_at}
