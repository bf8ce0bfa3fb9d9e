"""``Idempotency-Key`` on any POST: what makes nginx's retry of a write safe."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from tests.processes import Running


def sale(sale_id: str) -> dict[str, object]:
    """A sale of one jar at branch-1."""
    return {
        "sale_id": sale_id,
        "branch_id": "branch-1",
        "sold_at": datetime.now(UTC).isoformat(),
        "lines": [{"product_id": 7, "quantity": 1, "unit_price": "2.00"}],
    }


async def test_repeat_on_another_instance_gets_the_first_answer(
    centrals: Callable[..., Running], http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    one, two = centrals("central-1"), centrals("central-2")
    await http.put(
        f"{one.url}/api/v1/products/7", json={"name": "Jar", "price": "2.00"}, headers=admin_headers
    )
    key = str(uuid.uuid4())
    headers = {**admin_headers, "Idempotency-Key": key}
    body = sale(str(uuid.uuid4()))

    first = await http.post(f"{one.url}/api/v1/sales", json=body, headers=headers)
    again = await http.post(f"{two.url}/api/v1/sales", json=body, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-served-by"] == "central-2"


async def test_same_key_with_another_body_is_refused_naming_the_header(
    centrals: Callable[..., Running], http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    one = centrals("central-1")
    await http.put(
        f"{one.url}/api/v1/products/7", json={"name": "Jar", "price": "2.00"}, headers=admin_headers
    )
    headers = {**admin_headers, "Idempotency-Key": "same-key"}

    await http.post(f"{one.url}/api/v1/sales", json=sale(str(uuid.uuid4())), headers=headers)
    other = await http.post(
        f"{one.url}/api/v1/sales", json=sale(str(uuid.uuid4())), headers=headers
    )

    assert other.status_code == 409
    assert other.json()["detail"][0]["field"] == "Idempotency-Key"


async def test_a_refused_request_is_answered_the_same_when_repeated(
    centrals: Callable[..., Running], http: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    one = centrals("central-1")
    headers = {**admin_headers, "Idempotency-Key": str(uuid.uuid4())}
    bad = {"sale_id": "not-a-uuid"}

    first = await http.post(f"{one.url}/api/v1/sales", json=bad, headers=headers)
    again = await http.post(f"{one.url}/api/v1/sales", json=bad, headers=headers)

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
