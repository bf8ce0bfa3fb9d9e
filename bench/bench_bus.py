"""Sales applied per second through ``ecomarket.sales``, against a ceiling from the same run.

    .venv/bin/python -m bench.bench_bus [--sales 20000] [--rounds 2]

Starts a private redis-server and RabbitMQ node on free ports, then measures, from
the first publish to the last sale applied:

- the ceiling: a bare aio-pika loop that publishes the same messages (confirmed,
  persistent, to a quorum queue) and consumes them one at a time, one Redis write
  and one acknowledgement per message;
- ``ecomarket central`` with one instance, then with two, consuming ``central.sales``.

Prints each rate and its ratio to the ceiling (target: at least 1.0 with one
instance; two no slower than one). On a machine of two cores the publisher shares
them with the broker, Redis and the instances, and bounds that measure; so the same
sales are also measured as a backlog published while no instance runs, drained by
one and by two instances, from the first sale applied to the last: the consumers
alone. Each layout runs ``--rounds`` times, in alternating order, and its best run
counts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aio_pika
import httpx
import redis.asyncio as aioredis
from tests.broker_node import private_node
from tests.bus_fixtures import new_sale, stock_product

from ecomarket import names
from ecomarket.bus.connection import connect
from ecomarket.bus.publisher import Publisher
from ecomarket.bus.sales import sales_queue
from ecomarket.config import Settings
from ecomarket.servers import free_port, redis_program, wait_for_port

WINDOW = 2000


def start(
    command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a process with its output in ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


async def publish(publisher: Publisher, bodies: list[tuple[str, bytes]]) -> None:
    """Publish every sale to ecomarket.sales, ``WINDOW`` confirms in flight."""
    for first in range(0, len(bodies), WINDOW):
        await asyncio.gather(*(
            publisher.publish(names.SALES_EXCHANGE, body, message_id=sale_id)
            for sale_id, body in bodies[first : first + WINDOW]
        ))  # fmt: skip


async def all_applied(client: aioredis.Redis, count: int, within: float = 600) -> None:
    """Wait until ``count`` sales are applied (polling the counter every 20 ms)."""
    for _ in range(int(within / 0.02)):
        if int(await client.hget(names.COUNTERS, names.COUNTER_SALES) or 0) >= count:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{count} sales not applied after {within} s")


async def ceiling(amqp_url: str, redis_url: str, bodies: list[tuple[str, bytes]]) -> float:
    """Messages per second of the bare loop: one Redis write and one ack per message."""
    connection = await connect(amqp_url, "bench-ceiling")
    client = aioredis.Redis.from_url(redis_url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=1)
    exchange = await channel.declare_exchange("bench.ceiling", "fanout", durable=True)
    queue = await channel.declare_queue(
        "bench.ceiling", durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(exchange)
    publisher = await Publisher.open(connection)
    publisher.exchanges[names.SALES_EXCHANGE] = exchange  # same messages, the bare queue
    done = asyncio.Event()
    seen = 0

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal seen
        await client.set(f"bench:{message.message_id}", message.body)
        await message.ack()
        seen += 1
        if seen == len(bodies):
            done.set()

    began = time.monotonic()
    consumer_tag = await queue.consume(on_message)
    await publish(publisher, bodies)
    await done.wait()
    elapsed = time.monotonic() - began
    await queue.cancel(consumer_tag)
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    await client.aclose()
    return len(bodies) / elapsed


async def with_instances(
    count: int, amqp_url: str, redis_url: str, bodies: list[tuple[str, bytes]], logs: Path
) -> float:
    """Sales applied per second with ``count`` central instances, from the first publish."""
    client = await _fresh_store(redis_url)
    processes = await _start_instances(count, amqp_url, redis_url, logs, wait_ready=True)
    connection = await connect(amqp_url, "bench-publisher")
    publisher = await Publisher.open(connection)
    began = time.monotonic()
    await publish(publisher, bodies)
    published = time.monotonic() - began
    await all_applied(client, len(bodies))
    elapsed = time.monotonic() - began
    print(f"  {count} instance(s): published in {published:.1f} s, applied in {elapsed:.1f} s")
    await connection.close()
    await client.aclose()
    _stop(processes)
    return len(bodies) / elapsed


async def drain(
    count: int, amqp_url: str, redis_url: str, bodies: list[tuple[str, bytes]], logs: Path
) -> float:
    """Sales applied per second by ``count`` instances started on a backlog of ``bodies``.

    Every sale is published while no instance runs (the outage of DESIGN's promises);
    the clock runs from the first sale applied to the last, so it measures the
    consumers alone, with no publisher on the same cores.
    """
    client = await _fresh_store(redis_url)
    connection = await connect(amqp_url, "bench-publisher")
    async with connection.channel() as channel:
        # The queue must exist before any instance does, or the backlog would go nowhere.
        await sales_queue(Settings()).declare(channel)
    publisher = await Publisher.open(connection)
    await publish(publisher, bodies)
    await connection.close()

    processes = await _start_instances(count, amqp_url, redis_url, logs, wait_ready=False)
    await all_applied(client, 1)
    began = time.monotonic()
    await all_applied(client, len(bodies))
    elapsed = time.monotonic() - began
    print(f"  {count} instance(s): backlog of {len(bodies)} applied in {elapsed:.1f} s")
    await client.aclose()
    _stop(processes)
    return len(bodies) / elapsed


async def _fresh_store(redis_url: str) -> aioredis.Redis:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushall()
    await stock_product(client)
    return client


async def _start_instances(
    count: int, amqp_url: str, redis_url: str, logs: Path, *, wait_ready: bool
) -> list[subprocess.Popen[bytes]]:
    processes, ports = [], []
    for i in range(1, count + 1):
        ports.append(free_port())
        env = {
            "ECOMARKET_REDIS_URL": redis_url,
            "ECOMARKET_AMQP_URL": amqp_url,
            "ECOMARKET_INSTANCE": f"central-{i}",
            "ECOMARKET_ADMIN_TOKEN": "bench",
        }
        command = [sys.executable, "-m", "ecomarket", "central", "--port", str(ports[-1])]
        processes.append(start(command, env, logs / f"central-{count}-{i}.log"))
    if wait_ready:
        async with httpx.AsyncClient() as http:
            for port in ports:
                await _ready(http, f"http://127.0.0.1:{port}/readyz")
    return processes


async def _ready(http: httpx.AsyncClient, url: str) -> None:
    for _ in range(300):
        try:
            if (await http.get(url)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
        process.wait(30)


# stream: publish while the instances consume, the clock from the first publish (the
# issue's measure, bound by the publisher on a two-core machine); backlog: the same
# sales waiting in the queue when the instances start (the consumers alone).
LAYOUTS = {"stream": with_instances, "backlog": drain}


def main() -> None:
    """Command line: --sales, --rounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each layout")
    options = parser.parse_args()
    asyncio.run(run(options.sales, options.rounds))


async def run(sales: int, rounds: int) -> None:
    """Run the ceiling once and each layout ``rounds`` times; print the best of each."""
    folder = Path(tempfile.mkdtemp(prefix="bench-bus-"))
    redis_server = redis_program(folder / "redis", free_port(), persist=False)
    # The node's epmd runs in the foreground and stops with it, rather than as a
    # daemon that outlives the benchmark.
    with private_node(folder / "rabbitmq", folder, "rabbitmq") as (rabbit, _):
        server = start(
            redis_server.command, redis_server.env, folder / "redis.log", redis_server.cwd
        )
        try:
            wait_for_port(redis_server.port)
            amqp_url = f"amqp://guest:guest@127.0.0.1:{rabbit.port}/"
            redis_url = f"redis://127.0.0.1:{redis_server.port}/0"

            def batch() -> list[tuple[str, bytes]]:
                made = [new_sale() for _ in range(sales)]
                return [(str(s.sale_id), s.model_dump_json().encode()) for s in made]

            bare = await ceiling(amqp_url, redis_url, batch())
            # The machine is shared and the publisher runs on it too: each layout runs in
            # every round, in alternating order, and its best round counts, so that neither
            # always goes first on a cold broker nor always pays for the other's leftovers.
            best = {(layout, count): 0.0 for layout in LAYOUTS for count in (1, 2)}
            for round_number in range(rounds):
                order = (1, 2) if round_number % 2 == 0 else (2, 1)
                for layout, measure in LAYOUTS.items():
                    for count in order:
                        rate = await measure(count, amqp_url, redis_url, batch(), folder)
                        best[layout, count] = max(best[layout, count], rate)
        finally:
            server.terminate()
            server.wait(60)
    print(f"sales: {sales} through {names.SALES_EXCHANGE} (logs in {folder})")
    print(f"ceiling (bare loop, one at a time): {bare:8.0f} /s")
    one, two = best["stream", 1], best["stream", 2]
    print(
        f"1 instance:                         {one:8.0f} /s  ratio {one / bare:.2f}"
        f"  (target 1.0)  {_verdict(one / bare >= 1.0)}"
    )
    print(f"2 instances:                        {two:8.0f} /s  ratio {two / bare:.2f}")
    print(
        f"2 instances / 1 instance:           {two / one:8.2f}"
        f"  (target 1.0)  {_verdict(two / one >= 1.0)}"
    )
    one, two = best["backlog", 1], best["backlog", 2]
    print(f"backlog, 1 instance:                {one:8.0f} /s  ratio {one / bare:.2f}")
    print(f"backlog, 2 instances:               {two:8.0f} /s  ratio {two / bare:.2f}")
    print(
        f"backlog, 2 instances / 1 instance:  {two / one:8.2f}"
        f"  (target 1.0)  {_verdict(two / one >= 1.0)}"
    )


def _verdict(met: bool) -> str:
    return "ok" if met else "BELOW TARGET"


if __name__ == "__main__":
    main()
