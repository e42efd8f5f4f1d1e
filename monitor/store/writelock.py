"""Taking the store's write lock at the start of a write, so that concurrent writers queue instead of failing.

SQLite has one writer at a time.  Python's ``sqlite3`` opens a transaction only at its first data-changing
statement, so a transaction that first reads and later writes can meet a writer that committed in between (its
read is stale, and SQLite refuses it at once, whatever the busy timeout).  :func:`take_write_lock` makes the
first statement of a write transaction one that takes the lock: it waits (up to the busy timeout, after saying
so through ``on_wait``) for the other writer to finish, and everything read after it is current.  On PostgreSQL,
where writers do not block each other this way, a transaction-scoped advisory lock on ``key`` serialises the
writers of the same thing (two collects of the same file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from . import engine
from .engine import is_busy

__all__ = ["take_write_lock"]


def take_write_lock(conn: Connection, keys: Iterable[str] = (), *, on_wait: Callable[[], None] | None = None) -> None:
    """Start ``conn``'s transaction as a writer now.

    Parameters
    ----------
    conn
        A connection inside ``engine.begin()``, before any other statement.
    keys
        What is about to be written (e.g. file digests); PostgreSQL serialises writers of the same keys.
    on_wait
        Called once when another process holds the lock (before waiting for it).

    Raises
    ------
    sqlalchemy.exc.OperationalError
        The lock was not freed within the busy timeout (:func:`monitor.store.engine.is_busy` is true for it).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            conn.exec_driver_sql("DELETE FROM ingest_source WHERE 0 = 1")  # takes the write lock, changes nothing
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            if on_wait is not None:
                on_wait()
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {engine.BUSY_TIMEOUT_MS}")
            conn.exec_driver_sql("DELETE FROM ingest_source WHERE 0 = 1")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {engine.BUSY_TIMEOUT_MS}")
    elif conn.dialect.name == "postgresql":
        for key in sorted(set(keys)):
            number = int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)
            conn.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})
