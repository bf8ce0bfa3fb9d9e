"""A circuit breaker for the HTTP delivery with backoff (mode 3).

Closed: requests flow. After ``threshold`` failures in a row it opens: no
request is tried for ``cooldown`` seconds, so a central that is down is not
hammered by every branch at once. Then it is half open: one trial request; its
success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum

logger = logging.getLogger(__name__)


class BreakerState(StrEnum):
    """Where the breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Breaker:
    """Counts consecutive failures and decides whether a request may be tried."""

    def __init__(self, name: str, threshold: int = 5, cooldown: float = 5.0) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """The current state, derived from the failures and the clock."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at < self.cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def allows(self) -> bool:
        """Whether a request may go now (a half-open breaker lets one trial through)."""
        return self.state is not BreakerState.OPEN

    def seconds_to_retry(self) -> float:
        """How long until an open breaker lets a trial through (0 when it already would)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (time.monotonic() - self._opened_at))

    def success(self) -> None:
        """A request succeeded: close the breaker."""
        if self._opened_at is not None:
            logger.info("breaker %s closed after %s failures", self.name, self.failures)
        self.failures = 0
        self._opened_at = None

    def failure(self) -> None:
        """A request failed: open the breaker at the threshold, or again after a failed trial."""
        self.failures += 1
        was_trial = self.state is BreakerState.HALF_OPEN
        if was_trial or self.failures >= self.threshold:
            if not was_trial:
                logger.warning(
                    "breaker %s open after %s failures in a row", self.name, self.failures
                )
            self._opened_at = time.monotonic()
