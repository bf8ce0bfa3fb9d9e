"""The six delivery modes of a branch's outbox, by name and by number."""

from __future__ import annotations

from enum import StrEnum


class DeliveryMode(StrEnum):
    """How the dispatcher sends outbox rows to the central."""

    HTTP_DIRECT = "http-direct"
    HTTP_RETRY = "http-retry"
    HTTP_BACKOFF = "http-backoff"
    REDIS_QUEUE = "redis-queue"
    RABBIT_DIRECT = "rabbit-direct"
    RABBIT_FANOUT = "rabbit-fanout"

    @property
    def number(self) -> int:
        """The mode's number, 1 to 6."""
        return list(DeliveryMode).index(self) + 1

    @property
    def is_http(self) -> bool:
        """Whether rows go to the central's HTTP API."""
        return self in (self.HTTP_DIRECT, self.HTTP_RETRY, self.HTTP_BACKOFF)

    @property
    def is_rabbit(self) -> bool:
        """Whether rows are published to RabbitMQ."""
        return self in (self.RABBIT_DIRECT, self.RABBIT_FANOUT)


DEFAULT_MODE = DeliveryMode.RABBIT_FANOUT


def parse_mode(value: str | int) -> DeliveryMode:
    """A mode from its name or its number (1 to 6, as text or integer); ValueError otherwise."""
    text = str(value).strip()
    if text.isdigit() and 1 <= int(text) <= len(DeliveryMode):
        return list(DeliveryMode)[int(text) - 1]
    try:
        return DeliveryMode(text)
    except ValueError:
        choices = ", ".join(m.value for m in DeliveryMode)
        raise ValueError(f"must be one of {choices} or a number from 1 to 6") from None
