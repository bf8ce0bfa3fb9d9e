"""Declares the exchanges of the event contract, idempotently, so that a fresh broker
needs no manual set-up. Queues are declared by the consumer that owns them."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from ecomarket import names

EXCHANGES: dict[str, aio_pika.ExchangeType] = {
    names.SALES_EXCHANGE: aio_pika.ExchangeType.FANOUT,
    names.SALES_DIRECT_EXCHANGE: aio_pika.ExchangeType.DIRECT,
    names.CUSTOMERS_EXCHANGE: aio_pika.ExchangeType.FANOUT,
    names.CATALOGUE_EXCHANGE: aio_pika.ExchangeType.FANOUT,
    names.DEAD_EXCHANGE: aio_pika.ExchangeType.FANOUT,
}


async def declare_exchanges(channel: AbstractChannel) -> dict[str, AbstractExchange]:
    """Declare every exchange of the contract (durable) and return them by name."""
    return {
        name: await channel.declare_exchange(name, kind, durable=True)
        for name, kind in EXCHANGES.items()
    }
