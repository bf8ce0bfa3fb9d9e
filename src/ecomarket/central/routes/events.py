"""What the event consumers leave to read: welcome messages and dead letters."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from ecomarket import names
from ecomarket.central.answers import Problem
from ecomarket.central.auth import Admin
from ecomarket.central.deps import Cursor, Limit, Store, json_response

router = APIRouter(prefix="/api/v1", tags=["events"])

DeadLetterId = Path(pattern=r"^[0-9a-f]{20}$", description="dead_letter_id of the listing")


@router.get("/notifications")
async def list_notifications(store: Store, limit: Limit = 50, cursor: Cursor = None) -> Response:
    """List the welcome messages recorded for new customers, newest first."""
    page = await store.page(names.NOTIFICATION_LEDGER, names.NOTIFICATION, cursor, limit)
    return json_response(page)


@router.get("/dead-letters")
async def list_dead_letters(store: Store, limit: Limit = 50, cursor: Cursor = None) -> Response:
    """List the messages that could not be applied, with their reason, newest first."""
    page = json.loads(await store.page(names.DEAD_LETTER_LEDGER, names.DEAD_LETTER, cursor, limit))
    ids = [item["dead_letter_id"] for item in page["items"]]
    replayed = await store.redis.hmget(names.DEAD_LETTER_REPLAYED, ids) if ids else []
    for item, when in zip(page["items"], replayed, strict=True):
        item["replayed_at"] = when.decode() if isinstance(when, bytes) else when
    return json_response(json.dumps(page))


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        404: {"model": Problem, "description": "no such dead letter"},
        503: {"model": Problem, "description": "the broker is not connected"},
    },
)
async def replay_dead_letter(
    request: Request, store: Store, _admin: Admin, dead_letter_id: str = DeadLetterId
) -> dict[str, object]:
    """Send a dead letter back to the queue it died in (admin); it dies again if still bad."""
    from ecomarket.bus.deadletter import replay

    bus = getattr(request.app.state, "bus", None)
    if bus is None or bus.publisher is None or not await bus.ready():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the broker is not connected")
    replayed = await replay(store, bus.publisher, dead_letter_id)
    if replayed is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"dead_letter_id: no dead letter {dead_letter_id}"
        )
    return replayed
