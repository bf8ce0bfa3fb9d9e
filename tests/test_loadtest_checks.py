"""The load test's own checks: they pass on an honest central and catch what went missing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

from ecomarket.central.store import CentralStore
from ecomarket.loadtest.client import make_clients
from ecomarket.loadtest.runner import LOAD_TEST_BRANCH, LoadPlan, run
from ecomarket.loadtest.verify import catalogue, verify
from ecomarket.loadtest.workload import Product, Workload, Write
from ecomarket.schemas import MovementIn, MovementReason
from ecomarket.seed import seed
from tests.processes import ADMIN_TOKEN, BRANCH_TOKENS, Running


async def test_a_clean_run_reports_writes_and_shares_and_no_failure(
    centrals: Callable[..., Running], redis_client: aioredis.Redis
) -> None:
    await seed(CentralStore(redis_client, "test"), ["branch-1", "branch-2"])
    central = centrals("central-1")
    async with make_clients(central.url, 1, {})[0] as client:
        _, shops_before = await catalogue(client)
    plan = LoadPlan(
        url=central.url,
        duration=2,
        concurrency=4,
        mix="mixed",
        admin_token=ADMIN_TOKEN,
        branch_tokens=BRANCH_TOKENS,
    )

    report = await run(plan)

    assert report["failed"] == 0, report
    assert report["requests"] > 20
    assert report["share_per_instance"] == {"central-1": 1.0}
    assert report["writes_acknowledged"]["sale"] > 0
    assert report["verification"]["stock_cells_checked"] > 0
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]

    # With the admin token it writes as a branch of its own, opened with stock: the
    # shops' books are as they were.
    async with make_clients(central.url, 1, {})[0] as client:
        _, stock = await catalogue(client)
    assert {k: v for k, v in stock.items() if k[0] != LOAD_TEST_BRANCH} == shops_before
    assert {k[0] for k in stock} == {"branch-1", "branch-2", LOAD_TEST_BRANCH}
    assert report["writes_acknowledged"]["movement"] > 0


async def test_a_missing_write_and_a_stock_change_behind_its_back_are_failures(
    centrals: Callable[..., Running], redis_client: aioredis.Redis
) -> None:
    store = CentralStore(redis_client, "test")
    await seed(store, ["branch-1"])
    central = centrals("central-1")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    [client] = make_clients(central.url, 1, headers)
    async with client:
        _, before = await catalogue(client)
        # A sale the client was told about, that the ledger does not have.
        lost = Write("sale", str(uuid.uuid4()), "branch-1", {("branch-1", 101): -1}, True)
        # A movement nobody in the load test made.
        await store.apply_movement(
            MovementIn(
                movement_id=uuid.uuid4(),
                branch_id="branch-1",
                product_id=102,
                quantity=3,
                reason=MovementReason.RECEIVED,
            )
        )

        result = await verify([client], [lost], before)

    assert result["failures"] == {
        "acknowledged write missing from the ledger": 1,
        "stock differs from the writes applied": 1,
    }
    assert result["acknowledged_missing"] == [f"sale {lost.record_id}"]
    assert result["stock_differences"] == ["branch-1 product 102: expected 20, central has 23"]


def test_every_write_carries_a_fresh_id_of_its_kind() -> None:
    workload = Workload("write", [Product(101, "3.50")], ["branch-1"], movements=True, seed=1)
    requests = [workload.next() for _ in range(50)]

    for request in requests:
        assert request.write is not None and request.body is not None
        assert request.body[f"{request.write.kind}_id"] == request.write.record_id
    assert {r.write.kind for r in requests if r.write} == {"sale", "movement", "customer"}
    assert len({r.write.record_id for r in requests if r.write}) == 50
