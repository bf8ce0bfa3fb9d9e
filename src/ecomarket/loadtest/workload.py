"""What the load test sends: reads of the catalogue and ledger, and writes with fresh ids.

Each write remembers what it should do to the stock, so that the run can end
by checking the central against what it acknowledged.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MIXES = {"read": 0.0, "write": 1.0, "mixed": 0.25}  # share of writes
StockKey = tuple[str, int]  # (branch id, product id)


@dataclass
class Write:
    """One write sent: its kind, id, and the stock change it makes when applied."""

    kind: str  # sale, movement, customer
    record_id: str
    branch_id: str
    stock: dict[StockKey, int] = field(default_factory=dict)
    acknowledged: bool = False


@dataclass(frozen=True)
class Request:
    """One HTTP request to make, and the write it carries, if any."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    # Writes are sent as branches send them: the id in the body makes a retry safe,
    # so no Idempotency-Key header (which would cost the central two more Redis
    # round trips per write).
    write: Write | None = None


@dataclass
class Product:
    """What the load test needs of a product: id and price."""

    product_id: int
    price: str


class Workload:
    """Draws requests for one mix; remembers every write it handed out."""

    def __init__(
        self,
        mix: str,
        products: list[Product],
        branches: list[str],
        *,
        movements: bool,
        seed: int | None = None,
    ) -> None:
        if mix not in MIXES:
            raise ValueError(f"mix must be one of {', '.join(MIXES)}, not {mix!r}")
        if not products:
            raise ValueError("the catalogue is empty: run `ecomarket seed` first")
        if MIXES[mix] > 0 and not branches:
            raise ValueError("writes need a branch token or the admin token (see --run-dir)")
        self.write_share = MIXES[mix]
        self.products = products
        self.branches = branches
        self.movements = movements
        self.random = random.Random(seed)
        self.writes: list[Write] = []
        self.sent = Counter[str]()

    def next(self) -> Request:
        """The next request to send."""
        return self._write() if self.random.random() < self.write_share else self._read()

    def _read(self) -> Request:
        roll = self.random.random()
        if roll < 0.6:
            product = self.random.choice(self.products)
            return Request("GET", f"/api/v1/products/{product.product_id}")
        if roll < 0.75:
            return Request("GET", "/api/v1/products?limit=20")
        if roll < 0.9:
            return Request("GET", "/api/v1/sales?limit=20")
        return Request("GET", "/api/v1/stats")

    def _write(self) -> Request:
        roll = self.random.random()
        branch = self.random.choice(self.branches)
        if roll < 0.25 and self.movements:
            request = self._movement(branch)
        elif roll < 0.4:
            request = self._customer(branch)
        else:
            request = self._sale(branch)
        assert request.write is not None
        self.writes.append(request.write)
        self.sent[request.write.kind] += 1
        return request

    def _sale(self, branch: str) -> Request:
        sale_id = str(uuid.uuid4())
        chosen = self.random.sample(self.products, k=min(len(self.products), 2))
        lines = []
        write = Write("sale", sale_id, branch)
        for product in chosen[: self.random.randint(1, len(chosen))]:
            quantity = self.random.randint(1, 3)
            lines.append(
                {
                    "product_id": product.product_id,
                    "quantity": quantity,
                    "unit_price": product.price,
                }
            )
            write.stock[(branch, product.product_id)] = -quantity
        body = {
            "sale_id": sale_id,
            "branch_id": branch,
            "sold_at": datetime.now(UTC).isoformat(),
            "lines": lines,
        }
        return Request("POST", "/api/v1/sales", body, write)

    def _movement(self, branch: str) -> Request:
        movement_id = str(uuid.uuid4())
        product = self.random.choice(self.products)
        # Deliveries are sized to what the tills sell between two of them (a sale takes
        # about three units, and sales are some 2.4 times as frequent as movements), so
        # that stock stays level over a run instead of sinking below zero everywhere.
        if self.random.random() < 0.8:
            quantity, reason = self.random.randint(6, 12), "received"
        else:
            quantity, reason = -self.random.randint(1, 2), "shrinkage"
        body = {
            "movement_id": movement_id,
            "branch_id": branch,
            "product_id": product.product_id,
            "quantity": quantity,
            "reason": reason,
        }
        write = Write("movement", movement_id, branch, {(branch, product.product_id): quantity})
        return Request("POST", "/api/v1/stock-movements", body, write)

    def _customer(self, branch: str) -> Request:
        customer_id = str(uuid.uuid4())
        body = {
            "customer_id": customer_id,
            "email": f"load-{customer_id[:12]}@shoppers.ecomarket.org",
            "name": "Load Test Customer",
            "branch_id": branch,
        }
        return Request("POST", "/api/v1/customers", body, Write("customer", customer_id, branch))
