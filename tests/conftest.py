"""Fixtures: private Redis and RabbitMQ servers, and real EcoMarket processes.

Every test talks to servers this session started on free ports, never to the
machine's own Redis or RabbitMQ, so the suite neither depends on them nor
touches their data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from ecomarket.servers import free_port, redis_program
from tests import branch_fixtures
from tests.broker_node import private_node
from tests.processes import (
    ADMIN_TOKEN,
    BRANCH_TOKENS,
    Running,
    central_env,
    start_central,
    start_program,
)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the processes started by tests write their output."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Running]:
    """A private redis-server for the whole session."""
    program = redis_program(tmp_path_factory.mktemp("redis"), free_port(), persist=False)
    running = start_program(program, log_dir)
    yield running
    running.stop()


@pytest.fixture
def redis_url(redis_server: Running) -> str:
    """A clean database on the private server (this session owns all of it)."""
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    redis.Redis.from_url(url).flushall()
    return url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """An asyncio Redis client on the clean database."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def rabbitmq_server(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Running]:
    """A private RabbitMQ node for the whole session (started on first use)."""
    with private_node(tmp_path_factory.mktemp("rabbitmq"), log_dir, "rabbitmq") as (_, nodes):
        yield nodes[-1]


@pytest.fixture(scope="session")
def amqp_url(rabbitmq_server: Running) -> str:
    """The URL of the private RabbitMQ node."""
    return f"amqp://guest:guest@127.0.0.1:{rabbitmq_server.port}/"


@pytest.fixture
def centrals(log_dir: Path, redis_url: str) -> Iterator[Callable[..., Running]]:
    """Start central instances as real processes; all are stopped after the test.

    Without a broker URL the instances run their HTTP API only.
    """
    started: list[Running] = []

    def start(instance: str = "central-1", amqp_url: str | None = None, **extra: str) -> Running:
        env = central_env(
            redis_url, amqp_url or "amqp://guest:guest@127.0.0.1:1/", instance, **extra
        )
        if amqp_url is None:
            env["ECOMARKET_CONSUMERS"] = "false"
        running = start_central(log_dir, env)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(autouse=True)
def _no_branch_outlives_its_test() -> Iterator[None]:
    """Stop every branch process a test started, whether or not the test stopped it."""
    yield
    while branch_fixtures.STARTED:
        branch_fixtures.STARTED.pop().stop()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """Headers of an admin request."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def branch_headers(branch_id: str) -> dict[str, str]:
    """Headers of a request made with a branch's own token."""
    return {"Authorization": f"Bearer {BRANCH_TOKENS[branch_id]}"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client for talking to the processes under test."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
