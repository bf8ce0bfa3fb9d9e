"""This instance's figures: Prometheus metrics, and the heartbeat the dashboard reads."""

from __future__ import annotations

from prometheus_client import Counter

from ecomarket.central.store import Outcome

REQUESTS = Counter("ecomarket_http_requests", "HTTP requests served", ["instance"])
SALES = Counter(
    "ecomarket_sales", "Sales handled by outcome (applied, duplicate, ...)", ["instance", "outcome"]
)


class InstanceFigures:
    """Counts kept by one instance, exported to Prometheus and to the shared heartbeat."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.outcomes: dict[str, int] = {outcome.value: 0 for outcome in Outcome}
        self._served = 0
        self._served_exported = 0

    def count(self, outcome: Outcome, how_many: int = 1) -> None:
        """Count sales (or other exactly-once steps) with this outcome."""
        self.outcomes[outcome.value] += how_many
        SALES.labels(self.instance, outcome.value).inc(how_many)

    def served(self, requests: int) -> None:
        """Take the request count of the ASGI layer (kept there to stay off the hot path)."""
        REQUESTS.labels(self.instance).inc(requests - self._served_exported)
        self._served_exported = self._served = requests

    def snapshot(self) -> dict[str, int]:
        """The figures as the heartbeat stores them."""
        return {"requests": self._served, **self.outcomes}
