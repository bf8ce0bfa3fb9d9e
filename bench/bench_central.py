"""One central instance against a trivial FastAPI endpoint on the same uvicorn settings.

Run with ``python -m bench.bench_central``. Prints sales applied per second through
``POST /api/v1/sales``, reads per second of ``GET /api/v1/products`` (50 products),
each as a ratio of the ceiling, and the instance's peak resident memory. The same
loads against a second instance with ``ECOMARKET_FAST_PATH=false`` are printed too,
as the baseline of what the central's fast path gains.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.httpload import LoadResult, get, post_json, run_load
from bench.processes import peak_rss_mb, private_redis, python_command, started
from ecomarket.servers import free_port

ADMIN = "bench-admin-token"
PRODUCTS = range(1, 51)
TARGETS = {"sales": 0.5, "product reads": 0.7}
MEMORY_LIMIT_MB = 100


def _sale_body(n: int) -> str:
    # Fresh ids, and lines spread over the catalogue so that stock keys vary.
    product = PRODUCTS[n % len(PRODUCTS)]
    return json.dumps(
        {
            "sale_id": str(uuid.uuid4()),
            "branch_id": f"branch-{n % 4 + 1}",
            "sold_at": "2026-12-03T10:00:00+00:00",
            "lines": [{"product_id": product, "quantity": 1, "unit_price": "2.50"}],
        }
    )


def _seed(url: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers) as client:
        for pid in PRODUCTS:
            client.put(f"/api/v1/products/{pid}", json={"name": f"Product {pid}", "price": "2.50"})
            for branch in ("branch-1", "branch-2", "branch-3", "branch-4"):
                client.post(
                    "/api/v1/stock-movements",
                    json={
                        "movement_id": str(uuid.uuid4()),
                        "branch_id": branch,
                        "product_id": pid,
                        "quantity": 1000,
                        "reason": "received",
                    },
                )


async def _measure(port: int, factory_name: str, seconds: float, connections: int) -> LoadResult:
    factories = {
        "ceiling": get("/healthz"),
        "sales": post_json("/api/v1/sales", _sale_body, {"Authorization": f"Bearer {ADMIN}"}),
        "product reads": get("/api/v1/products?limit=50"),
    }
    factory = factories[factory_name]
    await run_load(port, factory, seconds=1.0, connections=connections)  # warm-up
    return await run_load(port, factory, seconds=seconds, connections=connections)


def main() -> None:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="eco-bench-logs-"))

    # Both servers stay up and are measured in alternating rounds, the best round of
    # each counting: this machine's speed drifts by tens of percent within minutes,
    # and alternation makes the drift fall on both sides alike.
    results: dict[str, LoadResult] = {}
    ceiling_port = free_port()
    ceiling = python_command(
        "-m", "ecomarket.cluster.trivial", "--port", str(ceiling_port), "--name", "ceiling"
    )
    port, full_port = free_port(), free_port()
    with (
        started(ceiling, {}, ceiling_port, logs / "ceiling.log"),
        private_redis() as redis_url,
    ):
        env = {
            "ECOMARKET_REDIS_URL": redis_url,
            "ECOMARKET_ADMIN_TOKEN": ADMIN,
            "ECOMARKET_CONSUMERS": "false",
        }
        # The same instance with its fast path off, measured in the same rounds, shows
        # what the fast path is worth on this machine today.
        full_env = {**env, "ECOMARKET_FAST_PATH": "false", "ECOMARKET_INSTANCE": "central-2"}
        with (
            started(_central(port), env, port, logs / "central.log") as pid,
            started(_central(full_port), full_env, full_port, logs / "central-2.log"),
        ):
            _seed(f"http://127.0.0.1:{port}")
            # (label, load, port): each target on both instances, and the ceiling.
            runs = [
                ("ceiling", "ceiling", ceiling_port),
                *((name, name, port) for name in TARGETS),
                *((_baseline(name), name, full_port) for name in TARGETS),
            ]
            for _ in range(options.rounds):
                for label, load, target_port in runs:
                    result = asyncio.run(
                        _measure(target_port, load, options.seconds, options.connections)
                    )
                    if label not in results or result.per_second > results[label].per_second:
                        results[label] = result
            memory = peak_rss_mb(pid)

    top = results["ceiling"].per_second
    print(f"ceiling (trivial FastAPI /healthz): {top:8.0f} req/s")
    for name, target in TARGETS.items():
        for label in (name, _baseline(name)):
            result = results[label]
            ratio = result.per_second / top
            verdict = "baseline" if label != name else "ok" if ratio >= target else "BELOW TARGET"
            print(
                f"{label:29s}: {result.per_second:8.0f} req/s  ratio {ratio:.2f} "
                f"(target {target})  {verdict}  errors {result.errors}"
            )
    verdict = "ok" if memory < MEMORY_LIMIT_MB else "ABOVE TARGET"
    print(
        f"peak memory                  : {memory:8.1f} MB (target < {MEMORY_LIMIT_MB})  {verdict}"
    )


def _baseline(name: str) -> str:
    return f"{name} (no fast path)"


def _central(port: int) -> list[str]:
    return python_command("-m", "ecomarket", "central", "--port", str(port))


if __name__ == "__main__":
    main()
