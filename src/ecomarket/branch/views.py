"""The branch dashboard: today's sales, stock, the outbox and its delivery mode."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ecomarket.branch import catalogue, till
from ecomarket.branch.modes import DeliveryMode, parse_mode
from ecomarket.branch.routes import BranchDep, outbox_status
from ecomarket.money import from_cents

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(branch: BranchDep) -> HTMLResponse:
    """The branch at a glance, with a form to switch the delivery mode."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def read(conn: Any) -> tuple[tuple[int, int], list[dict[str, Any]]]:
        return till.sales_since(conn, midnight.isoformat()), catalogue.products(conn)

    (sales_today, revenue_cents), products = await branch.db.run(read)
    page = templates.get_template("dashboard.html").render(
        branch_id=branch.config.branch_id,
        sales_today=sales_today,
        revenue_today=from_cents(revenue_cents),
        products=products,
        low_stock=catalogue.LOW_STOCK,
        outbox=await outbox_status(branch),
        modes=list(DeliveryMode),
        catalogue_loaded=branch.sync.loaded.is_set(),
    )
    return HTMLResponse(page)


@router.post("/dashboard/delivery-mode")
async def switch_mode(request: Request, branch: BranchDep) -> Response:
    """Switch the delivery mode from the dashboard's form, then show the dashboard again."""
    form = parse_qs((await request.body()).decode(errors="replace"))
    try:
        mode = parse_mode(form.get("mode", [""])[0])
    except ValueError as exc:
        return HTMLResponse(f"mode {exc}", status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    await branch.dispatcher.set_mode(mode)
    return RedirectResponse("/dashboard", status_code=status.HTTP_303_SEE_OTHER)
