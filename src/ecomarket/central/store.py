"""The central's state in Redis, and the atomic steps that change it.

Every change that must happen exactly once (a sale, a stock movement, a
customer) is one Lua script: the id is checked, the effect applied and the
first answer stored in a single step, so that concurrent instances and
redelivered events can never apply the same id twice.

Known limit: the scripts compute product and stock keys that they do not all
receive in KEYS, which Redis Cluster forbids; the central runs on one Redis
(with a replica for failover) until keys are given a hash tag per branch.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from typing import Any

import redis.asyncio as redis
from redis.commands.core import AsyncScript

from ecomarket import names
from ecomarket.central.pipelining import AutoPipeline
from ecomarket.money import from_cents, to_cents
from ecomarket.schemas import CustomerIn, MovementIn, ProductIn, SaleIn, Stats

PAGE_LIMIT_MAX = 500


class Outcome(StrEnum):
    """What an exactly-once step did with the id it was given."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # seen before with the same content: nothing changed
    CONFLICT = "conflict"  # seen before with other content: nothing changed
    UNKNOWN_PRODUCT = "unknown_product"  # refers to a product not in the catalogue


@dataclass(frozen=True)
class Result:
    """The outcome of an exactly-once step and the answer to give (the first one stored)."""

    outcome: Outcome
    body: str  # the stored JSON for applied/duplicate/conflict, the product id otherwise

    @property
    def is_new(self) -> bool:
        """Whether this call changed the state."""
        return self.outcome is Outcome.APPLIED


