"""Builds a branch's ASGI application and the services that run beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ecomarket import __version__
from ecomarket.branch import outbox, routes, views
from ecomarket.branch.broker import Broker
from ecomarket.branch.db import Database
from ecomarket.branch.dispatcher import MODE_SETTING, Dispatcher
from ecomarket.branch.http_delivery import HttpDelivery
from ecomarket.branch.modes import DEFAULT_MODE, parse_mode
from ecomarket.branch.queue_delivery import RabbitDelivery, RedisDelivery
from ecomarket.branch.state import Branch, BranchConfig
from ecomarket.branch.sync import CatalogueSync
from ecomarket.branch.till import TillError

logger = logging.getLogger(__name__)


def _field_of(location: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def _till_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TillError)
    if exc.status == 422:
        detail: object = [{"field": exc.field, "msg": exc.message, "type": "value_error"}]
    else:
        detail = f"{exc.field}: {exc.message}"
    return JSONResponse({"detail": detail, "field": exc.field}, status_code=exc.status)


def create_app(config: BranchConfig) -> FastAPI:
    """The branch app: till API, outbox status, dashboard; dispatcher and sync beside it."""
    settings = config.settings
    db = Database(config.db_path)
    broker = Broker(settings.amqp_url, config.branch_id)
    central = httpx.AsyncClient(base_url=config.central_url.rstrip("/"), timeout=10.0)
    http = HttpDelivery(config.central_url, config.token, config.branch_id)
    queue = RedisDelivery(settings.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.open()
        stored = await db.run(lambda conn: outbox.get_setting(conn, MODE_SETTING))
        mode = parse_mode(stored) if stored else DEFAULT_MODE
        dispatcher = Dispatcher(db, config.branch_id, mode, http, queue, RabbitDelivery(broker))
        sync = CatalogueSync(db, config.branch_id, central, broker)
        app.state.branch = Branch(config, db, dispatcher, sync)

        broker.start()
        dispatcher.start()
        follower = asyncio.create_task(sync.run(), name=f"{config.branch_id}-sync")
        logger.info("branch %s started (mode %s, data %s, central %s)",
                    config.branch_id, mode, config.db_path, config.central_url)  # fmt: skip
        try:
            yield
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await dispatcher.stop()
            await broker.stop()
            await http.close()
            await queue.close()
            await central.aclose()
            db.close()
            logger.info("branch %s stopped", config.branch_id)

    app = FastAPI(
        title=f"EcoMarket branch {config.branch_id}",
        version=__version__,
        lifespan=lifespan,
        exception_handlers={RequestValidationError: _validation_error, TillError: _till_error},
    )
    app.include_router(routes.router)
    app.include_router(views.router)
    return app
