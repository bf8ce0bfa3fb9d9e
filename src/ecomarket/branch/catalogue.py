"""The branch's copy of the catalogue and its own stock, kept in step with the central.

Stock of a product at the branch is the sum of the movements the central made
for this branch (each applied once, by movement id) minus the branch's own
sales, which is exactly how the central counts it: the two converge once every
sale and every movement has reached the other side.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ecomarket.money import from_cents

LOW_STOCK = 5  # at or below this the dashboard flags a product


def drop_missing(conn: sqlite3.Connection, present: set[int]) -> int:
    """Mark deleted the products a complete catalogue listing no longer has; how many."""
    known = [row[0] for row in conn.execute("SELECT product_id FROM product WHERE deleted = 0")]
    gone = [product_id for product_id in known if product_id not in present]
    conn.executemany("UPDATE product SET deleted = 1 WHERE product_id = ?", [(p,) for p in gone])
    return len(gone)


def product_changed(
    conn: sqlite3.Connection, version: int, product_id: int, name: str, price_cents: int
) -> bool:
    """Apply a product.changed event unless a newer version is already here."""
    cursor = conn.execute(
        "INSERT INTO product (product_id, name, price_cents, version) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, "
        "price_cents = excluded.price_cents, version = excluded.version, deleted = 0 "
        "WHERE excluded.version > product.version",
        (product_id, name, price_cents, version),
    )
    return cursor.rowcount > 0


def product_deleted(conn: sqlite3.Connection, product_id: int, version: int) -> bool:
    """Apply a product.deleted event unless a newer version is already here."""
    cursor = conn.execute(
        "UPDATE product SET deleted = 1, version = ? WHERE product_id = ? AND version <= ?",
        (version, product_id, version),
    )
    return cursor.rowcount > 0


def apply_movement(
    conn: sqlite3.Connection, movement_id: str, product_id: int, quantity: int, reason: str
) -> bool:
    """Move this branch's stock by a movement of the central, once per movement id."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO movement (movement_id, product_id, quantity, reason, applied_at) "
        "VALUES (?, ?, ?, ?, datetime('now'))",
        (movement_id, product_id, quantity, reason),
    )
    if cursor.rowcount == 0:
        return False
    conn.execute(
        "INSERT INTO stock (product_id, quantity) VALUES (?, ?) "
        "ON CONFLICT (product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
        (product_id, quantity),
    )
    return True


def products(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every product of the catalogue copy with the branch's stock, by id."""
    rows = conn.execute(
        "SELECT p.product_id, p.name, p.price_cents, COALESCE(s.quantity, 0) AS stock "
        "FROM product p LEFT JOIN stock s USING (product_id) WHERE p.deleted = 0 "
        "ORDER BY p.product_id"
    ).fetchall()
    return [
        {
            "id": row["product_id"],
            "name": row["name"],
            "price": from_cents(row["price_cents"]),
            "stock": row["stock"],
            "low_stock": row["stock"] <= LOW_STOCK,
        }
        for row in rows
    ]


def stock_levels(conn: sqlite3.Connection) -> dict[int, int]:
    """The branch's stock of every product it ever held (deleted products included)."""
    return {row[0]: row[1] for row in conn.execute("SELECT product_id, quantity FROM stock")}
