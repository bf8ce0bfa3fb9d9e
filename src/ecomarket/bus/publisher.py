"""Confirmed publishing of the event contract, for the central and the branches alike.

A publish returns only once the broker has confirmed the message: it is then
on disk in every durable queue bound to the exchange. A publish that is not
confirmed, because the connection dropped or the broker restarted, or that no
queue took (``mandatory``: on a fresh broker before any central declared its
queues), is sent again until it is, or until ``deadline`` seconds have passed
(then ``NotConfirmed``: keep the event in your outbox and try later). Sending again may deliver a
message twice; every consumer of the contract applies by id, so that is safe.

    connection = await connect(url, "branch-1")
    publisher = await Publisher.open(connection)
    await publisher.publish_sale(sale)                # ecomarket.sales (fanout)
    await publisher.publish_sale(sale, direct=True)   # ecomarket.sales.direct, key "central"
    await publisher.publish_customer(customer)        # ecomarket.customers
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from ecomarket import names
from ecomarket.bus.topology import declare_exchanges
from ecomarket.schemas import CustomerIn, SaleIn

logger = logging.getLogger(__name__)

JSON = "application/json"
CONFIRM_SECONDS = 10.0
RETRY_SECONDS = 0.5


class NotConfirmed(Exception):
    """The broker did not confirm a message before the publisher's deadline."""


class Publisher:
    """Publishes on one channel with publisher confirms; retries what is not confirmed."""

    def __init__(
        self, channel: AbstractChannel, exchanges: dict[str, AbstractExchange], deadline: float
    ) -> None:
        self.channel = channel
        self.exchanges = exchanges
        self.deadline = deadline

    @classmethod
    async def open(cls, connection: AbstractRobustConnection, deadline: float = 60.0) -> Publisher:
        """A publisher on a new confirming channel of ``connection``; declares the exchanges."""
        # on_return_raises: a mandatory message that no queue took raises PublishError,
        # so it is retried like an unconfirmed one instead of being dropped quietly.
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchanges = await declare_exchanges(channel)
        exchanges[""] = channel.default_exchange  # straight to a named queue (replays)
        return cls(channel, exchanges, deadline)

    async def close(self) -> None:
        """Close the publisher's channel (the connection stays open)."""
        if not self.channel.is_closed:
            await self.channel.close()

    async def publish(
        self,
        exchange: str,
        body: bytes,
        *,
        message_id: str,
        routing_key: str = "",
        type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        mandatory: bool = True,
    ) -> None:
        """Publish one persistent JSON message and wait for the broker's confirm."""
        message = aio_pika.Message(
            body,
            message_id=message_id,
            type=type,
            headers=dict(headers or {}),
            content_type=JSON,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        give_up = time.monotonic() + self.deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                # Exchanges of a robust channel are restored after a reconnect, so the
                # same object is good for every attempt.
                await self.exchanges[exchange].publish(
                    message, routing_key, mandatory=mandatory, timeout=CONFIRM_SECONDS
                )
                if attempt > 1:
                    logger.info("message %s confirmed after %s attempts", message_id, attempt)
                return
            except (*CONNECTION_EXCEPTIONS, TimeoutError) as exc:
                if time.monotonic() > give_up:
                    raise NotConfirmed(f"message {message_id} to {exchange}: {exc!r}") from exc
                logger.warning(
                    "message %s to %s not confirmed (%r); sending again", message_id, exchange, exc
                )
                await asyncio.sleep(RETRY_SECONDS)

    async def publish_sale(self, sale: SaleIn, *, direct: bool = False) -> None:
        """Report a sale: the fanout exchange, or point to point to the central."""
        body = sale.model_dump_json().encode()
        if direct:
            await self.publish(
                names.SALES_DIRECT_EXCHANGE,
                body,
                message_id=str(sale.sale_id),
                routing_key=names.SALES_DIRECT_KEY,
            )
        else:
            await self.publish(names.SALES_EXCHANGE, body, message_id=str(sale.sale_id))

    async def publish_customer(self, customer: CustomerIn) -> None:
        """Report a customer registered at a branch (``customer.registered``)."""
        await self.publish(
            names.CUSTOMERS_EXCHANGE,
            customer.model_dump_json().encode(),
            message_id=str(customer.customer_id),
            type=names.EVENT_CUSTOMER_REGISTERED,
        )
