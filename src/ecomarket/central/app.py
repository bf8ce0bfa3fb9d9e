"""Builds the central's ASGI application."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio as redis
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp

from ecomarket import __version__
from ecomarket.central.answers import Problem
from ecomarket.central.asgi import BodyLimit, ServedBy
from ecomarket.central.fast_path import FastPath
from ecomarket.central.idempotency import Idempotency
from ecomarket.central.metrics import InstanceFigures
from ecomarket.central.routes import customers, dashboard, health, movements, products, sales
from ecomarket.central.store import CentralStore
from ecomarket.config import Settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
STOP_SECONDS = 10.0
STATIC = Path(__file__).parent / "static"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Service(Protocol):
    """Something that runs beside the HTTP server for the life of the instance."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def stop_within(what: str, step: Awaitable[Any], seconds: float = STOP_SECONDS) -> None:
    """Wait for one shutdown step, but never for ever.

    A task cancelled in the middle of a redis-py command can miss its cancellation
    and wait for a reply that never comes (redis/redis-py#2028 and its family);
    a stuck step must not keep the process alive, or supervisord could never
    restart it.
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        logger.warning("%s did not stop within %.0f s; going on without it", what, seconds)
    elif not task.cancelled() and task.exception() is not None:
        logger.warning("%s failed while stopping: %r", what, task.exception())


def field_of(location: tuple[int | str, ...] | list[int | str]) -> str:
    """A dotted field name from a pydantic error location ("lines.0.quantity")."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or str(location[0])


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_problem(error) for error in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    location = list(error["loc"])
    if error["type"] == "json_invalid":
        # Its location is ("body", <character offset>): the field is the body itself.
        where = f" at character {location[1]}" if len(location) > 1 else ""
        reason = error.get("ctx", {}).get("error", "")
        return {
            "field": "body",
            "loc": location,
            "msg": f"{error['msg']}{where}: {reason}".rstrip(": "),
            "type": error["type"],
        }
    return {
        "field": field_of(location),
        "loc": location,
        "msg": error["msg"],
        "type": error["type"],
    }


async def _http_error(request: Request, exc: Exception) -> JSONResponse | Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's "error parsing the body" (a body that is not UTF-8 text, say) names
        # nothing; it is bad input like any other, so it gets the 422 that names the body.
        error = {
            "field": "body",
            "loc": ["body"],
            "msg": "body must be JSON text in UTF-8",
            "type": "json_invalid",
        }
        return JSONResponse({"detail": [error]}, status_code=422)
    if exc.status_code == 405:
        # Starlette's Allow lists the methods of the first route on the path only,
        # and the paths of this API each have several routes.
        allowed = _methods_of(request)
        return JSONResponse(
            {"detail": f"method: {request.method} is not allowed here, only {', '.join(allowed)}"},
            status_code=405,
            headers={"Allow": ", ".join(allowed)},
        )
    return await http_exception_handler(request, exc)


def _methods_of(request: Request) -> list[str]:
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


_TOKEN_ERRORS = {
    "401": "Authorization: missing or unknown token",
    "403": "Authorization or branch_id: this token may not do this",
}


def _declare_token_errors(app: FastAPI) -> None:
    """Declare the 401 and 403 of ``auth.authenticate`` on every operation that needs a token.

    The check is a dependency, and FastAPI declares no answers for dependencies; doing it
    here covers every router, including those that ``main.build`` adds later.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        spec.setdefault("components", {}).setdefault("schemas", {}).setdefault("Problem", problem)
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in spec["paths"].values():
            for operation in operations.values():
                if operation.get("security"):
                    for code, description in _TOKEN_ERRORS.items():
                        answer = {"description": description, "content": content}
                        operation["responses"].setdefault(code, answer)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


async def _heartbeat(store: CentralStore, figures: InstanceFigures, served_by: ServedBy) -> None:
    while True:
        figures.served(served_by.requests)
        try:
            await store.heartbeat(figures.snapshot())
        except redis.RedisError:
            logger.warning("heartbeat of %s not stored: Redis unavailable", store.instance)
        await asyncio.sleep(HEARTBEAT_SECONDS)


def create_app(
    settings: Settings | None = None,
    services: list[Callable[[FastAPI], Service]] | None = None,
) -> ASGIApp:
    """The central app for one instance; ``services`` are started with it, in order."""
    settings = settings or Settings()
    # No socket timeout: with one, redis-py wraps every send in asyncio.wait_for, a new
    # task per command, which cost a third of each Redis call's CPU here. A Redis that
    # dies resets its connections and fails calls at once; one that hangs shows in
    # /readyz, whose ping has its own timeout.
    client = redis.Redis.from_url(settings.redis_url, max_connections=256, socket_timeout=None)
    store = CentralStore(client, settings.instance)
    figures = InstanceFigures(settings.instance)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.admin_token:
            logger.warning(
                "no admin token: catalogue and stock writes are refused until "
                "ECOMARKET_ADMIN_TOKEN is set"
            )
        running = [factory(app) for factory in services or []]
        for service in running:
            await service.start()
        beat = asyncio.create_task(_heartbeat(store, figures, served_by))
        logger.info("instance %s started (Redis %s)", settings.instance, settings.redis_url)
        try:
            yield
        finally:
            beat.cancel()
            await stop_within("heartbeat", beat)
            for service in reversed(running):
                await stop_within(type(service).__name__, service.stop())
            await stop_within("Redis calls in flight", store.pipeline.aclose())
            await stop_within("Redis client", client.aclose())
            logger.info("instance %s stopped", settings.instance)

    app = FastAPI(
        title="EcoMarket central",
        version=__version__,
        lifespan=lifespan,
        exception_handlers={
            RequestValidationError: _validation_error,
            StarletteHTTPException: _http_error,
        },
    )
    _declare_token_errors(app)
    app.state.settings = settings
    app.state.store = store
    app.state.figures = figures
    readiness: dict[str, Callable[[], Awaitable[bool]]] = {"redis": _redis_ready(client)}
    app.state.readiness = readiness
    for module in (products, sales, movements, customers, health, dashboard):
        app.include_router(module.router)

    # Idempotency sits inside BodyLimit so that it never buffers an oversized body, and
    # the fast path inside Idempotency so that a keyed POST is replayed before it runs.
    routes: ASGIApp = FastPath(app, store, settings, figures) if settings.fast_path else app
    stack = BodyLimit(Idempotency(routes, client), settings.max_body_bytes)
    served_by = ServedBy(stack, settings.instance)
    return served_by


def _redis_ready(client: redis.Redis) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            return bool(await asyncio.wait_for(client.ping(), timeout=1.0))
        except (redis.RedisError, OSError, TimeoutError):
            return False

    return check


def fastapi_of(app: Any) -> FastAPI:
    """The FastAPI app inside the middleware stack that ``create_app`` returns."""
    while not isinstance(app, FastAPI):
        app = app.app
    return app
