"""Bad input gets a 4xx that names the field, and leaves Redis exactly as it was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.central_helpers import customer, movement, sale, snapshot
from tests.processes import ADMIN_TOKEN, Running, central_env, start_central

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _edit(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the field at dotted ``path`` set (or removed if value is ...)."""
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


BAD_SALES: list[tuple[str, Any, str]] = [
    # (field to change, bad value, field named in the answer)
    ("lines.0.quantity", 0, "lines.0.quantity"),
    ("lines.0.quantity", -3, "lines.0.quantity"),
    ("lines.0.quantity", 1.5, "lines.0.quantity"),
    ("lines.0.quantity", "2", "lines.0.quantity"),
    ("lines.0.quantity", 10**12, "lines.0.quantity"),
    ("lines.0.product_id", "abc", "lines.0.product_id"),
    ("lines.0.product_id", 0, "lines.0.product_id"),
    ("lines.0.unit_price", "3.505", "lines.0.unit_price"),
    ("lines.0.unit_price", "-1.00", "lines.0.unit_price"),
    ("lines.0.unit_price", "NaN", "lines.0.unit_price"),
    ("lines.0.unit_price", "1e20", "lines.0.unit_price"),
    ("lines", [], "lines"),
    ("sale_id", "not-a-uuid", "sale_id"),
    ("sale_id", ..., "sale_id"),
    ("sold_at", "yesterday", "sold_at"),
    ("sold_at", "2026-12-03T10:00:00", "sold_at"),  # no time zone
    ("sold_at", 1764756000, "sold_at"),
    ("branch_id", "<script>", "branch_id"),
    ("surprise", 1, "surprise"),
    ("lines.0.discount", "1.00", "lines.0.discount"),
]

BAD_MOVEMENTS: list[tuple[str, Any, str]] = [
    ("quantity", 0, "quantity"),
    ("quantity", -5, "quantity"),  # received must be positive
    ("quantity", "ten", "quantity"),
    ("reason", "stolen", "reason"),
    ("movement_id", "42", "movement_id"),
    ("product_id", -1, "product_id"),
    ("extra", True, "extra"),
]

BAD_PRODUCTS: list[tuple[str, Any, str]] = [
    ("price", "-1.00", "price"),
    ("price", "1.001", "price"),
    ("price", "free", "price"),
    ("name", "", "name"),
    ("name", "x" * 500, "name"),
    ("colour", "green", "colour"),
]

BAD_CUSTOMERS: list[tuple[str, Any, str]] = [
    ("email", "not-an-email", "email"),
    ("customer_id", "1", "customer_id"),
    ("name", ..., "name"),
]


@pytest.fixture(scope="module")
def central(redis_server: Running, log_dir: Path) -> Iterator[Running]:
    """One instance for the whole module; each test cleans the database and checks no-change."""
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    env = {**central_env(url, "amqp://127.0.0.1:1/", "central-1"), "ECOMARKET_CONSUMERS": "false"}
    running = start_central(log_dir, env)
    yield running
    running.stop()


@pytest.fixture
def seeded(central: Running, redis_url: str) -> tuple[Running, str]:
    """The instance with product 101 in the catalogue."""
    answer = httpx.put(
        f"{central.url}/api/v1/products/101",
        json={"name": "Bamboo toothbrush", "price": "3.50"},
        headers=ADMIN,
    )
    assert answer.status_code in (200, 201)
    return central, redis_url


def _assert_refused(answer: httpx.Response, field: str) -> None:
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["X-Served-By"] == "central-1"
    fields = [error.get("field") for error in answer.json()["detail"]]
    assert field in fields, fields


@pytest.mark.parametrize(("path", "value", "field"), BAD_SALES)
def test_bad_sale_refused(seeded: tuple[Running, str], path: str, value: Any, field: str) -> None:
    central, url = seeded
    before = snapshot(url)
    body = _edit(sale(lines=[(101, 1, "3.50")]), path, value)
    _assert_refused(httpx.post(f"{central.url}/api/v1/sales", json=body, headers=ADMIN), field)
    assert snapshot(url) == before


