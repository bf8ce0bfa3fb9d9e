"""One request as a well-behaved HTTP client makes it, measured."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from ecomarket.http_clients import single_connection_clients
from ecomarket.loadtest.workload import Request

# A server (nginx reloading, an instance stopping) may close a keep-alive
# connection just as the client sends on it; the request never reached anyone,
# and browsers and HTTP libraries resend idempotent requests in that case.
STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass(frozen=True)
class Sample:
    """What happened to one request."""

    latency: float  # seconds, retries included
    status: int  # 0 when no answer came
    served_by: str
    failure: str | None  # the kind of failure, None when it succeeded
    retried: bool


def make_clients(url: str, count: int, headers: dict[str, str]) -> list[httpx.AsyncClient]:
    """``count`` clients of one keep-alive connection each, one per simulated user.

    One shared pool of many connections made the client, not the servers, the
    bottleneck of the load test (see ``ecomarket.http_clients``).
    """
    return single_connection_clients(url, count, headers, httpx.Timeout(20.0))


def _expected(request: Request, status: int) -> bool:
    if request.method == "GET":
        return status == 200
    # 200 is the first answer replayed when a retry (ours or nginx's) repeats a write.
    return status in (200, 201)


async def send(client: httpx.AsyncClient, request: Request) -> Sample:
    """Send one request, resending it once if the connection was closed under it.

    Every request the load test makes is idempotent (reads, and writes carrying
    their own id), so the resend is always safe.
    """
    started = time.perf_counter()
    retried = False
    for attempt in (1, 2):
        try:
            response = await client.request(request.method, request.path, json=request.body)
        except STALE_CONNECTION:
            if attempt == 1:
                retried = True
                continue
            return Sample(time.perf_counter() - started, 0, "", "connection closed", retried)
        except httpx.TimeoutException:
            return Sample(time.perf_counter() - started, 0, "", "timeout", retried)
        except httpx.HTTPError as error:
            kind = f"connection: {type(error).__name__}"
            return Sample(time.perf_counter() - started, 0, "", kind, retried)
        break

    status = response.status_code
    served_by = response.headers.get("x-served-by", "")
    failure = None if _expected(request, status) else f"http {status}"
    if request.write is not None and failure is None:
        request.write.acknowledged = True
    return Sample(time.perf_counter() - started, status, served_by, failure, retried)
