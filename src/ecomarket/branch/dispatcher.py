"""Drains the outbox towards the central, in order, in the branch's delivery mode.

Each round takes the oldest pending rows, hands them to the mode's delivery,
and stores the verdicts in one transaction: confirmed rows become sent, rows
refused for good are set aside as rejected (so they never block the rows
behind them), and anything else stays pending for the next round. The pause
after a failed round is the mode's: fixed for most, exponential with jitter
behind the breaker for mode 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from datetime import UTC, datetime

from ecomarket.branch import outbox
from ecomarket.branch.db import Database
from ecomarket.branch.http_delivery import HttpDelivery
from ecomarket.branch.modes import DeliveryMode
from ecomarket.branch.outbox import OutboxRow
from ecomarket.branch.queue_delivery import RabbitDelivery, RedisDelivery
from ecomarket.branch.verdict import REJECTED, SENT, Verdict

logger = logging.getLogger(__name__)

BATCH = 200  # rows read per round; HTTP modes send at most their concurrency of them
IDLE_SECONDS = 1.0  # how long an empty outbox waits before looking again unprompted
RETRY_SECONDS = 1.0  # pause after a failed round, all modes but 3
BACKOFF_BASE = 0.1
BACKOFF_CAP = 5.0
MODE_SETTING = "delivery_mode"


class Dispatcher:
    """The outbox's one sender: a background task that owns the delivery mode."""

    def __init__(
        self,
        db: Database,
        branch_id: str,
        mode: DeliveryMode,
        http: HttpDelivery,
        queue: RedisDelivery,
        rabbit: RabbitDelivery,
    ) -> None:
        self.db = db
        self.branch_id = branch_id
        self.mode = mode
        self.http = http
        self.queue = queue
        self.rabbit = rabbit
        self.failures = 0  # failed rounds in a row
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self._nudge = asyncio.Event()
        self._mode_changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start draining in the background."""
        self._task = asyncio.create_task(self._run(), name=f"{self.branch_id}-dispatcher")

    async def stop(self) -> None:
        """Stop after the round in progress (a row confirmed but not yet marked goes again)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def nudge(self) -> None:
        """New rows were written: look now rather than at the next idle tick."""
        self._nudge.set()

    async def set_mode(self, mode: DeliveryMode) -> None:
        """Switch the delivery mode now and for every later start."""
        await self.db.run(lambda conn: outbox.put_setting(conn, MODE_SETTING, mode.value))
        if mode is not self.mode:
            logger.info("branch %s delivery mode %s -> %s", self.branch_id, self.mode, mode)
        self.mode = mode
        self.failures = 0
        self._nudge.set()
        self._mode_changed.set()

    async def _run(self) -> None:
        while True:
            try:
                pause = await self._round()
            except Exception:
                logger.exception("delivery round of %s failed", self.branch_id)
                pause = RETRY_SECONDS
            if pause > 0:
                # After a failure only a mode switch cuts the pause short: new sales
                # arriving must not turn the backoff into a tight loop.
                wake = self._mode_changed if self.failures else self._nudge
                self._nudge.clear()
                self._mode_changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), pause)

    async def _round(self) -> float:
        """One batch; the seconds to wait before the next one."""
        rows = await self.db.run(lambda conn: outbox.pending(conn, BATCH))
        if not rows:
            return IDLE_SECONDS

        mode = self.mode
        verdicts = await self._send(mode, rows)
        done = list(zip(rows, verdicts, strict=False))
        await self.db.run(lambda conn: self._record(conn, done, mode))

        if not verdicts:  # the breaker is open: nothing was tried
            return self._pause(mode)
        failure = next((v for v in verdicts if v.is_retry), None)
        if failure is None:
            self.failures = 0
            return 0.0
        self.failures += 1
        self.last_error = f"{mode.value}: {failure.reason}"
        self.last_error_at = datetime.now(UTC).isoformat(timespec="seconds")
        if self.failures == 1 or self.failures % 30 == 0:
            logger.warning("branch %s: delivery of %s pending rows failed (%s), %s in a row",
                           self.branch_id, len(rows), self.last_error, self.failures)  # fmt: skip
        return self._pause(mode)

    async def _send(self, mode: DeliveryMode, rows: list[OutboxRow]) -> list[Verdict]:
        if mode is DeliveryMode.HTTP_DIRECT:
            return await self.http.send_direct(rows)
        if mode is DeliveryMode.HTTP_RETRY:
            return await self.http.send_retry(rows)
        if mode is DeliveryMode.HTTP_BACKOFF:
            return await self.http.send_guarded(rows)
        if mode is DeliveryMode.REDIS_QUEUE:
            return await self.queue.send(rows)
        return await self.rabbit.send(rows, direct=mode is DeliveryMode.RABBIT_DIRECT)

    def _record(
        self, conn: sqlite3.Connection, done: list[tuple[OutboxRow, Verdict]], mode: DeliveryMode
    ) -> None:
        outbox.mark_sent(conn, [row.seq for row, v in done if v.state == SENT], mode.value)
        for row, verdict in done:
            if verdict.state == REJECTED:
                outbox.mark_rejected(conn, row.seq, verdict.reason)
                logger.warning("%s %s of branch %s set aside: %s",
                               row.kind, row.ref_id, self.branch_id, verdict.reason)  # fmt: skip
        first_retry = next(((r, v) for r, v in done if v.is_retry), None)
        if first_retry is not None:
            outbox.note_failure(conn, first_retry[0].seq, first_retry[1].reason)

    def _pause(self, mode: DeliveryMode) -> float:
        if mode is not DeliveryMode.HTTP_BACKOFF:
            return RETRY_SECONDS
        if not self.http.breaker.allows():
            return self.http.breaker.seconds_to_retry()
        # Full jitter: branches that failed together do not come back together.
        return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**self.failures))
