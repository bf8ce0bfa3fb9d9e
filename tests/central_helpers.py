"""Builders of valid requests for the central's API, and a Redis snapshot for no-change checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import redis


def sale(
    branch_id: str = "branch-1",
    lines: list[tuple[int, int, str]] | None = None,
    sale_id: str | None = None,
) -> dict[str, Any]:
    """A valid sale body; ``lines`` are (product id, quantity, unit price)."""
    return {
        "sale_id": sale_id or str(uuid.uuid4()),
        "branch_id": branch_id,
        "sold_at": datetime.now(UTC).isoformat(),
        "lines": [
            {"product_id": p, "quantity": q, "unit_price": price}
            for p, q, price in (lines or [(101, 1, "3.50")])
        ],
    }


def movement(
    product_id: int = 101, quantity: int = 10, branch_id: str = "branch-1", reason: str = "received"
) -> dict[str, Any]:
    """A valid stock movement body."""
    return {
        "movement_id": str(uuid.uuid4()),
        "branch_id": branch_id,
        "product_id": product_id,
        "quantity": quantity,
        "reason": reason,
    }


def customer(branch_id: str = "branch-1") -> dict[str, Any]:
    """A valid customer body."""
    customer_id = str(uuid.uuid4())
    return {
        "customer_id": customer_id,
        "email": f"{customer_id[:8]}@example.org",
        "name": "Ada Green",
        "branch_id": branch_id,
    }


def snapshot(url: str) -> dict[bytes, Any]:
    """Every key of the database with its value, to prove that a request changed nothing.

    What the instances write on their own schedule is left out: heartbeats, and the
    registry of mode-4 processing lists.
    """
    client = redis.Redis.from_url(url)
    state: dict[bytes, Any] = {}
    for key in client.scan_iter(count=1000):
        if key.startswith((b"eco:instance", b"eco:idem:", b"eco:queue:sales:processors")):
            continue
        kind = client.type(key)
        if kind == b"string":
            state[key] = client.get(key)
        elif kind == b"hash":
            state[key] = client.hgetall(key)
        elif kind == b"zset":
            state[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == b"set":
            state[key] = client.smembers(key)
        elif kind == b"list":
            state[key] = client.lrange(key, 0, -1)
        elif kind == b"stream":
            state[key] = client.xrange(key)
    client.close()
    return state
