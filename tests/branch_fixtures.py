"""Helpers for the branch tests: run branches and centrals as processes, stock them, compare."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from ecomarket.servers import free_port
from tests.processes import (
    ADMIN_TOKEN,
    BRANCH_TOKENS,
    Running,
    central_env,
    start_central,
    wait_healthy,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PRODUCTS = {201: "2.50", 202: "4.00", 203: "7.25", 204: "1.10"}
OPENING = 1_000
# Every branch process started, so that conftest stops any a test leaves running.
STARTED: list[Running] = []


def start_branch(
    log_dir: Path,
    branch_id: str,
    central_url: str,
    data_dir: Path,
    redis_url: str,
    amqp_url: str,
    port: int | None = None,
) -> Running:
    """Run ``ecomarket branch`` as a real process and wait until it answers."""
    port = port or free_port()
    log = log_dir / f"{branch_id}-{port}.log"
    env = {
        **os.environ,
        "ECOMARKET_BRANCH_TOKEN": BRANCH_TOKENS[branch_id],
        "ECOMARKET_REDIS_URL": redis_url,
        "ECOMARKET_AMQP_URL": amqp_url,
    }
    command = [
        sys.executable, "-m", "ecomarket", "branch", "--id", branch_id, "--port", str(port),
        "--central-url", central_url, "--data-dir", str(data_dir),
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Running(branch_id, process, port, log)
    STARTED.append(running)
    wait_healthy(running, 30)
    return running


class Central:
    """One central instance on a fixed port, which a test can kill and start again."""

    def __init__(self, log_dir: Path, redis_url: str, amqp_url: str | None = None) -> None:
        self.log_dir = log_dir
        self.port = free_port()
        extra = {} if amqp_url else {"ECOMARKET_CONSUMERS": "false"}
        self.env = central_env(
            redis_url, amqp_url or "amqp://guest:guest@127.0.0.1:1/", "central-1", **extra
        )
        self.running: Running | None = None

    @property
    def url(self) -> str:
        """Its HTTP address (the same across restarts)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Running:
        """Start it (again) on its port."""
        self.running = start_central(self.log_dir, self.env, port=self.port)
        return self.running

    def kill(self) -> None:
        """SIGKILL it."""
        if self.running is not None:
            self.running.kill()

    def stop(self) -> None:
        """Stop it if it runs."""
        if self.running is not None:
            self.running.stop()


async def stock_central(http: httpx.AsyncClient, url: str, branch_id: str) -> None:
    """Create the test products and give the branch its opening stock, at the central."""
    for product_id, price in PRODUCTS.items():
        body = {"name": f"product {product_id}", "price": price}
        response = await http.put(f"{url}/api/v1/products/{product_id}", json=body, headers=ADMIN)
        assert response.status_code in (200, 201), response.text
        await move_stock(http, url, branch_id, product_id, OPENING)


async def move_stock(
    http: httpx.AsyncClient, url: str, branch_id: str, product_id: int, quantity: int
) -> None:
    """Make a stock movement at the central."""
    movement = {
        "movement_id": str(uuid.uuid4()),
        "branch_id": branch_id,
        "product_id": product_id,
        "quantity": quantity,
        "reason": "received" if quantity > 0 else "shrinkage",
    }
    response = await http.post(f"{url}/api/v1/stock-movements", json=movement, headers=ADMIN)
    assert response.status_code == 201, response.text


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.2
) -> None:
    """Poll ``check`` until it is true; AssertionError naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(every)
    raise AssertionError(f"not reached within {within} s: {what}")


async def branch_stock(http: httpx.AsyncClient, url: str) -> dict[int, int]:
    """The branch's own stock by product."""
    response = await http.get(f"{url}/api/v1/products")
    response.raise_for_status()
    return {p["id"]: p["stock"] for p in response.json()}


async def central_stock(http: httpx.AsyncClient, url: str, branch_id: str) -> dict[int, int]:
    """The central's stock of the test products at one branch."""
    stock = {}
    for product_id in PRODUCTS:
        response = await http.get(f"{url}/api/v1/products/{product_id}")
        response.raise_for_status()
        stock[product_id] = response.json()["stock"]["branches"].get(branch_id, 0)
    return stock


async def central_stats(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The central's chain-wide figures (raises httpx.HTTPStatusError while it is unwell)."""
    response = await http.get(f"{url}/api/v1/stats")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def outbox(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The branch's outbox status."""
    response = await http.get(f"{url}/api/v1/outbox")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def sell(
    http: httpx.AsyncClient,
    url: str,
    how_many: int,
    seed: int = 0,
    products: list[int] | None = None,
) -> list[str]:
    """Ring up ``how_many`` small sales of ``products`` (default: all) at a branch; their ids."""
    rng = random.Random(seed)
    sale_ids = []
    for _ in range(how_many):
        chosen = rng.sample(products or sorted(PRODUCTS), rng.randint(1, 2))
        lines = [{"product_id": p, "quantity": rng.randint(1, 3)} for p in chosen]
        response = await http.post(f"{url}/api/v1/sales", json={"lines": lines, "paid": "100.00"})
        assert response.status_code == 201, response.text
        sale_ids.append(response.json()["sale_id"])
    return sale_ids


async def assert_applied_once(
    http: httpx.AsyncClient, central_url: str, branch_url: str, branch_id: str, sale_ids: list[str]
) -> None:
    """Every sale is in the central's ledger, counted once, and stock agrees on both sides."""
    stats = await central_stats(http, central_url)
    assert stats["sales_by_branch"].get(branch_id, 0) == len(sale_ids), stats
    for sale_id in sale_ids:
        response = await http.get(f"{central_url}/api/v1/sales/{sale_id}")
        assert response.status_code == 200, sale_id
    at_branch = await branch_stock(http, branch_url)
    at_central = await central_stock(http, central_url, branch_id)
    assert {p: at_branch[p] for p in PRODUCTS} == at_central
