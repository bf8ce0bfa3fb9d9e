"""What the other side answered to one outbox row."""

from __future__ import annotations

from dataclasses import dataclass

SENT = "sent"
REJECTED = "rejected"
RETRY = "retry"


@dataclass(frozen=True)
class Verdict:
    """Sent (confirmed), rejected for good, or to be retried later, with the reason."""

    state: str
    reason: str = ""

    @classmethod
    def sent(cls) -> Verdict:
        """The other side confirmed the row."""
        return cls(SENT)

    @classmethod
    def rejected(cls, reason: str) -> Verdict:
        """Refused in a way that retrying cannot mend."""
        return cls(REJECTED, reason)

    @classmethod
    def retry(cls, reason: str) -> Verdict:
        """Not confirmed; the row stays pending."""
        return cls(RETRY, reason)

    @property
    def is_retry(self) -> bool:
        """Whether the row must be tried again."""
        return self.state == RETRY
