"""``Idempotency-Key`` on any POST: a repeat gets the stored first answer, nothing runs twice.

Every write of the API already carries its own id (sale id, movement id,
customer id), so this is a second, generic guard: it lets nginx retry any POST
on another instance, and lets clients retry writes whose body has no id.

Known limit: two requests with the same key that arrive at the same moment
both reach the route; the route's own exactly-once step decides, and the first
answer stored wins. Keys are kept for ``TTL_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import logging

import redis.asyncio as redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecomarket import names
from ecomarket.central.asgi import read_body, replay_body

logger = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200
HEADER = b"idempotency-key"


def _fingerprint(*parts: bytes) -> str:
    hasher = hashlib.blake2b(digest_size=12)
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


class Idempotency:
    """Answers a repeated POST (same key, caller and path) with the stored first answer."""

    def __init__(self, app: ASGIApp, client: redis.Redis) -> None:
        self.app = app
        self.redis = client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            await _answer(send, 422, _error(f"must be 1 to {MAX_KEY_LENGTH} characters"))
            return

        # The key is scoped to the caller and the path, so that two callers (or two
        # routes) choosing the same key never see each other's answers.
        scope_id = _fingerprint(headers.get(b"authorization", b""), scope["path"].encode(), key)
        redis_key = f"{names.IDEMPOTENCY}{scope_id}"
        body = await read_body(receive)
        if body is None:
            return
        body_print = _fingerprint(body)

        try:
            stored = await self.redis.get(redis_key)
        except (redis.RedisError, OSError):
            logger.warning("Idempotency-Key not checked: Redis unavailable")
            stored = None
        if stored is not None:
            first = json.loads(stored)
            if first["request"] != body_print:
                await _answer(send, 409, _error("already used for a different request body"))
                return
            logger.warning("Idempotency-Key repeat on %s: first answer replayed", scope["path"])
            await _answer(send, first["status"], first["body"].encode(), replayed=True)
            return

        await self._run_and_store(scope, replay_body(body, receive), send, redis_key, body_print)

    async def _run_and_store(
        self, scope: Scope, receive: Receive, send: Send, redis_key: str, body_print: str
    ) -> None:
        status = 0
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)

        # A 5xx says nothing final about the request: a retry must run it again.
        if not 200 <= status < 500:
            return
        try:
            text = b"".join(chunks).decode()
        except UnicodeDecodeError:
            return
        record = json.dumps({"status": status, "body": text, "request": body_print})
        try:
            await self.redis.set(redis_key, record, nx=True, ex=TTL_SECONDS)
        except (redis.RedisError, OSError):
            logger.warning("Idempotency-Key answer not stored: Redis unavailable")


def _error(message: str) -> bytes:
    detail = {"loc": ["header", "Idempotency-Key"], "field": "Idempotency-Key", "msg": message}
    return json.dumps({"detail": [detail]}).encode()


async def _answer(send: Send, status: int, body: bytes, *, replayed: bool = False) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
