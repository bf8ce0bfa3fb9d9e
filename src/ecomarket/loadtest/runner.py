"""The load test run: workers sending requests for a while, a drill, then the checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ecomarket.loadtest.client import make_clients, send
from ecomarket.loadtest.report import Tally, build_report
from ecomarket.loadtest.verify import catalogue, request_json, verify
from ecomarket.loadtest.workload import Product, StockKey, Workload

LOAD_TEST_BRANCH = "loadtest"
# Stock each product of the branches written for starts the run with, at least, so that
# the dashboard does not flag the whole catalogue below zero a few seconds in.
OPENING_STOCK = 100

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadPlan:
    """What to run: where, how long, how hard, which mix, and the optional drill."""

    url: str
    duration: float = 20.0
    concurrency: int = 32
    mix: str = "mixed"
    admin_token: str = ""
    branch_tokens: dict[str, str] | None = None  # branch id -> token
    kill: Callable[[], None] | None = None
    kill_name: str = ""
    kill_at: float = 0.0
    verify: bool = True


def _auth(plan: LoadPlan) -> tuple[dict[str, str], list[str], bool]:
    """Headers, branches to write for, and whether movements (admin only) can be sent."""
    if plan.admin_token:
        # The admin writes for a branch of its own, so that no shop's books change: a
        # shop's count at the central stays equal to the shop's own count.
        return {"Authorization": f"Bearer {plan.admin_token}"}, [LOAD_TEST_BRANCH], True
    if plan.branch_tokens:
        # With one branch's token only, the load test writes for that branch.
        branch, token = sorted(plan.branch_tokens.items())[0]
        return {"Authorization": f"Bearer {token}"}, [branch], False
    return {}, [], False


async def run(plan: LoadPlan, progress_console: Console | None = None) -> dict[str, Any]:
    """Run the load and the checks; returns the report object."""
    headers, branches, movements = _auth(plan)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client)
            for client in make_clients(plan.url, plan.concurrency, headers)
        ]
        products, before = await catalogue(clients[0])
        if movements and await stock_up(clients[0], products, before, branches):
            products, before = await catalogue(clients[0])
        workload = Workload(plan.mix, products, branches, movements=movements)
        tally = Tally()
        killed: dict[str, Any] | None = None
        started = time.monotonic()
        deadline = started + plan.duration

        async def worker(client: httpx.AsyncClient) -> None:
            while time.monotonic() < deadline:
                tally.add(await send(client, workload.next()))

        async def drill() -> None:
            nonlocal killed
            if plan.kill is None:
                return
            await asyncio.sleep(plan.kill_at)
            await asyncio.to_thread(plan.kill)
            killed = {"name": plan.kill_name, "at_s": round(time.monotonic() - started, 2)}
            logger.info("killed %s at %.1f s", plan.kill_name, time.monotonic() - started)

        tasks = [asyncio.create_task(worker(client)) for client in clients]
        tasks.append(asyncio.create_task(drill()))
        await _show_progress(plan, tally, started, tasks, progress_console)
        elapsed = time.monotonic() - started

        verification = await verify(clients, workload.writes, before) if plan.verify else {}

    acknowledged = Counter(w.kind for w in workload.writes if w.acknowledged)
    return build_report(
        tally,
        elapsed,
        url=plan.url,
        mix=plan.mix,
        concurrency=plan.concurrency,
        writes=dict(acknowledged),
        verification=verification,
        killed=killed,
    )


async def stock_up(
    client: httpx.AsyncClient,
    products: list[Product],
    stock: dict[StockKey, int],
    branches: list[str],
) -> int:
    """Deliver to each branch what it lacks of ``OPENING_STOCK``; the deliveries made.

    A delivery carries its own movement id, so sending it again after a lost answer
    (``request_json`` retries) is harmless.
    """
    made = 0
    for branch in branches:
        for product in products:
            lacking = OPENING_STOCK - stock.get((branch, product.product_id), 0)
            if lacking <= 0:
                continue
            body = {
                "movement_id": str(uuid.uuid4()),
                "branch_id": branch,
                "product_id": product.product_id,
                "quantity": lacking,
                "reason": "received",
            }
            status, _ = await request_json(client, "/api/v1/stock-movements", post=body)
            if status not in (200, 201):
                raise RuntimeError(f"opening stock refused: HTTP {status}")
            made += 1
    return made


async def _show_progress(
    plan: LoadPlan,
    tally: Tally,
    started: float,
    tasks: list[asyncio.Task[None]],
    console: Console | None,
) -> None:
    progress = Progress(
        TextColumn("load"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[figures]}"),
        console=console or Console(stderr=True),
        transient=True,
        disable=console is None,
    )
    with progress:
        bar = progress.add_task("load", total=plan.duration, figures="")
        waiting = asyncio.gather(*tasks)
        while not waiting.done():
            await asyncio.wait([waiting], timeout=0.5)
            elapsed = time.monotonic() - started
            figures = (
                f"{tally.requests} requests, {tally.requests / max(elapsed, 1e-3):.0f}/s, "
                f"{sum(tally.failures.values())} failed"
            )
            progress.update(bar, completed=min(elapsed, plan.duration), figures=figures)
        await waiting
