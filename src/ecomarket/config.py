"""Settings read from the environment (prefix ``ECOMARKET_``)."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BRANCH_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class SalesDelivery(StrEnum):
    """How central instances share the sales queue."""

    SHARED = "shared"  # one quorum queue, competing consumers
    BROADCAST = "broadcast"  # one queue per instance, every instance sees every sale


class Settings(BaseSettings):
    """Everything a central instance, a branch or the launcher reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="ECOMARKET_", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    instance: str = "central-1"
    admin_token: str = ""
    # "branch-1:secret1,branch-2:secret2"; kept as text so that the format is the one documented.
    branch_tokens: str = ""
    sales_delivery: SalesDelivery = SalesDelivery.SHARED
    # Whether the central runs its RabbitMQ consumers; tests of the HTTP API alone turn it off.
    consumers: bool = True
    max_body_bytes: int = 64 * 1024
    # Whether the central serves its busiest well-formed requests outside FastAPI
    # (central/fast_path.py); off, every request takes the full FastAPI route.
    fast_path: bool = True

    @field_validator("branch_tokens")
    @classmethod
    def _check_branch_tokens(cls, value: str) -> str:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            branch, sep, secret = pair.partition(":")
            if not sep or not secret or not re.match(BRANCH_ID_PATTERN, branch):
                raise ValueError(
                    "ECOMARKET_BRANCH_TOKENS must look like 'branch-1:secret1,branch-2:secret2'"
                )
        return value

    @cached_property
    def branch_token_map(self) -> dict[str, str]:
        """Branch id for each configured branch token."""
        tokens: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.branch_tokens.split(","))):
            branch, _, secret = pair.partition(":")
            tokens[secret] = branch
        return tokens

    @property
    def branch_ids(self) -> list[str]:
        """The branches named in ``ECOMARKET_BRANCH_TOKENS``, in the order given."""
        return list(self.branch_token_map.values())
