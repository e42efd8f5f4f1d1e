"""Engines for the store: SQLite files (WAL, foreign keys on) and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ..exceptions import ConfigError, StoreUnreachableError
from ..settings import mask_url

__all__ = ["create_store_engine", "is_busy", "BUSY_TIMEOUT_MS"]


#: How long a writer waits for another process's write to finish before it is told "busy, retry" (exit 75).
BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3

    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.OperationalError:
        pass  # a read-only store (file, folder or mode=ro): reads work in the journal mode it has
    cur.close()


def is_busy(exc: BaseException) -> bool:
    """True for "another process holds the write lock" errors (SQLite busy, PostgreSQL lock timeout)."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    return any(s in text for s in ("database is locked", "database table is locked", "lock timeout",
                                   "could not obtain lock"))


def _read_only_sqlite(database: str) -> bool:
    """An existing SQLite file this process cannot write (the file or its folder, where the WAL goes)."""
    path = Path(database).expanduser()
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def create_store_engine(url: str, *, echo: bool = False, check: bool = True) -> Engine:
    """Create an engine for ``url`` and, by default, check that it answers.

    SQLite files get their folder created, write-ahead logging, foreign keys
    and a busy timeout; PostgreSQL URLs are used as they are.

    Parameters
    ----------
    url
        SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``).
    echo
        Log SQL statements.
    check
        Open one connection now so an unreachable server fails here, with a
        clear message, rather than in the middle of a stage.

    Raises
    ------
    ConfigError
        The URL is malformed or names a driver that is not installed.
    StoreUnreachableError
        The database cannot be reached.
    """
    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"store.url {shown!r} is not a database URL; write sqlite:///path/to/file.sqlite "
            "or postgresql+psycopg://user@host/dbname"
        ) from None
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:") and _read_only_sqlite(database):
            # read commands work on a store file that cannot be written (a copy, a read-only mount)
            parsed = parsed.set(database=f"file:{Path(database).expanduser().resolve()}?mode=ro",
                                query={**parsed.query, "uri": "true"})
        elif database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnreachableError(
                    f"cannot create the folder of the SQLite store {database!r} ({exc.strerror}); "
                    "set store.url or data_dir to a writable place"
                ) from None
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(
            f"store.url {shown!r} names a driver that is not installed; for PostgreSQL install the "
            "extra with `pip install industry-monitor[postgres]` and use postgresql+psycopg://"
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"store.url {shown!r} needs the Python module {exc.name!r}; install it "
            "(for PostgreSQL: `pip install industry-monitor[postgres]`)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnreachableError(
                f"cannot reach the store {shown!r}: {reason}; check store.url / IMON_DATABASE_URL "
                "and that the server is running"
            ) from None
    return engine
