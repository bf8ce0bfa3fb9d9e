"""Selling and registering customers at the till: each is one SQLite transaction.

The functions here run on the database's writer thread (see ``db.py``); each
one records its fact, moves the stock and writes the outbox row together, so
a sale is either wholly recorded and queued for the central, or not at all.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecomarket.money import from_cents

SALE = "sale"
CUSTOMER = "customer"


class TillError(Exception):
    """A sale or registration the till refuses, with the HTTP status and the field at fault."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StockShort(TillError):
    """Not enough of a product on the shelves."""

    status = 409


class UnknownProduct(TillError):
    """A product the branch's catalogue does not have."""

    status = 404


class PaidTooLittle(TillError):
    """The customer paid less than the total."""

    status = 422


class EmailTaken(TillError):
    """A customer with this email is already registered at this branch."""

    status = 409


@dataclass(frozen=True)
class LineIn:
    """One line as the till sends it: a product and a quantity."""

    product_id: int
    quantity: int


def now_iso() -> str:
    """The current UTC time as ISO 8601 text with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def queue_event(conn: sqlite3.Connection, kind: str, ref_id: str, body: dict[str, Any]) -> None:
    """Write an outbox row for the dispatcher, in the caller's transaction."""
    conn.execute(
        "INSERT INTO outbox (kind, ref_id, body, created_at) VALUES (?, ?, ?, ?)",
        (kind, ref_id, _dumps(body), now_iso()),
    )


def record_sale(
    conn: sqlite3.Connection, branch_id: str, lines: list[LineIn], paid_cents: int
) -> str:
    """Price the lines, check and lower the stock, record the sale and queue it; the receipt.

    The receipt comes back as JSON text, the very text stored, so that the till's
    answer costs no second serialisation.
    """
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity

    # Price and check everything before writing anything.
    priced: dict[int, tuple[str, int]] = {}
    for index, (product_id, quantity) in enumerate(wanted.items()):
        row = conn.execute(
            "SELECT p.name, p.price_cents, COALESCE(s.quantity, 0) AS on_hand FROM product p "
            "LEFT JOIN stock s USING (product_id) WHERE p.product_id = ? AND p.deleted = 0",
            (product_id,),
        ).fetchone()
        if row is None:
            raise UnknownProduct(f"lines.{index}.product_id", f"no product {product_id}")
        if row["on_hand"] < quantity:
            raise StockShort(
                "lines",
                f"product {product_id} ({row['name']}): {row['on_hand']} in stock, "
                f"{quantity} wanted",
            )
        priced[product_id] = (row["name"], row["price_cents"])

    total = sum(priced[line.product_id][1] * line.quantity for line in lines)
    if paid_cents < total:
        raise PaidTooLittle(
            "paid", f"{from_cents(paid_cents)} is below the total {from_cents(total)}"
        )

    sale_id = str(uuid.uuid4())
    sold_at = now_iso()
    for product_id, quantity in wanted.items():
        conn.execute(
            "UPDATE stock SET quantity = quantity - ? WHERE product_id = ?", (quantity, product_id)
        )
    receipt = {
        "sale_id": sale_id,
        "branch_id": branch_id,
        "sold_at": sold_at,
        "lines": [
            {
                "product_id": line.product_id,
                "name": priced[line.product_id][0],
                "quantity": line.quantity,
                "unit_price": from_cents(priced[line.product_id][1]),
                "amount": from_cents(priced[line.product_id][1] * line.quantity),
            }
            for line in lines
        ],
        "total": from_cents(total),
        "paid": from_cents(paid_cents),
        "change": from_cents(paid_cents - total),
    }
    receipt_json = _dumps(receipt)
    conn.execute(
        "INSERT INTO sale (sale_id, sold_at, total_cents, paid_cents, receipt) "
        "VALUES (?, ?, ?, ?, ?)",
        (sale_id, sold_at, total, paid_cents, receipt_json),
    )
    # The central's POST /api/v1/sales body: what was sold, at which price, when.
    central_body = {
        "sale_id": sale_id,
        "branch_id": branch_id,
        "sold_at": sold_at,
        "lines": [
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": from_cents(priced[line.product_id][1]),
            }
            for line in lines
        ],
    }
    queue_event(conn, SALE, sale_id, central_body)
    return receipt_json


def register_customer(
    conn: sqlite3.Connection, branch_id: str, email: str, name: str
) -> dict[str, Any]:
    """Record a new customer (email unique at this branch) and queue customer.registered."""
    customer_id = str(uuid.uuid4())
    registered_at = now_iso()
    try:
        conn.execute(
            "INSERT INTO customer (customer_id, email, name, registered_at) VALUES (?, ?, ?, ?)",
            (customer_id, email.lower(), name, registered_at),
        )
    except sqlite3.IntegrityError:
        raise EmailTaken("email", f"{email} is already registered at {branch_id}") from None
    body = {"customer_id": customer_id, "email": email, "name": name, "branch_id": branch_id}
    queue_event(conn, CUSTOMER, customer_id, body)
    return {**body, "registered_at": registered_at}


def sales_page(conn: sqlite3.Connection, cursor: int | None, limit: int) -> dict[str, Any]:
    """Receipts, newest first; ``next_cursor`` continues the listing."""
    rows = conn.execute(
        "SELECT seq, receipt FROM sale WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        (cursor if cursor is not None else 2**62, limit + 1),
    ).fetchall()
    items = [json.loads(row["receipt"]) for row in rows[:limit]]
    next_cursor = str(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def sales_since(conn: sqlite3.Connection, since_iso: str) -> tuple[int, int]:
    """Number of sales and their total in cents since a moment (ISO text, UTC)."""
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM sale WHERE sold_at >= ?",
        (since_iso,),
    ).fetchone()
    return int(row[0]), int(row[1])