def digest(payload: dict[str, Any]) -> str:
    """A short fingerprint of a request, to tell a repeat from a reused id."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()


def _load_script(client: redis.Redis, name: str) -> AsyncScript:
    folder = resources.files("ecomarket.central") / "lua"
    common = (folder / "common.lua").read_text()
    return client.register_script(common + "\n" + (folder / f"{name}.lua").read_text())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _decode(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _encode(raw: Any) -> bytes:
    return bytes(raw) if isinstance(raw, bytes) else str(raw).encode()


class CentralStore:
    """Reads and exactly-once writes of the central's state, over one Redis client."""

    def __init__(self, client: redis.Redis, instance: str) -> None:
        self.redis = client
        self.instance = instance
        # The hot paths (sales, catalogue and ledger reads) share round trips; the
        # housekeeping elsewhere uses ``redis`` directly.
        self.pipeline = AutoPipeline(client)
        self._apply_sale = _load_script(client, "apply_sale")
        self._apply_movement = _load_script(client, "apply_movement")
        self._record_once = _load_script(client, "record_once")
        self._put_product = _load_script(client, "put_product")
        self._delete_product = _load_script(client, "delete_product")
        self._read_page = _load_script(client, "read_page")
        self._read_products = _load_script(client, "read_products")

    # --- catalogue -------------------------------------------------------------

    async def put_product(self, product_id: int, product: ProductIn) -> bool:
        """Create or update a product and queue its event; True when created."""
        event = {"product_id": product_id, **product.model_dump(mode="json")}
        created = await self.pipeline.script(
            self._put_product,
            [
                f"{names.PRODUCT}{product_id}",
                names.PRODUCT_IDS,
                names.CATALOGUE_OUTBOX,
                f"{names.STOCK}{product_id}",
                names.STOCK_TOTAL,
                names.BELOW_ZERO,
                names.PRODUCT_JSON,
            ],
            [product_id, product.name, to_cents(product.price), _json(event)],
        )
        return bool(created)

    async def delete_product(self, product_id: int) -> bool:
        """Remove a product from the catalogue and queue its event; its stock history stays."""
        removed = await self.pipeline.script(
            self._delete_product,
            [
                f"{names.PRODUCT}{product_id}",
                names.PRODUCT_IDS,
                names.CATALOGUE_OUTBOX,
                names.PRODUCT_JSON,
            ],
            [product_id],
        )
        return bool(removed)

    async def product_json(self, product_id: int) -> str | None:
        """One product with its stock, as JSON, or None when unknown."""
        raw = await self.pipeline.script(
            self._read_products,
            [names.PRODUCT_IDS, names.STOCK_TOTAL, names.BELOW_ZERO, names.PRODUCT_JSON],
            [names.PRODUCT, names.STOCK, 0, 1, product_id],
        )
        return None if raw is None else _decode(raw)

    async def products_page(self, cursor: int, limit: int) -> bytes:
        """A page of the catalogue with stock, as a JSON document."""
        raw = await self.pipeline.script(
            self._read_products,
            [names.PRODUCT_IDS, names.STOCK_TOTAL, names.BELOW_ZERO, names.PRODUCT_JSON],
            [names.PRODUCT, names.STOCK, cursor, min(limit, PAGE_LIMIT_MAX), ""],
        )
        return _encode(raw)

    # --- exactly-once changes --------------------------------------------------

    async def apply_sale(self, sale: SaleIn) -> Result:
        """Record a sale and move its branch's stock, once per sale id."""
        keys, args = self._sale_call(sale)
        return self._result(await self.pipeline.script(self._apply_sale, keys, args))

    def _sale_call(self, sale: SaleIn) -> tuple[list[str], list[str | int]]:
        sale_id = str(sale.sale_id)
        total = sum(to_cents(line.unit_price) * line.quantity for line in sale.lines)
        # The model's own JSON has a fixed field order, so it is canonical as it is: its
        # fingerprint needs no sorted re-encoding, and the stored answer extends it.
        payload = sale.model_dump_json()
        fingerprint = hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()
        applied = {"total": from_cents(total), "applied_by": self.instance, "applied_at": _now()}
        body = payload[:-1] + "," + _json(applied)[1:]
        keys = [
            f"{names.SALE}{sale_id}",
            names.SALE_LEDGER,
            names.SALE_SEQ,
            names.COUNTERS,
            names.STOCK_TOTAL,
            names.BELOW_ZERO,
            names.BRANCHES,
            names.PRODUCT_JSON,
        ]
        args: list[str | int] = [body, fingerprint, sale.branch_id, total]
        for line in sale.lines:
            keys += [f"{names.PRODUCT}{line.product_id}", f"{names.STOCK}{line.product_id}"]
            args += [line.product_id, line.quantity]
        return keys, args

    async def apply_movement(self, movement: MovementIn) -> Result:
        """Move a branch's stock outside a sale (goods received, shrinkage, ...), once per id."""
        payload = movement.model_dump(mode="json")
        body = {**payload, "applied_by": self.instance, "applied_at": _now()}
        raw = await self.pipeline.script(
            self._apply_movement,
            [
                f"{names.MOVEMENT}{movement.movement_id}",
                names.MOVEMENT_LEDGER,
                names.MOVEMENT_SEQ,
                names.COUNTERS,
                names.STOCK_TOTAL,
                names.BELOW_ZERO,
                names.BRANCHES,
                f"{names.PRODUCT}{movement.product_id}",
                f"{names.STOCK}{movement.product_id}",
                names.CATALOGUE_OUTBOX,
                f"{names.BRANCH_MOVEMENT_LEDGER}{movement.branch_id}",
                names.PRODUCT_JSON,
            ],
            [
                _json(body),
                digest(payload),
                movement.branch_id,
                movement.product_id,
                movement.quantity,
            ],
        )
        return self._result(raw)

    async def register_customer(self, customer: CustomerIn) -> Result:
        """Add a customer to the register, once per customer id."""
        payload = customer.model_dump(mode="json")
        body = {**payload, "registered_by": self.instance, "registered_at": _now()}
        return await self.record_once(
            names.CUSTOMER, names.CUSTOMER_LEDGER, names.CUSTOMER_SEQ,
            str(customer.customer_id), body, digest(payload), names.COUNTER_CUSTOMERS,
        )  # fmt: skip

    async def record_once(
        self,
        prefix: str,
        ledger: str,
        sequence: str,
        record_id: str,
        body: dict[str, Any],
        fingerprint: str,
        counter: str,
    ) -> Result:
        """Store a record under ``prefix + record_id`` and bump ``counter``, once per id."""
        raw = await self.pipeline.script(
            self._record_once,
            [f"{prefix}{record_id}", ledger, sequence, names.COUNTERS],
            [_json(body), fingerprint, counter],
        )
        return self._result(raw)

    async def apply_sales(self, sales: list[SaleIn]) -> list[Result | Exception]:
        """Apply many sales in one round trip, each exactly once as ``apply_sale`` does.

        Each item is the sale's result, or the error its script raised, so that one
        sale that cannot be applied never fails the others of the batch.
        """
        calls = [self.pipeline.script(self._apply_sale, *self._sale_call(sale)) for sale in sales]
        raws = await asyncio.gather(*calls, return_exceptions=True)
        results: list[Result | Exception] = []
        for raw in raws:
            if isinstance(raw, BaseException) and not isinstance(raw, Exception):
                raise raw
            results.append(raw if isinstance(raw, Exception) else self._result(raw))
        return results

    @staticmethod
    def _result(raw: list[Any]) -> Result:
        return Result(Outcome(_decode(raw[0])), _decode(raw[1]))

    # --- reads -----------------------------------------------------------------

    async def page(self, ledger: str, prefix: str, cursor: str | None, limit: int) -> bytes:
        """A page of any ledger (sales, movements, customers, ...), newest first, as JSON."""
        raw = await self.pipeline.script(
            self._read_page, [ledger], [prefix, cursor or "+inf", min(limit, PAGE_LIMIT_MAX)]
        )
        return _encode(raw)

    async def record(self, prefix: str, record_id: str) -> str | None:
        """The stored JSON of one record, or None."""
        raw = await self.pipeline.command("HGET", f"{prefix}{record_id}", "body")
        return None if raw is None else _decode(raw)

    async def stats(self) -> Stats:
        """Chain-wide figures, read in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(names.COUNTERS)
            pipe.zcard(names.PRODUCT_IDS)
            pipe.scard(names.BELOW_ZERO)
            pipe.smembers(names.BRANCHES)
            counters_raw, products, below_zero, branches = await pipe.execute()
        counters = {_decode(k): int(v) for k, v in counters_raw.items()}
        return Stats(
            products=products,
            sales=counters.get(names.COUNTER_SALES, 0),
            revenue=from_cents(counters.get(names.COUNTER_REVENUE, 0)),
            customers=counters.get(names.COUNTER_CUSTOMERS, 0),
            customers_counted=counters.get(names.COUNTER_CUSTOMERS_COUNTED, 0),
            notifications=counters.get(names.COUNTER_NOTIFICATIONS, 0),
            duplicates_suppressed=counters.get(names.COUNTER_DUPLICATES, 0),
            products_below_zero=below_zero,
            movements=counters.get(names.COUNTER_MOVEMENTS, 0),
            dead_letters=counters.get(names.COUNTER_DEAD_LETTERS, 0),
            branches=sorted(_decode(b) for b in branches),
            sales_by_branch={
                k.removeprefix("sales:"): v for k, v in counters.items() if k.startswith("sales:")
            },
        )

    async def heartbeat(self, figures: dict[str, int]) -> None:
        """Publish this instance's own figures, so that any instance can show the cluster."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(names.INSTANCE_HEARTBEAT, {self.instance: time.time()})
            # redis-py's stub wants a mapping keyed by its own union; plain text keys are fine.
            row: dict[Any, Any] = dict(figures)
            pipe.hset(f"{names.INSTANCE_COUNTERS}{self.instance}", mapping=row)
            await pipe.execute()

    async def instances(self, max_age: float = 15.0) -> dict[str, dict[str, int]]:
        """Figures of every instance that sent a heartbeat within ``max_age`` seconds."""
        live = await self.redis.zrangebyscore(
            names.INSTANCE_HEARTBEAT, time.time() - max_age, "+inf"
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            for instance in live:
                pipe.hgetall(f"{names.INSTANCE_COUNTERS}{_decode(instance)}")
            rows = await pipe.execute()
        return {
            _decode(instance): {_decode(k): int(v) for k, v in row.items()}
            for instance, row in zip(live, rows, strict=True)
        }
