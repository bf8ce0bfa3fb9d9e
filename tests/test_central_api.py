"""The central's HTTP API against a real instance and a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ecomarket.servers import free_port, redis_program
from tests.central_helpers import customer, movement, sale, snapshot
from tests.conftest import branch_headers
from tests.processes import Running, central_env, start_central, start_program


@pytest.fixture
def central(centrals: Callable[..., Running]) -> Running:
    """One central instance with an empty catalogue."""
    return centrals("central-1")


async def put(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], pid: int, **body: str
) -> httpx.Response:
    return await http.put(f"{url}/api/v1/products/{pid}", json=body, headers=headers)


async def test_product_created_updated_read_and_deleted(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    url = central.url
    created = await put(http, url, admin_headers, 101, name="Bamboo toothbrush", price="3.50")
    assert created.status_code == 201
    assert created.json() == {
        "id": 101,
        "name": "Bamboo toothbrush",
        "price": "3.50",
        "version": 1,
        "stock": {"total": 0, "branches": {}},
        "below_zero": False,
    }
    updated = await put(http, url, admin_headers, 101, name="Bamboo toothbrush", price="3.75")
    assert updated.status_code == 200
    assert updated.json()["price"] == "3.75"
    assert updated.json()["version"] == 2

    for pid, qty, branch in ((101, 25, "branch-1"), (101, 15, "branch-2")):
        moved = await http.post(
            f"{url}/api/v1/stock-movements", json=movement(pid, qty, branch), headers=admin_headers
        )
        assert moved.status_code == 201, moved.text
    product = (await http.get(f"{url}/api/v1/products/101")).json()
    assert product["stock"] == {"total": 40, "branches": {"branch-1": 25, "branch-2": 15}}

    assert (
        await http.delete(f"{url}/api/v1/products/101", headers=admin_headers)
    ).status_code == 204
    assert (await http.get(f"{url}/api/v1/products/101")).status_code == 404
    assert (
        await http.delete(f"{url}/api/v1/products/101", headers=admin_headers)
    ).status_code == 404


async def test_products_are_paged_by_id(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for pid in range(1, 8):
        await put(http, central.url, admin_headers, pid, name=f"p{pid}", price="1.00")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await http.get(f"{central.url}/api/v1/products", params=params)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(1, 8))


async def test_sale_applied_once_and_repeat_answers_the_first_body(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await put(http, central.url, admin_headers, 101, name="Bamboo toothbrush", price="3.50")
    body = sale(lines=[(101, 2, "3.50")])
    first = await http.post(
        f"{central.url}/api/v1/sales", json=body, headers=branch_headers("branch-1")
    )
    again = await http.post(f"{central.url}/api/v1/sales", json=body, headers=admin_headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["total"] == "7.00"

    stats = (await http.get(f"{central.url}/api/v1/stats")).json()
    assert stats["sales"] == 1 and stats["duplicates_suppressed"] == 1
    assert stats["revenue"] == "7.00"
    product = (await http.get(f"{central.url}/api/v1/products/101")).json()
    assert product["stock"]["branches"] == {"branch-1": -2}
    assert product["below_zero"] is True
    assert stats["products_below_zero"] == 1

    ledger = (await http.get(f"{central.url}/api/v1/sales", params={"limit": 10})).json()
    assert [s["sale_id"] for s in ledger["items"]] == [body["sale_id"]]


async def test_sale_id_reused_for_other_content_is_a_conflict(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str], redis_url: str
) -> None:
    await put(http, central.url, admin_headers, 101, name="Bamboo toothbrush", price="3.50")
    body = sale(lines=[(101, 2, "3.50")])
    assert (
        await http.post(f"{central.url}/api/v1/sales", json=body, headers=admin_headers)
    ).status_code == 201
    before = snapshot(redis_url)
    body["lines"][0]["quantity"] = 5
    answer = await http.post(f"{central.url}/api/v1/sales", json=body, headers=admin_headers)
    assert answer.status_code == 409
    assert "sale_id" in answer.json()["detail"]
    assert snapshot(redis_url) == before


async def test_unknown_product_is_404_and_changes_nothing(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str], redis_url: str
) -> None:
    await put(http, central.url, admin_headers, 101, name="Bamboo toothbrush", price="3.50")
    before = snapshot(redis_url)
    body = sale(lines=[(101, 1, "3.50"), (999, 1, "1.00")])
    answer = await http.post(f"{central.url}/api/v1/sales", json=body, headers=admin_headers)
    assert answer.status_code == 404
    assert "999" in answer.json()["detail"]
    assert snapshot(redis_url) == before


async def test_tokens_decide_who_may_write(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await put(http, central.url, admin_headers, 101, name="Bamboo toothbrush", price="3.50")
    body = sale(branch_id="branch-2")
    url = f"{central.url}/api/v1/sales"
    assert (await http.post(url, json=body)).status_code == 401
    assert (
        await http.post(url, json=body, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    wrong_branch = await http.post(url, json=body, headers=branch_headers("branch-1"))
    assert wrong_branch.status_code == 403
    assert "branch_id" in wrong_branch.json()["detail"]
    as_branch = await put(
        http, central.url, branch_headers("branch-1"), 102, name="x", price="1.00"
    )
    assert as_branch.status_code == 403
    assert (await http.post(url, json=body, headers=branch_headers("branch-2"))).status_code == 201


async def test_without_configured_tokens_writes_are_refused(
    centrals: Callable[..., Running], http: httpx.AsyncClient
) -> None:
    central = centrals("central-1", ECOMARKET_ADMIN_TOKEN="", ECOMARKET_BRANCH_TOKENS="")
    answer = await put(
        http, central.url, {"Authorization": "Bearer anything"}, 101, name="x", price="1.00"
    )
    assert answer.status_code == 401
    assert "ECOMARKET_ADMIN_TOKEN" in answer.json()["detail"]
    assert "ECOMARKET_ADMIN_TOKEN" in central.output()


async def test_customers_registered_once_and_paged(
    central: Running, http: httpx.AsyncClient
) -> None:
    body = customer("branch-1")
    url = f"{central.url}/api/v1/customers"
    assert (await http.post(url, json=body, headers=branch_headers("branch-1"))).status_code == 201
    assert (await http.post(url, json=body, headers=branch_headers("branch-1"))).status_code == 200
    listed = (await http.get(url)).json()
    assert [c["customer_id"] for c in listed["items"]] == [body["customer_id"]]
    assert (await http.get(f"{central.url}/api/v1/stats")).json()["customers"] == 1


async def test_every_response_names_the_instance(
    centrals: Callable[..., Running], http: httpx.AsyncClient
) -> None:
    central = centrals("central-7")
    for answer in (
        await http.get(f"{central.url}/healthz"),
        await http.get(f"{central.url}/api/v1/products/5"),
        await http.post(f"{central.url}/api/v1/sales", json={}),
        await http.get(f"{central.url}/no-such-page"),
    ):
        assert answer.headers["X-Served-By"] == "central-7"
    assert "central-7" in central.output()


async def test_readiness_follows_redis(
    tmp_path: Path, log_dir: Path, http: httpx.AsyncClient
) -> None:
    program = redis_program(tmp_path / "redis", free_port(), persist=False)
    own_redis = start_program(program, log_dir)
    env = central_env(f"redis://127.0.0.1:{program.port}/3", "amqp://127.0.0.1:1/", "central-1")
    central = start_central(log_dir, {**env, "ECOMARKET_CONSUMERS": "false"})
    try:
        assert (await http.get(f"{central.url}/readyz")).status_code == 200
        own_redis.kill()
        down = await http.get(f"{central.url}/readyz")
        assert down.status_code == 503
        assert down.json()["checks"]["redis"] is False
        assert (await http.get(f"{central.url}/healthz")).status_code == 200
        own_redis = start_program(program, log_dir)
        for _ in range(50):
            if (await http.get(f"{central.url}/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await http.get(f"{central.url}/readyz")).status_code == 200
    finally:
        central.stop()
        own_redis.stop()


async def test_metrics_are_exposed(central: Running, http: httpx.AsyncClient) -> None:
    await http.get(f"{central.url}/healthz")
    metrics = await http.get(f"{central.url}/metrics")
    assert metrics.status_code == 200
    assert "ecomarket_sales_total" in metrics.text


async def test_a_product_created_again_is_newer_than_its_deletion(
    central: Running, http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (
        await put(http, central.url, admin_headers, 7, name="Tea", price="2.00")
    ).status_code == 201
    assert (
        await http.delete(f"{central.url}/api/v1/products/7", headers=admin_headers)
    ).status_code == 204
    again = await put(http, central.url, admin_headers, 7, name="Tea", price="2.20")
    assert again.status_code == 201
    # Branches order catalogue events by version: the new product must outrank the deletion.
    assert again.json()["version"] == 3
    listed = (await http.get(f"{central.url}/api/v1/products")).json()["items"]
    assert [(p["id"], p["price"], p["version"]) for p in listed] == [(7, "2.20", 3)]
