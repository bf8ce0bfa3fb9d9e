"""Delivery modes 1 to 3: POST each outbox row to the central's HTTP API.

201 and 200 both confirm (200 is the central's answer to a sale it already
has). A 4xx that retrying cannot mend sets the row aside; 408, 429, 5xx and
connection errors leave it pending for a later attempt. 401 is also retried:
it means the branch's token is wrong on one side, which an operator mends
without the sale being at fault.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from ecomarket.branch.breaker import Breaker, BreakerState
from ecomarket.branch.outbox import OutboxRow
from ecomarket.branch.till import SALE
from ecomarket.branch.verdict import Verdict
from ecomarket.http_clients import ClientPool, single_connection_clients

logger = logging.getLogger(__name__)

PATHS = {SALE: "/api/v1/sales", "customer": "/api/v1/customers"}
RETRYABLE = {401, 408, 429}
QUICK_RETRIES = (0.05, 0.1, 0.2)  # pauses of mode 2 between attempts at one row
CONCURRENCY = 32  # rows of one batch in flight at once


class HttpDelivery:
    """Sends rows to the central over ``CONCURRENCY`` keep-alive connections."""

    def __init__(self, central_url: str, token: str, branch_id: str) -> None:
        self.branch_id = branch_id
        self.breaker = Breaker(f"{branch_id}->central")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        timeout = httpx.Timeout(5.0, connect=2.0)
        self._clients = ClientPool(
            single_connection_clients(central_url.rstrip("/"), CONCURRENCY, headers, timeout)
        )

    async def close(self) -> None:
        """Close the HTTP clients."""
        await self._clients.aclose()

    async def post(self, row: OutboxRow) -> Verdict:
        """One attempt at one row."""
        try:
            async with self._clients.lend() as client:
                response = await client.post(PATHS[row.kind], content=row.body)
        except httpx.HTTPError as exc:
            return Verdict.retry(f"{type(exc).__name__}: {exc}".strip(": "))
        if response.status_code in (200, 201):
            return Verdict.sent()
        reason = f"HTTP {response.status_code}: {response.text[:300]}"
        if response.status_code in RETRYABLE or response.status_code >= 500:
            return Verdict.retry(reason)
        logger.warning("%s %s of %s refused by the central: %s",
                       row.kind, row.ref_id, self.branch_id, reason)  # fmt: skip
        return Verdict.rejected(reason)

    async def post_with_retries(self, row: OutboxRow) -> Verdict:
        """Mode 2: a few quick attempts at one row before giving up for this round."""
        verdict = await self.post(row)
        for pause in QUICK_RETRIES:
            if not verdict.is_retry:
                break
            await asyncio.sleep(pause)
            verdict = await self.post(row)
        return verdict

    async def send_direct(self, rows: list[OutboxRow]) -> list[Verdict]:
        """Mode 1: one attempt at each row."""
        return list(await asyncio.gather(*(self.post(row) for row in rows[:CONCURRENCY])))

    async def send_retry(self, rows: list[OutboxRow]) -> list[Verdict]:
        """Mode 2: each row with a few quick retries."""
        batch = rows[:CONCURRENCY]
        return list(await asyncio.gather(*(self.post_with_retries(row) for row in batch)))

    async def send_guarded(self, rows: list[OutboxRow]) -> list[Verdict]:
        """Mode 3: behind the breaker; a half-open breaker tries a single row."""
        if not self.breaker.allows():
            return []
        trial = self.breaker.state is BreakerState.HALF_OPEN
        verdicts = await self.send_direct(rows[:1] if trial else rows)
        if any(v.is_retry for v in verdicts):
            self.breaker.failure()
        else:
            self.breaker.success()
        return verdicts
