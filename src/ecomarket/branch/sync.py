"""Keeps the branch's catalogue and stock in step with the central.

At start the branch reads the central's catalogue and this branch's stock
movements over HTTP (retrying in the background while the central is away, and
selling from its last copy meanwhile). After that it follows the catalogue
exchange through its own durable queue, so that changes made while it was
offline wait for it in the broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage

from ecomarket import names
from ecomarket.branch import catalogue
from ecomarket.branch.broker import Broker
from ecomarket.branch.db import Database
from ecomarket.money import to_cents

logger = logging.getLogger(__name__)

PAGE = 500
RELOAD_SECONDS = 3.0


class CatalogueSync:
    """Loads the central's state once, then applies catalogue events as they come."""

    def __init__(
        self, db: Database, branch_id: str, central: httpx.AsyncClient, broker: Broker
    ) -> None:
        self.db = db
        self.branch_id = branch_id
        self.central = central
        self.broker = broker
        self.loaded = asyncio.Event()
        self.events_applied = 0

    async def run(self) -> None:
        """Load until it succeeds once, then follow the catalogue exchange for good."""
        await self._load_until_done()
        while True:
            try:
                created = await self.follow()
                break
            except Exception as exc:  # the broker went away while the queue was being set up
                logger.warning("branch %s: catalogue queue not set up (%r); trying again",
                               self.branch_id, exc)  # fmt: skip
                await asyncio.sleep(RELOAD_SECONDS)
        if created:
            # Changes made between the first load and the queue's creation reached no
            # queue of ours; a second load picks them up (movements apply once by id).
            await self._load_until_done()

    async def _load_until_done(self) -> None:
        while True:
            try:
                await self.load()
                return
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                logger.warning("branch %s: central not readable (%r); selling from the last copy",
                               self.branch_id, exc)  # fmt: skip
                await asyncio.sleep(RELOAD_SECONDS)

    async def _pages(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {**params, "limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
            response = await self.central.get(path, params=query)
            response.raise_for_status()
            page = response.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def load(self) -> None:
        """Read the whole catalogue and this branch's movements; apply what is new."""
        products = await self._pages("/api/v1/products", {})
        movements = await self._pages("/api/v1/stock-movements", {"branch_id": self.branch_id})

        def apply(conn: Any) -> int:
            for product in products:
                cents = to_cents(Decimal(product["price"]))
                catalogue.product_changed(
                    conn, int(product["version"]), int(product["id"]), product["name"], cents
                )
            catalogue.drop_missing(conn, {int(p["id"]) for p in products})
            return sum(
                catalogue.apply_movement(
                    conn, m["movement_id"], int(m["product_id"]), int(m["quantity"]), m["reason"]
                )
                for m in movements
                if m["branch_id"] == self.branch_id
            )

        new = await self.db.run(apply)
        self.loaded.set()
        logger.info("branch %s loaded %s products and %s new stock movements from the central",
                    self.branch_id, len(products), new)  # fmt: skip

    async def follow(self) -> bool:
        """Consume ``branch.catalogue.<id>`` with manual acks; True when the queue is new."""
        await self.broker.connected.wait()
        assert self.broker.connection is not None
        channel = await self.broker.connection.channel()
        await channel.set_qos(prefetch_count=100)
        await channel.declare_exchange(
            names.CATALOGUE_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
        )
        name = names.BRANCH_CATALOGUE_QUEUE + self.branch_id
        try:
            await channel.declare_queue(name, passive=True)
            created = False
        except aio_pika.exceptions.ChannelNotFoundEntity:
            # A passive declare of a missing queue closes the channel (404): open another.
            channel = await self.broker.connection.channel()
            await channel.set_qos(prefetch_count=100)
            created = True
        queue = await channel.declare_queue(name, durable=True)
        await queue.bind(names.CATALOGUE_EXCHANGE)
        await queue.consume(self._on_message)
        logger.info("branch %s follows %s", self.branch_id, names.CATALOGUE_EXCHANGE)
        return created

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            body = json.loads(message.body)
            await self.apply_event(message.type or "", body)
        except (ValueError, KeyError, TypeError) as exc:
            # A malformed event would fail the same way forever: drop it, loudly.
            logger.warning("branch %s drops catalogue event %s of type %s: %r",
                           self.branch_id, message.message_id, message.type, exc)  # fmt: skip
            await message.reject(requeue=False)
            return
        await message.ack()

    async def apply_event(self, event: str, body: dict[str, Any]) -> None:
        """Apply one catalogue event (product.changed, product.deleted, stock.moved)."""
        if event == names.EVENT_PRODUCT_CHANGED:
            cents = to_cents(Decimal(body["price"]))
            args = (int(body["version"]), int(body["product_id"]), str(body["name"]), cents)
            await self.db.run(lambda conn: catalogue.product_changed(conn, *args))
        elif event == names.EVENT_PRODUCT_DELETED:
            product_id, version = int(body["product_id"]), int(body["version"])
            await self.db.run(lambda conn: catalogue.product_deleted(conn, product_id, version))
        elif event == names.EVENT_STOCK_MOVED:
            if body["branch_id"] != self.branch_id:
                return
            movement = (
                str(body["movement_id"]), int(body["product_id"]),
                int(body["quantity"]), str(body["reason"]),
            )  # fmt: skip
            await self.db.run(lambda conn: catalogue.apply_movement(conn, *movement))
        else:
            raise ValueError(f"unknown catalogue event {event!r}")
        self.events_applied += 1
