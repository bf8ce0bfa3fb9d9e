"""HTTP clients of one keep-alive connection each, for callers with many requests in flight.

One httpx client with a pool of many connections costs more CPU per request the
more connections it holds: httpcore checks every pooled connection (a poll()
each) on every request. Several clients of one connection each cost the same per
request however many there are. Measured at a branch draining its outbox over
HTTP with 32 requests in flight: 330 to 570 sales/s through one pooled client,
1,170 to 1,410 through 32 single-connection clients (``bench/bench_branch.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

import httpx


def single_connection_clients(
    url: str, count: int, headers: dict[str, str], timeout: httpx.Timeout
) -> list[httpx.AsyncClient]:
    """``count`` clients of ``url``, each keeping one connection alive."""
    # Certificates are loaded once: every client would otherwise read them again.
    tls = ssl.create_default_context()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [
        httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout, headers=headers, verify=tls)
        for _ in range(count)
    ]


class ClientPool:
    """Lends single-connection clients, one request at a time each."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self._clients = clients
        self._idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in clients:
            self._idle.put_nowait(client)

    @contextlib.asynccontextmanager
    async def lend(self) -> AsyncIterator[httpx.AsyncClient]:
        """An idle client for the block; waits while every client is busy."""
        client = await self._idle.get()
        try:
            yield client
        finally:
            self._idle.put_nowait(client)

    async def aclose(self) -> None:
        """Close every client."""
        for client in self._clients:
            await client.aclose()