@pytest.mark.parametrize(("path", "value", "field"), BAD_MOVEMENTS)
def test_bad_movement_refused(
    seeded: tuple[Running, str], path: str, value: Any, field: str
) -> None:
    central, url = seeded
    before = snapshot(url)
    body = _edit(movement(), path, value)
    answer = httpx.post(f"{central.url}/api/v1/stock-movements", json=body, headers=ADMIN)
    _assert_refused(answer, field)
    assert snapshot(url) == before


@pytest.mark.parametrize(("path", "value", "field"), BAD_PRODUCTS)
def test_bad_product_refused(
    seeded: tuple[Running, str], path: str, value: Any, field: str
) -> None:
    central, url = seeded
    before = snapshot(url)
    body = _edit({"name": "Tea", "price": "2.00"}, path, value)
    answer = httpx.put(f"{central.url}/api/v1/products/102", json=body, headers=ADMIN)
    _assert_refused(answer, field)
    assert snapshot(url) == before


@pytest.mark.parametrize(("path", "value", "field"), BAD_CUSTOMERS)
def test_bad_customer_refused(
    seeded: tuple[Running, str], path: str, value: Any, field: str
) -> None:
    central, url = seeded
    before = snapshot(url)
    body = _edit(customer(), path, value)
    answer = httpx.post(f"{central.url}/api/v1/customers", json=body, headers=ADMIN)
    _assert_refused(answer, field)
    assert snapshot(url) == before


@pytest.mark.parametrize(
    ("request_path", "params", "field"),
    [
        ("/api/v1/products/0", {}, "product_id"),
        ("/api/v1/products/abc", {}, "product_id"),
        ("/api/v1/products", {"limit": 0}, "limit"),
        ("/api/v1/products", {"limit": 100000}, "limit"),
        ("/api/v1/sales", {"cursor": "drop table"}, "cursor"),
    ],
)
def test_bad_query_refused(
    seeded: tuple[Running, str], request_path: str, params: dict[str, Any], field: str
) -> None:
    central, _ = seeded
    _assert_refused(httpx.get(f"{central.url}{request_path}", params=params), field)


def test_body_over_the_limit_refused(seeded: tuple[Running, str]) -> None:
    central, url = seeded
    before = snapshot(url)
    body = sale(lines=[(101, 1, "3.50")] * 5000)
    _assert_refused(httpx.post(f"{central.url}/api/v1/sales", json=body, headers=ADMIN), "body")

    def chunks() -> Iterator[bytes]:
        yield b'{"sale_id": "' + str(uuid.uuid4()).encode() + b'", "lines": ['
        for _ in range(20_000):
            yield b'{"product_id": 101, "quantity": 1, "unit_price": "3.50"},'

    streamed = httpx.post(
        f"{central.url}/api/v1/sales",
        content=chunks(),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    _assert_refused(streamed, "body")
    assert snapshot(url) == before


@pytest.mark.parametrize("idempotency_key", [None, "padded-1"])
def test_valid_sale_padded_past_the_limit_is_not_applied(
    seeded: tuple[Running, str], idempotency_key: str | None
) -> None:
    # Streamed without a length, the body is cut at the limit: what was read by then is
    # a whole, valid sale, and must still not be applied, since the client is told 413.
    central, url = seeded
    before = snapshot(url)
    whole_sale = json.dumps(sale(lines=[(101, 1, "3.50")])).encode()

    def chunks() -> Iterator[bytes]:
        yield whole_sale
        for _ in range(100):
            yield b" " * 1024

    headers = {**ADMIN, "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    streamed = httpx.post(f"{central.url}/api/v1/sales", content=chunks(), headers=headers)
    assert streamed.status_code == 413, streamed.text
    assert snapshot(url) == before


def test_too_many_lines_refused(seeded: tuple[Running, str]) -> None:
    central, url = seeded
    before = snapshot(url)
    body = sale(lines=[(101, 1, "3.50")] * 300)
    _assert_refused(httpx.post(f"{central.url}/api/v1/sales", json=body, headers=ADMIN), "lines")
    assert snapshot(url) == before


def test_malformed_json_refused(seeded: tuple[Running, str]) -> None:
    central, url = seeded
    before = snapshot(url)
    answer = httpx.post(
        f"{central.url}/api/v1/sales",
        content=b'{"sale_id": ',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert snapshot(url) == before
