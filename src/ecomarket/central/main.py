"""The central instance as it runs in production: HTTP API plus the event consumers."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from ecomarket.central.app import create_app, fastapi_of
from ecomarket.central.redis_queue import redis_queue_service
from ecomarket.central.routes import events
from ecomarket.config import Settings


def build(settings: Settings) -> ASGIApp:
    """The central app with every service that runs beside it."""
    # Every instance drains the Redis queue of branch delivery mode 4, consumers or not.
    services: list[Any] = [redis_queue_service]
    if settings.consumers:
        from ecomarket.bus.central import central_bus

        services.append(central_bus(settings))
    app = create_app(settings, services)
    fastapi_of(app).include_router(events.router)
    return app
