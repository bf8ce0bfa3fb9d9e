"""Branch delivery modes 5 and 6 through a private RabbitMQ node that is stopped and restarted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ecomarket.servers import Program, rabbitmqctl
from tests.branch_fixtures import (
    OPENING,
    PRODUCTS,
    Central,
    assert_applied_once,
    branch_stock,
    central_stats,
    outbox,
    sell,
    start_branch,
    stock_central,
    wait_until,
)
from tests.broker_node import halt, private_node
from tests.processes import Running, start_program

BRANCH = "branch-3"


@pytest.fixture(scope="module")
def broker(
    tmp_path_factory: pytest.TempPathFactory, log_dir: Path
) -> Iterator[tuple[Program, list[Running]]]:
    """A RabbitMQ node of this module's own, since its tests stop it."""
    with private_node(tmp_path_factory.mktemp("rabbit-branch"), log_dir, "rabbit-branch") as node:
        yield node


@pytest.mark.parametrize("mode", ["rabbit-direct", "rabbit-fanout"])
async def test_sales_survive_a_broker_outage(
    mode: str,
    broker: tuple[Program, list[Running]],
    http: httpx.AsyncClient,
    log_dir: Path,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """200 sales with the broker stopped for the second half: all applied once, stock equal."""
    program, running = broker
    amqp_url = f"amqp://guest:guest@127.0.0.1:{program.port}/"
    central = Central(log_dir, redis_url, amqp_url)
    central.start()
    try:
        await stock_central(http, central.url, BRANCH)
        branch = start_branch(log_dir, BRANCH, central.url, tmp_path, redis_url, amqp_url)
        response = await http.put(f"{branch.url}/api/v1/delivery-mode", json={"mode": mode})
        assert response.status_code == 200

        async def ready() -> bool:
            stock = await branch_stock(http, branch.url)
            readiness = await http.get(f"{central.url}/readyz")
            loaded = all(stock.get(p) == OPENING for p in PRODUCTS)
            return loaded and readiness.status_code == 200

        await wait_until(ready, 30, "opening stock at the branch and the central's bus up")
        sale_ids = await sell(http, branch.url, 100, seed=6)
        halt(running[-1], signal.SIGTERM)
        sale_ids += await sell(http, branch.url, 100, seed=7)
        assert (await outbox(http, branch.url))["pending"] > 0

        running.append(start_program(program, log_dir, timeout=90))

        async def applied() -> bool:
            stats = await central_stats(http, central.url)
            pending = (await outbox(http, branch.url))["pending"]
            return bool(pending == 0 and stats["sales_by_branch"].get(BRANCH) == 200)

        try:
            await wait_until(applied, 60, "all 200 sales applied after the broker came back")
        except AssertionError:
            queues = await asyncio.to_thread(
                subprocess.run,
                rabbitmqctl(program, "list_queues", "name", "messages", "consumers"),
                capture_output=True, text=True, env=program.full_env(), timeout=60,
            )  # fmt: skip
            raise AssertionError(queues.stdout + queues.stderr) from None
        await assert_applied_once(http, central.url, branch.url, BRANCH, sale_ids)
    finally:
        central.stop()
