"""The dashboard: the cluster at a glance, rendered on the server.

The page reloads only its ``/dashboard/panel`` fragment every few seconds. Every
figure on it comes from a bounded read (one page of products, the latest sales,
counters), so that it costs the same with a million sales in the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ecomarket import names
from ecomarket.central.deps import Store

router = APIRouter(tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

PRODUCTS_SHOWN = 100
SALES_SHOWN = 15
LOW_STOCK = 5

# Extra panels (queue depths, outbox backlogs, ...) that other parts register:
# each returns a mapping merged into the template's context.
Panel = Callable[[Request], Awaitable[dict[str, Any]]]


async def _context(request: Request, store: Store) -> dict[str, Any]:
    products = json.loads(await store.products_page(0, PRODUCTS_SHOWN))["items"]
    sales = json.loads(await store.page(names.SALE_LEDGER, names.SALE, None, SALES_SHOWN))
    stats = await store.stats()
    branches = sorted({b for p in products for b in p["stock"]["branches"]} | set(stats.branches))
    context: dict[str, Any] = {
        "instance": store.instance,
        "stats": stats,
        "products": products,
        "branches": branches,
        "sales": sales["items"],
        "instances": await store.instances(),
        "low_stock": LOW_STOCK,
        "panels": {},
    }
    extra: list[Panel] = getattr(request.app.state, "dashboard_panels", [])
    for panel in extra:
        context["panels"].update(await panel(request))
    return context


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, store: Store) -> HTMLResponse:
    """The whole dashboard page."""
    return templates.TemplateResponse(request, "dashboard.html", await _context(request, store))


@router.get("/dashboard/panel", response_class=HTMLResponse)
async def dashboard_panel(request: Request, store: Store) -> HTMLResponse:
    """The part of the dashboard that refreshes itself."""
    return templates.TemplateResponse(request, "panel.html", await _context(request, store))
