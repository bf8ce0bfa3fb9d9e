"""A lean HTTP/1.1 load generator for the benchmarks.

An httpx client spends more CPU per request than the server under test, so on a
two-core machine it would measure itself. This one keeps a fixed number of
keep-alive connections, each sending one request and reading one response at
a time, with no more parsing than the status line and Content-Length.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Builds the raw request for the n-th call (so that writes can carry fresh ids).
RequestFactory = Callable[[int], bytes]


@dataclass
class LoadResult:
    """What one load run measured."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def get(path: str, host: str = "127.0.0.1") -> RequestFactory:
    """A factory of identical GET requests."""
    raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    return lambda _n: raw


def post_json(
    path: str, body: Callable[[int], str], headers: dict[str, str], host: str = "127.0.0.1"
) -> RequestFactory:
    """A factory of POST requests whose JSON body is built per call."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    def build(n: int) -> bytes:
        payload = body(n).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    return build


async def _connection(
    port: int, factory: RequestFactory, counter: list[int], deadline: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            counter[0] += 1
            writer.write(factory(counter[0]))
            status_line = await reader.readline()
            status = int(status_line.split(b" ", 2)[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 400:
                result.errors += 1
    finally:
        writer.close()


async def run_load(
    port: int, factory: RequestFactory, *, seconds: float, connections: int
) -> LoadResult:
    """Drive ``port`` with ``connections`` keep-alive connections for ``seconds``."""
    result = LoadResult()
    counter = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, factory, counter, deadline, result) for _ in range(connections))
    )
    result.seconds = time.perf_counter() - started
    return result
