"""The central's two customer groups on ``ecomarket.customers``.

Each group has its own durable queue, so each gets every ``customer.registered``
event and works at its own pace:

- notifications records the welcome message of each customer, exactly once
  (sending real mail is a later setting; recording is what it does today);
- statistics counts each customer exactly once, and adds the customer to the
  central's register. The register is the central's books, as the count is, so
  the group that keeps the books does both; a customer posted over HTTP as well
  is a duplicate there and changes nothing.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from aio_pika.abc import AbstractIncomingMessage

from ecomarket import names
from ecomarket.bus.consumer import ACK, QueueSpec, Verdict, dead, quorum_arguments, read_body
from ecomarket.central.store import CentralStore, digest
from ecomarket.schemas import CustomerIn

logger = logging.getLogger(__name__)

BINDINGS = [(names.CUSTOMERS_EXCHANGE, "")]
NOTIFICATIONS = QueueSpec(names.NOTIFICATIONS_QUEUE, BINDINGS, 64, quorum_arguments())
STATISTICS = QueueSpec(names.STATISTICS_QUEUE, BINDINGS, 64, quorum_arguments())


def read_customer(message: AbstractIncomingMessage) -> CustomerIn | Verdict:
    """The customer in a ``customer.registered`` message, or why it cannot be read."""
    if message.type not in (None, names.EVENT_CUSTOMER_REGISTERED):
        return dead("unknown_type", f"type {message.type!r}")
    return read_body(CustomerIn, message.body)


def welcome(customer: CustomerIn) -> str:
    """The welcome message of a new customer."""
    return f"Welcome to EcoMarket, {customer.name}! Your card works in every one of our shops."


class CustomerHandler(ABC):
    """Reads each ``customer.registered`` message and takes one exactly-once step for it.

    A message that cannot be read gets its dead-letter verdict; every other one is
    acknowledged once its step is stored (a repeat is a stored duplicate).
    """

    def __init__(self, store: CentralStore) -> None:
        self.store = store

    async def __call__(self, batch: list[AbstractIncomingMessage]) -> list[Verdict]:
        """One verdict per message, in order."""
        verdicts: list[Verdict] = []
        for message in batch:
            customer = read_customer(message)
            if isinstance(customer, Verdict):
                verdicts.append(customer)
                continue
            await self.take(customer)
            verdicts.append(ACK)
        return verdicts

    @abstractmethod
    async def take(self, customer: CustomerIn) -> None:
        """The group's own step for one customer."""


class NotificationsHandler(CustomerHandler):
    """Records one welcome message per customer."""

    async def take(self, customer: CustomerIn) -> None:
        """Record the welcome message, once per customer id."""
        payload = customer.model_dump(mode="json")
        body = {**payload, "message": welcome(customer), "channel": "recorded"}
        result = await self.store.record_once(
            names.NOTIFICATION, names.NOTIFICATION_LEDGER, names.NOTIFICATION_SEQ,
            str(customer.customer_id), body, digest(payload), names.COUNTER_NOTIFICATIONS,
        )  # fmt: skip
        logger.info(
            "welcome message for customer %s of %s: %s on %s",
            customer.customer_id, customer.branch_id, result.outcome, self.store.instance,
        )  # fmt: skip


class StatisticsHandler(CustomerHandler):
    """Registers each customer and counts it, once per customer id."""

    async def take(self, customer: CustomerIn) -> None:
        """Add the customer to the register and count it, once per customer id."""
        # Two exactly-once steps: after a crash between them the redelivery finds
        # the first done (a duplicate) and completes the second.
        await self.store.register_customer(customer)
        payload = customer.model_dump(mode="json")
        result = await self.store.record_once(
            names.CUSTOMER_STATS_SEEN, names.CUSTOMER_STATS_LEDGER, names.CUSTOMER_STATS_SEQ,
            str(customer.customer_id), payload, digest(payload),
            names.COUNTER_CUSTOMERS_COUNTED,
        )  # fmt: skip
        logger.info(
            "customer %s of %s counted: %s on %s",
            customer.customer_id, customer.branch_id, result.outcome, self.store.instance,
        )  # fmt: skip
