"""Redis calls made together share a round trip, and each still gets its own answer."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError, ResponseError

from ecomarket.central.pipelining import AutoPipeline
from ecomarket.servers import free_port

ECHO_KEY = "return {KEYS[1], ARGV[1]}"


async def _connections_received(client: aioredis.Redis) -> int:
    return int((await client.info("stats"))["total_connections_received"])


async def test_concurrent_calls_get_their_own_answers(redis_client: aioredis.Redis) -> None:
    await redis_client.mset({f"key:{n}": f"value {n}" for n in range(300)})
    pipeline = AutoPipeline(redis_client)

    answers = await asyncio.gather(*(pipeline.command("GET", f"key:{n}") for n in range(300)))

    assert answers == [f"value {n}".encode() for n in range(300)]


async def test_calls_made_together_share_connections(redis_url: str) -> None:
    counter = aioredis.Redis.from_url(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    pipeline = AutoPipeline(client, max_batch=16, max_in_flight=4)
    before = await _connections_received(counter)

    await asyncio.gather(*(pipeline.command("PING") for _ in range(320)))

    # One call per connection would open 320; four pipelines in flight open four.
    opened = await _connections_received(counter) - before
    assert 1 <= opened <= 4
    await client.aclose()
    await counter.aclose()


async def test_a_burst_larger_than_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, max_connections=2)
    pipeline = AutoPipeline(client, max_batch=8, max_in_flight=2)

    answers = await asyncio.gather(*(pipeline.command("ECHO", n) for n in range(2000)))

    assert answers == [str(n).encode() for n in range(2000)]
    await pipeline.aclose()
    await client.aclose()


async def test_one_failing_call_fails_alone(redis_client: aioredis.Redis) -> None:
    await redis_client.rpush("a-list", "x")
    await redis_client.set("a-string", "y")
    pipeline = AutoPipeline(redis_client)

    answers = await asyncio.gather(
        pipeline.command("GET", "a-string"),
        pipeline.command("GET", "a-list"),  # WRONGTYPE
        pipeline.command("GET", "a-string"),
        return_exceptions=True,
    )

    assert answers[0] == answers[2] == b"y"
    assert isinstance(answers[1], ResponseError)


async def test_script_lost_by_redis_is_loaded_again_once(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    script = redis_client.register_script(ECHO_KEY)
    pipeline = AutoPipeline(redis_client)
    assert await pipeline.script(script, ["k"], ["first"]) == [b"k", b"first"]

    await redis_client.script_flush()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ecomarket.central.pipelining"):
        answers = await asyncio.gather(
            *(pipeline.script(script, [f"k{n}"], [n]) for n in range(10))
        )

    assert answers == [[f"k{n}".encode(), str(n).encode()] for n in range(10)]
    assert [record.getMessage() for record in caplog.records] == [
        f"Lua script {script.sha} loaded into Redis"
    ]


async def test_cancelled_callers_leave_the_others_and_the_connection_intact(
    redis_client: aioredis.Redis,
) -> None:
    await redis_client.mset({f"key:{n}": n for n in range(20)})
    pipeline = AutoPipeline(redis_client)

    calls = [asyncio.ensure_future(pipeline.command("GET", f"key:{n}")) for n in range(20)]
    await asyncio.sleep(0)  # the batch is on its way
    for call in calls[::2]:
        call.cancel()
    answers = await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(answer, asyncio.CancelledError) for answer in answers[::2])
    assert answers[1::2] == [str(n).encode() for n in range(1, 20, 2)]
    assert await pipeline.command("GET", "key:7") == b"7"


async def test_unreachable_redis_fails_every_caller_at_once() -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    pipeline = AutoPipeline(client)

    async with asyncio.timeout(10):
        answers = await asyncio.gather(
            *(pipeline.command("PING") for _ in range(5)), return_exceptions=True
        )

    assert all(isinstance(answer, ConnectionError) for answer in answers)
    await client.aclose()


@pytest.mark.parametrize("calls", [1, 2])
async def test_a_lone_call_is_not_held_back(redis_client: aioredis.Redis, calls: int) -> None:
    pipeline = AutoPipeline(redis_client)

    async with asyncio.timeout(2):
        answers = await asyncio.gather(*(pipeline.command("PING") for _ in range(calls)))

    assert answers == [True] * calls
