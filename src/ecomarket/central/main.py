"""The central instance as it runs in production: HTTP API plus the event consumers."""

from __future__ import annotations

from starlette.types import ASGIApp

from ecomarket.central.app import create_app
from ecomarket.config import Settings


def build(settings: Settings) -> ASGIApp:
    """The central app with every service that runs beside it."""
    return create_app(settings)
