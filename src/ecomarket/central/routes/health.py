"""Liveness, readiness, chain figures and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ecomarket.central.answers import Health, Readiness
from ecomarket.central.deps import Store
from ecomarket.schemas import Stats

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz(request: Request) -> Health:
    """The process is alive."""
    return Health(status="ok", instance=request.app.state.settings.instance)


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "a backing service does not answer"}},
)
async def readyz(request: Request, response: Response) -> Readiness:
    """Ready only when every backing service answers (503 otherwise)."""
    checks = {name: await check() for name, check in request.app.state.readiness.items()}
    if not all(checks.values()):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=all(checks.values()), checks=checks)


@router.get("/api/v1/stats", response_model=Stats)
async def stats(store: Store) -> Stats:
    """Chain-wide figures: products, sales, revenue, customers, duplicates suppressed."""
    return await store.stats()


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics of this instance."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
