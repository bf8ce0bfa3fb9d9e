"""Exactly-once application of sales and movements, across concurrent instances."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecomarket.central.store import CentralStore
from ecomarket.schemas import MovementIn, MovementReason, ProductIn, SaleIn, SaleLine
from tests.central_helpers import movement, sale
from tests.processes import Running

PRODUCTS = (101, 102, 103)
BRANCHES = ("branch-1", "branch-2")


async def _stock(http: httpx.AsyncClient, url: str) -> dict[int, dict[str, object]]:
    return {
        pid: (await http.get(f"{url}/api/v1/products/{pid}")).json()["stock"] for pid in PRODUCTS
    }


async def test_two_instances_apply_each_of_300_sales_once(
    centrals: Callable[..., Running], http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    one, two = centrals("central-1"), centrals("central-2")
    expected: Counter[tuple[str, int]] = Counter()
    for pid in PRODUCTS:
        put = await http.put(
            f"{one.url}/api/v1/products/{pid}", json={"name": f"p{pid}", "price": "2.50"},
            headers=admin_headers,
        )  # fmt: skip
        assert put.status_code == 201
        for branch in BRANCHES:
            body = movement(pid, 100, branch)
            assert (
                await http.post(
                    f"{two.url}/api/v1/stock-movements", json=body, headers=admin_headers
                )
            ).status_code == 201
            expected[(branch, pid)] += 100

    rng = random.Random(7)
    sales = []
    for n in range(300):
        lines = [
            (pid, rng.randint(1, 3), "2.50") for pid in rng.sample(PRODUCTS, rng.randint(1, 3))
        ]
        sales.append(sale(BRANCHES[n % 2], lines))
        for pid, qty, _ in lines:
            expected[(BRANCHES[n % 2], pid)] -= qty

    # Each sale is posted twice, once to each instance, all at the same time.
    posts = [(s, url) for s in sales for url in (one.url, two.url)]
    rng.shuffle(posts)
    limit = asyncio.Semaphore(32)

    async def post(body: dict[str, object], url: str) -> int:
        async with limit:
            answer = await http.post(f"{url}/api/v1/sales", json=body, headers=admin_headers)
            return answer.status_code

    codes = Counter(await asyncio.gather(*(post(body, url) for body, url in posts)))
    assert codes == {201: 300, 200: 300}

    stats = (await http.get(f"{two.url}/api/v1/stats")).json()
    assert stats["sales"] == 300
    assert stats["duplicates_suppressed"] == 300
    revenue = sum(
        Decimal(line["unit_price"]) * line["quantity"] for s in sales for line in s["lines"]
    )
    assert Decimal(stats["revenue"]) == revenue

    stock = await _stock(http, one.url)
    for pid in PRODUCTS:
        branches = {b: expected[(b, pid)] for b in BRANCHES}
        assert stock[pid] == {"total": sum(branches.values()), "branches": branches}

    ledger_ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await http.get(f"{one.url}/api/v1/sales", params=params)).json()
        ledger_ids += [item["sale_id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(ledger_ids) == sorted(s["sale_id"] for s in sales)


# --- property: any interleaving of sales, movements and repeats ---------------------

operation = st.one_of(
    st.tuples(
        st.just("sale"),
        st.sampled_from(BRANCHES),
        st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 5)), min_size=1, max_size=3),
    ),
    st.tuples(
        st.just("movement"),
        st.sampled_from(BRANCHES),
        st.tuples(st.sampled_from(PRODUCTS), st.integers(-20, 40).filter(bool)),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.lists(operation, min_size=1, max_size=25),
    repeats=st.lists(st.integers(0, 24), max_size=15),
    seed=st.integers(0, 2**16),
)
def test_stock_equals_movements_minus_sales_whatever_the_interleaving(
    redis_url: str, operations: list[tuple[object, ...]], repeats: list[int], seed: int
) -> None:
    asyncio.run(_check_interleaving(redis_url, operations, repeats, seed))


async def _check_interleaving(
    redis_url: str, operations: list[tuple[object, ...]], repeats: list[int], seed: int
) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    stores = [CentralStore(client, f"central-{n}") for n, client in enumerate(clients, 1)]
    try:
        await clients[0].flushdb()
        for pid in PRODUCTS:
            await stores[0].put_product(pid, ProductIn(name=f"p{pid}", price=Decimal("1.00")))

        requests: list[SaleIn | MovementIn] = []
        for kind, branch, detail in operations:
            if kind == "sale":
                assert isinstance(detail, list)
                lines = [
                    SaleLine(product_id=p, quantity=q, unit_price=Decimal("1.00"))
                    for p, q in detail
                ]
                requests.append(SaleIn(
                    sale_id=uuid.uuid4(), branch_id=str(branch), sold_at=datetime.now(UTC),
                    lines=lines,
                ))  # fmt: skip
            else:
                assert isinstance(detail, tuple)
                pid, qty = detail
                reason = MovementReason.CORRECTION
                requests.append(MovementIn(
                    movement_id=uuid.uuid4(), branch_id=str(branch), product_id=pid,
                    quantity=qty, reason=reason,
                ))  # fmt: skip
        duplicated = [requests[i % len(requests)] for i in repeats]
        stream = requests + duplicated
        random.Random(seed).shuffle(stream)

        async def apply(n: int, request: SaleIn | MovementIn) -> None:
            store = stores[n % 2]
            if isinstance(request, SaleIn):
                await store.apply_sale(request)
            else:
                await store.apply_movement(request)

        await asyncio.gather(*(apply(n, r) for n, r in enumerate(stream)))

        expected: Counter[tuple[str, int]] = Counter()
        for request in requests:
            if isinstance(request, SaleIn):
                for line in request.lines:
                    expected[(request.branch_id, line.product_id)] -= line.quantity
            else:
                expected[(request.branch_id, request.product_id)] += request.quantity
        stats = await stores[0].stats()
        assert stats.sales == sum(isinstance(r, SaleIn) for r in requests)
        assert stats.movements == sum(isinstance(r, MovementIn) for r in requests)
        assert stats.duplicates_suppressed == len(duplicated)
        below_zero = 0
        for pid in PRODUCTS:
            raw = await stores[1].product_json(pid)
            assert raw is not None
            product = httpx.Response(200, content=raw).json()
            branches = {b: expected[(b, pid)] for b in BRANCHES}
            assert set(product["stock"]["branches"]) <= set(BRANCHES)
            assert {b: product["stock"]["branches"].get(b, 0) for b in BRANCHES} == branches
            assert product["stock"]["total"] == sum(branches.values())
            assert product["below_zero"] == any(v < 0 for v in branches.values())
            below_zero += product["below_zero"]
        assert stats.products_below_zero == below_zero
    finally:
        for client in clients:
            await client.aclose()
