"""One Redis round trip for the commands that concurrent requests issue together.

An instance under load has dozens of requests in flight, and each of them makes
one Redis call. Sent one by one, every call pays its own write, wake-up and read
on the socket, which on these machines costs more CPU than Redis spends on the
call. ``AutoPipeline`` collects the calls made during one turn of the event
loop and sends them as one pipeline (without MULTI): Redis still runs each
command, and each script, on its own and atomically; only the round trip is
shared. A lone call waits for no one, since the batch leaves at the end of the
same loop turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

# A call is the command's arguments; a script call also names its script, so that a
# Redis that lost its script cache (restarted, SCRIPT FLUSH) can be given it again.
_Call = tuple[tuple[Any, ...], AsyncScript | None, "asyncio.Future[Any]"]


class AutoPipeline:
    """Sends the Redis calls of one event-loop turn together, each answered on its own.

    At most ``max_in_flight`` pipelines of at most ``max_batch`` calls are on their
    way at once; calls made meanwhile wait and leave together with the next one. So
    batches grow when Redis is slow to answer, and a burst of thousands of calls
    never asks the connection pool for more connections than it has.
    """

    def __init__(self, client: redis.Redis, max_batch: int = 64, max_in_flight: int = 4) -> None:
        self.client = client
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._waiting: list[_Call] = []
        self._flush_due = False
        self._running: set[asyncio.Task[None]] = set()

    async def command(self, *args: Any) -> Any:
        """Run one Redis command (``"HGET", key, field``) and return its parsed reply."""
        return await self._queue(args, None)

    async def script(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run a registered Lua script by its SHA1, loading it again when Redis lost it."""
        return await self._queue(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    def _queue(self, args: tuple[Any, ...], script: AsyncScript | None) -> asyncio.Future[Any]:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((args, script, answer))
        self._flush_soon()
        return answer

    def _flush_soon(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        while self._waiting and len(self._running) < self.max_in_flight:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            # The send runs as its own task, so that a request cancelled while it
            # waits (its client went away) never cuts a pipeline in the middle and
            # leaves the connection with replies nobody reads.
            task = asyncio.create_task(self._send(batch))
            self._running.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._waiting:
            self._flush_soon()

    async def _send(self, batch: list[_Call], *, reloaded: bool = False) -> None:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for args, _script, _answer in batch:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for _args, _script, answer in batch:
                answer.cancel()
            raise
        except Exception as error:
            for _args, _script, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            return

        # A fresh, restarted or flushed Redis has no scripts: load each missing one
        # once, then send its calls again (a NOSCRIPT reply means nothing ran).
        missing: list[_Call] = []
        for call, reply in zip(batch, replies, strict=True):
            args, script, answer = call
            if script is not None and isinstance(reply, NoScriptError) and not reloaded:
                missing.append(call)
            elif answer.done():
                continue
            elif isinstance(reply, Exception):
                answer.set_exception(reply)
            else:
                answer.set_result(reply)
        if missing:
            await self._load_and_resend(missing)

    async def _load_and_resend(self, calls: list[_Call]) -> None:
        scripts = {script.sha: script for _args, script, _answer in calls if script is not None}
        try:
            for sha, script in scripts.items():
                await self.client.script_load(script.script)
                logger.info("Lua script %s loaded into Redis", sha)
        except Exception as error:
            for _args, _script, answer in calls:
                if not answer.done():
                    answer.set_exception(error)
            return
        await self._send(calls, reloaded=True)

    async def aclose(self) -> None:
        """Wait until every call made so far has been answered."""
        while self._running or self._waiting:
            await asyncio.gather(*self._running, asyncio.sleep(0), return_exceptions=True)
