"""The branch's SQLite file, written by one thread that commits waiting work together.

Every call runs a function against the single connection on the writer thread.
The thread takes every job waiting in its queue, runs each inside its own
savepoint (so one refused sale never undoes its neighbours), and commits them
with one fsync: a sale is on disk before its answer, yet concurrent tills
share the cost of the sync (group commit).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_GROUP = 256  # jobs per commit; bounds how long the first job of a group waits

SCHEMA = """
CREATE TABLE IF NOT EXISTS product (
    product_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stock (
    product_id INTEGER PRIMARY KEY,
    quantity INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS movement (
    movement_id TEXT PRIMARY KEY,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    reason TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sale (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_id TEXT NOT NULL UNIQUE,
    sold_at TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    paid_cents INTEGER NOT NULL,
    receipt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer (
    customer_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    sent_mode TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, seq);
CREATE TABLE IF NOT EXISTS setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    # The caller may have given up (request cancelled); its result is then dropped.
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class Database:
    """One SQLite file in WAL mode, with every statement run on one writer thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="branch-db", daemon=True)
        self._ready = threading.Event()
        self._open_error: BaseException | None = None

    def open(self) -> None:
        """Start the writer thread and create the tables; raises if the file cannot be used."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            raise self._open_error

    def close(self) -> None:
        """Let the writer finish the jobs already queued, then close the file."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` on the writer thread, committed (durably) before this returns."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is synced at every commit, so an answered sale survives a power cut.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        return conn

    def _work(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # reported to open(), which raises it in the caller
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                group = [first]
                while len(group) < MAX_GROUP:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self._jobs.put(None)  # stop after this group
                        break
                    group.append(job)
                self._commit_group(conn, group)
        finally:
            conn.close()

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Job]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        conn.execute("BEGIN IMMEDIATE")
        for job, _, _ in group:
            conn.execute("SAVEPOINT job")
            try:
                value = job(conn)
            except Exception as exc:
                conn.execute("ROLLBACK TO job")
                outcomes.append((None, exc))
            else:
                outcomes.append((value, None))
            conn.execute("RELEASE job")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            logger.exception("commit of %s jobs failed in %s", len(group), self.path)
            conn.execute("ROLLBACK")
            outcomes = [(None, exc)] * len(group)
        for (_, future, loop), (value, error) in zip(group, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, value, error)
