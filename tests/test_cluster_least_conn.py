"""``least-conn``: the generated nginx sends most requests to the faster instance."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster_fixtures import start_nginx, start_trivial
from tests.processes import Running


@pytest.fixture
def fast_and_slow(log_dir: Path) -> Iterator[tuple[Running, Running]]:
    """Two trivial instances, one answering after 40 ms."""
    fast = start_trivial(log_dir, "fast")
    slow = start_trivial(log_dir, "slow", delay_ms=40)
    yield fast, slow
    fast.stop()
    slow.stop()


async def shares(url: str, requests: int, concurrency: int) -> Counter[str]:
    """How many of ``requests`` concurrent requests each instance served."""
    served: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                response = await client.get("/api/v1/products/101")
                served[response.headers["x-served-by"]] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return served


async def test_least_conn_favours_the_faster_instance(
    fast_and_slow: tuple[Running, Running], tmp_path: Path, log_dir: Path
) -> None:
    fast, slow = fast_and_slow
    balancer = start_nginx(tmp_path, log_dir, [fast.port, slow.port], "least-conn")
    try:
        served = await shares(balancer.url, 600, 8)
    finally:
        balancer.stop()

    # The slow one holds each connection 40 ms, so it is rarely the least busy.
    assert served["fast"] / 600 >= 0.7, served


async def test_round_robin_shares_evenly_whatever_the_speed(
    fast_and_slow: tuple[Running, Running], tmp_path: Path, log_dir: Path
) -> None:
    fast, slow = fast_and_slow
    balancer = start_nginx(tmp_path, log_dir, [fast.port, slow.port], "round-robin")
    try:
        served = await shares(balancer.url, 200, 8)
    finally:
        balancer.stop()

    assert abs(served["fast"] - served["slow"]) <= 20, served
