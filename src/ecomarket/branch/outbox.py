"""Queries on the outbox: what to send next, what was confirmed, what was set aside."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ecomarket.branch.till import now_iso


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting for the central: a sale or a customer, with its JSON body."""

    seq: int
    kind: str
    ref_id: str
    body: str


def pending(conn: sqlite3.Connection, limit: int) -> list[OutboxRow]:
    """The oldest rows not yet confirmed, in the order they were written."""
    rows = conn.execute(
        "SELECT seq, kind, ref_id, body FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [OutboxRow(row[0], row[1], row[2], row[3]) for row in rows]


def mark_sent(conn: sqlite3.Connection, seqs: list[int], mode: str) -> None:
    """Record that the other side confirmed these rows."""
    moment = now_iso()
    conn.executemany(
        "UPDATE outbox SET state = 'sent', sent_at = ?, sent_mode = ?, attempts = attempts + 1 "
        "WHERE seq = ? AND state = 'pending'",
        [(moment, mode, seq) for seq in seqs],
    )


def mark_rejected(conn: sqlite3.Connection, seq: int, reason: str) -> None:
    """Set a row aside for good: the central refused it in a way retrying cannot mend."""
    conn.execute(
        "UPDATE outbox SET state = 'rejected', reason = ?, attempts = attempts + 1 "
        "WHERE seq = ? AND state = 'pending'",
        (reason[:500], seq),
    )


def note_failure(conn: sqlite3.Connection, seq: int, reason: str) -> None:
    """Count a failed attempt on a row that stays pending."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, reason = ? WHERE seq = ?", (reason[:500], seq)
    )


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows by state: pending, sent, rejected."""
    found = dict.fromkeys(("pending", "sent", "rejected"), 0)
    for state, number in conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
        found[state] = number
    return found


def rejected(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The rows set aside, newest first, with the reason the central gave."""
    rows = conn.execute(
        "SELECT seq, kind, ref_id, reason, created_at FROM outbox WHERE state = 'rejected' "
        "ORDER BY seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [dict(row) for row in rows]


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    """A stored branch setting, or None."""
    row = conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def put_setting(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Store a branch setting (it survives a restart)."""
    conn.execute(
        "INSERT INTO setting (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
