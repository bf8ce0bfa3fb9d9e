"""One branch: till sales per second, and the outbox drain rate of each delivery mode.

    .venv/bin/python -m bench.bench_branch [--seconds 8] [--connections 16] [--rows 2000]
                                             [--till-only]

Starts a private redis-server, RabbitMQ node and central instance, and one
branch. Then:

- the till: ``POST /api/v1/sales`` at the branch (each sale committed to disk
  with synchronous=FULL before its answer) against ``GET /healthz`` on the same
  branch server, in the same run; printed as a ratio (target at least 0.3).
  The central is stopped meanwhile, so that the dispatcher does not compete
  with the till for the two cores.
- the drain: for each mode, ``--rows`` sales are rung up while the central is
  away, then the central comes back and the mode is switched on; the rate is
  rows confirmed by the other side (central, Redis or broker) per second, from
  the switch until the outbox is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.broker_node import private_node

from bench.httpload import LoadResult, get, post_json, run_load
from ecomarket.branch.modes import DeliveryMode
from ecomarket.servers import (
    Program,
    free_port,
    redis_program,
    wait_for_port,
)

ADMIN = "bench-admin-token"
BRANCH = "branch-1"
TOKEN = "bench-branch-secret"
PRODUCTS = range(1, 21)
TARGET = 0.3


@contextlib.contextmanager
def running(
    command: list[str], log: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a process until the block ends, once its port answers."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, 90)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def healthy(url: str) -> None:
    """Wait until ``url/healthz`` answers 200."""
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy")


def _sale(n: int) -> str:
    product = PRODUCTS[n % len(PRODUCTS)]
    return json.dumps({"lines": [{"product_id": product, "quantity": 1}], "paid": "5.00"})


def stock(central: str) -> None:
    """Products and a large opening stock for the branch, at the central."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=central, headers=headers) as client:
        for product_id in PRODUCTS:
            body = {"name": f"Product {product_id}", "price": "1.50"}
            client.put(f"/api/v1/products/{product_id}", json=body).raise_for_status()
            movement = {
                "movement_id": str(uuid.uuid4()),
                "branch_id": BRANCH,
                "product_id": product_id,
                "quantity": 100_000,
                "reason": "received",
            }
            client.post("/api/v1/stock-movements", json=movement).raise_for_status()


def pending(branch: str) -> int:
    """Rows the branch has not yet had confirmed."""
    return int(httpx.get(f"{branch}/api/v1/outbox", timeout=10).json()["pending"])


def ring_up(branch: str, rows: int) -> None:
    """``rows`` quick sales at the branch."""
    with httpx.Client(base_url=branch, timeout=30) as client:
        for _ in range(rows):
            product = random.choice(PRODUCTS)
            body = {"lines": [{"product_id": product, "quantity": 1}], "paid": "5.00"}
            client.post("/api/v1/sales", json=body).raise_for_status()


def main() -> None:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--till-only", action="store_true", help="skip the drain rates")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="eco-bench-branch-"))
    python = sys.executable

    redis_port, rabbit_port, central_port, branch_port = (free_port() for _ in range(4))
    redis: Program = redis_program(folder / "redis", redis_port, persist=False)
    urls = {
        "ECOMARKET_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ECOMARKET_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{rabbit_port}/",
    }
    central_env = {
        **urls,
        "ECOMARKET_ADMIN_TOKEN": ADMIN,
        "ECOMARKET_BRANCH_TOKENS": f"{BRANCH}:{TOKEN}",
    }
    central_url = f"http://127.0.0.1:{central_port}"
    branch_url = f"http://127.0.0.1:{branch_port}"
    central_cmd = [python, "-m", "ecomarket", "central", "--port", str(central_port)]
    branch_cmd = [
        python, "-m", "ecomarket", "branch", "--id", BRANCH, "--port", str(branch_port),
        "--central-url", central_url, "--data-dir", str(folder / "branch"),
    ]  # fmt: skip

    with (
        running(redis.command, folder / "redis.log", redis_port),
        # Its epmd runs in the foreground and stops with it, rather than as a daemon
        # that outlives the benchmark.
        private_node(folder / "rabbit", folder, "rabbit", rabbit_port),
    ):
        with running(central_cmd, folder / "central.log", central_port, central_env):
            healthy(central_url)
            stock(central_url)
            branch_ctx = running(
                branch_cmd, folder / "branch.log", branch_port,
                {**urls, "ECOMARKET_BRANCH_TOKEN": TOKEN},
            )  # fmt: skip
            branch_ctx.__enter__()
            healthy(branch_url)
            for _ in range(100):
                if len(httpx.get(f"{branch_url}/api/v1/products").json()) == len(PRODUCTS):
                    break
                time.sleep(0.1)
        try:
            # Central away: park the outbox in mode 1 (one failed try a second).
            httpx.put(f"{branch_url}/api/v1/delivery-mode", json={"mode": 1})
            ceiling, sales = asyncio.run(_till(branch_port, options))
            drains: dict[str, float] = {}
            for mode in [] if options.till_only else list(DeliveryMode):
                drains[mode.value] = _drain(
                    mode, branch_url, central_cmd, central_env, central_port, folder, options.rows
                )
        finally:
            branch_ctx.__exit__(None, None, None)

    ratio = sales.per_second / ceiling.per_second
    print(f"branch trivial endpoint (GET /healthz): {ceiling.per_second:8.0f} req/s")
    print(
        f"till sales (POST /api/v1/sales, durable): {sales.per_second:8.0f} req/s  "
        f"ratio {ratio:.2f} (target {TARGET})  {'ok' if ratio >= TARGET else 'BELOW TARGET'}  "
        f"errors {sales.errors}"
    )
    for number, (name, rate) in enumerate(drains.items(), start=1):
        print(f"outbox drain, mode {number} {name:14s}: {rate:8.0f} sales/s")


async def _till(port: int, options: argparse.Namespace) -> tuple[LoadResult, LoadResult]:
    trivial = get("/healthz")
    sales = post_json("/api/v1/sales", _sale, {})
    seconds, connections = options.seconds, options.connections
    await run_load(port, trivial, seconds=1.0, connections=connections)  # warm-up
    ceiling = await run_load(port, trivial, seconds=seconds, connections=connections)
    measured = await run_load(port, sales, seconds=seconds, connections=connections)
    return ceiling, measured


def _drain(
    mode: DeliveryMode,
    branch_url: str,
    central_cmd: list[str],
    central_env: dict[str, str],
    central_port: int,
    folder: Path,
    rows: int,
) -> float:
    """Rows per second confirmed in ``mode``, starting from ``rows`` parked rows or more."""
    httpx.put(f"{branch_url}/api/v1/delivery-mode", json={"mode": 1})
    ring_up(branch_url, rows)
    backlog = pending(branch_url)
    with running(central_cmd, folder / "central.log", central_port, central_env):
        healthy(f"http://127.0.0.1:{central_port}")
        started = time.perf_counter()
        httpx.put(f"{branch_url}/api/v1/delivery-mode", json={"mode": mode.value})
        while pending(branch_url) > 0:
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    return backlog / seconds


if __name__ == "__main__":
    main()
