"""The central's sales consumer: sales reported through RabbitMQ, applied once each.

By default every instance consumes the one shared quorum queue ``central.sales``
(competing consumers: more instances, more throughput). In the broadcast layout
each instance has its own queue and gets every sale; the atomic apply makes only
the first application count and the others are counted as duplicates suppressed.
"""

from __future__ import annotations

import logging

from aio_pika.abc import AbstractIncomingMessage

from ecomarket import names
from ecomarket.bus.consumer import ACK, QueueSpec, Verdict, dead, quorum_arguments, read_body, retry
from ecomarket.central.metrics import InstanceFigures
from ecomarket.central.store import CentralStore, Outcome, Result
from ecomarket.config import SalesDelivery, Settings
from ecomarket.schemas import SaleIn

logger = logging.getLogger(__name__)

VERSION_HEADER = "x-schema-version"
SUPPORTED_VERSIONS = {1}
# A broadcast queue outlives its instance for a day (restarts, upgrades), then goes.
BROADCAST_QUEUE_EXPIRES_MS = 24 * 3600 * 1000


def sales_queue(settings: Settings) -> QueueSpec:
    """The sales queue of this instance in the configured delivery layout."""
    bindings = [
        (names.SALES_EXCHANGE, ""),
        (names.SALES_DIRECT_EXCHANGE, names.SALES_DIRECT_KEY),
    ]
    if settings.sales_delivery is SalesDelivery.BROADCAST:
        return QueueSpec(
            names.CENTRAL_SALES_BROADCAST_QUEUE + settings.instance,
            bindings,
            arguments=quorum_arguments(expires_ms=BROADCAST_QUEUE_EXPIRES_MS),
        )
    return QueueSpec(names.CENTRAL_SALES_QUEUE, bindings, arguments=quorum_arguments())


def read_sale(message: AbstractIncomingMessage) -> SaleIn | Verdict:
    """The sale in a message, or the dead-letter verdict saying why there is none."""
    version = (message.headers or {}).get(VERSION_HEADER, 1)
    if version not in SUPPORTED_VERSIONS:
        return dead("unknown_version", f"{VERSION_HEADER}={version!r}")
    return read_body(SaleIn, message.body)


class SalesHandler:
    """Validates a batch of sale messages and applies the valid ones in one round trip."""

    def __init__(self, store: CentralStore, figures: InstanceFigures) -> None:
        self.store = store
        self.figures = figures

    async def __call__(self, batch: list[AbstractIncomingMessage]) -> list[Verdict]:
        """One verdict per message, in order."""
        verdicts: list[Verdict] = [ACK] * len(batch)
        sales: list[SaleIn] = []
        positions: list[int] = []
        for position, message in enumerate(batch):
            sale = read_sale(message)
            if isinstance(sale, Verdict):
                verdicts[position] = sale
            else:
                sales.append(sale)
                positions.append(position)

        results = await self.store.apply_sales(sales)

        for position, sale, result in zip(positions, sales, results, strict=True):
            verdicts[position] = self._verdict(sale, result)
        return verdicts

    def _verdict(self, sale: SaleIn, result: Result | Exception) -> Verdict:
        instance = self.store.instance
        if isinstance(result, Exception):
            logger.error(
                "sale %s of %s failed on %s: %r", sale.sale_id, sale.branch_id, instance, result
            )
            return retry(repr(result))
        self.figures.count(result.outcome)
        if result.outcome is Outcome.APPLIED:
            logger.debug("sale %s of %s applied on %s", sale.sale_id, sale.branch_id, instance)
            return ACK
        if result.outcome is Outcome.DUPLICATE:
            logger.warning(
                "sale %s of %s already applied: duplicate suppressed on %s",
                sale.sale_id, sale.branch_id, instance,
            )  # fmt: skip
            return ACK
        logger.warning(
            "sale %s of %s not applied on %s: %s", sale.sale_id, sale.branch_id, instance,
            result.outcome,
        )  # fmt: skip
        if result.outcome is Outcome.UNKNOWN_PRODUCT:
            return dead("unknown_product", f"no product {result.body} in the catalogue")
        return dead("conflict", "sale id already used for a different sale; the first is kept")
