"""Database locks: named rows of ``scheduler_lock`` with an owner, a heartbeat and an expiry.

Every lock of the platform lives here: the scheduler's own (:data:`SCHEDULER_LOCK`, one scheduler per store) and
the locks that keep a piece of work from overlapping itself across processes (an alert scan holds
``alerts_scan``).  A holder renews its lock by a heartbeat; a lock whose holder stopped renewing it for its TTL (a
crash) is taken over.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..exceptions import LockBusy, SchedulerLockedError
from . import models as m
from .core import Store

__all__ = ["SCHEDULER_LOCK", "LockBusy", "acquire_lock", "exclusive", "new_owner", "release_lock", "renew_lock",
           "take_lock"]

log = logging.getLogger(__name__)
_LOCK: Table = m.SchedulerLock.__table__  # type: ignore[assignment]

#: The scheduler's own lock: one scheduler per store.
SCHEDULER_LOCK = "scheduler"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def new_owner() -> str:
    """A lock owner id: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take_lock(store: Store, name: str, owner: str, ttl: dt.timedelta, now: dt.datetime | None = None
              ) -> dict[str, Any] | None:
    """Take the lock ``name`` for ``owner`` (taking over an expired one); None when taken, else the live holder."""
    now = now or _now()
    with store.begin() as conn:
        row = conn.execute(select(_LOCK).where(_LOCK.c.name == name)).mappings().first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(_LOCK.insert().values(name=name, owner=owner, acquired_at=now,
                                                       heartbeat_at=now, expires_at=now + ttl))
                return None
            except IntegrityError:
                row = conn.execute(select(_LOCK).where(_LOCK.c.name == name)).mappings().first()
                if row is None:  # taken and given up in between: try again later
                    return {"owner": "?", "acquired_at": now, "heartbeat_at": now, "expires_at": now}
        if row["owner"] != owner and row["expires_at"] > now:
            return dict(row)
        taken = conn.execute(update(_LOCK).where(and_(_LOCK.c.name == name, _LOCK.c.owner == row["owner"],
                                                      _LOCK.c.heartbeat_at == row["heartbeat_at"]))
                             .values(owner=owner, acquired_at=now, heartbeat_at=now, expires_at=now + ttl))
        if taken.rowcount != 1:  # someone else took it over at the same moment
            return {**dict(row), "owner": "another process"}
        if row["owner"] != owner:
            log.warning("took over a stale lock %s", name, extra={"lock": name, "previous_owner": row["owner"],
                                                                  "expired_at": str(row["expires_at"])})
    return None


def acquire_lock(store: Store, owner: str, ttl: dt.timedelta, *, now: dt.datetime | None = None) -> None:
    """Take the scheduler lock of ``store`` for ``owner``, taking over a stale one.

    Raises
    ------
    SchedulerLockedError
        Another live scheduler holds it.
    """
    holder = take_lock(store, SCHEDULER_LOCK, owner, ttl, now or _now())
    if holder is not None:
        raise SchedulerLockedError(
            f"another scheduler ({holder['owner']}) already runs on this store (since {holder['acquired_at']}, last "
            f"heartbeat {holder['heartbeat_at']}); stop it first, or if it crashed wait until its lock expires at "
            f"{holder['expires_at']} (schedule.lock_ttl)", name=SCHEDULER_LOCK, holder=holder)


def renew_lock(store: Store, owner: str, ttl: dt.timedelta, *, name: str = SCHEDULER_LOCK) -> bool:
    """Extend the lock; False when ``owner`` no longer holds it."""
    now = _now()
    with store.begin() as conn:
        done = conn.execute(update(_LOCK).where(and_(_LOCK.c.name == name, _LOCK.c.owner == owner))
                            .values(heartbeat_at=now, expires_at=now + ttl))
        return done.rowcount == 1


def release_lock(store: Store, owner: str, *, name: str = SCHEDULER_LOCK) -> None:
    """Give the lock up (only ``owner``'s)."""
    with store.begin() as conn:
        conn.execute(delete(_LOCK).where(and_(_LOCK.c.name == name, _LOCK.c.owner == owner)))


@contextmanager
def exclusive(store: Store, name: str, ttl: dt.timedelta, *, wait: float = 0.0, poll: float = 0.5,
              on_wait: Callable[[dict[str, Any]], None] | None = None) -> Iterator[str]:
    """Hold the database lock ``name`` for the block.

    Waits up to ``wait`` seconds for a live holder to let go; a heartbeat renews the lock every ``ttl / 4`` so a
    long block keeps it, and a crashed holder's lock expires after ``ttl``.  Yields the owner id.

    Raises
    ------
    LockBusy
        Still held by another owner after ``wait`` seconds (``holder`` is its row).
    """
    owner = new_owner()
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while (holder := take_lock(store, name, owner, ttl)) is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockBusy(f"the database lock {name!r} is held by {holder['owner']} (since {holder['acquired_at']});"
                           f" retry when it is released, or after it expires at {holder['expires_at']}",
                           name=name, holder=holder)
        if on_wait is not None and not told:
            on_wait(holder)
            told = True
        time.sleep(min(poll, left))
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(max(ttl.total_seconds() / 4, 0.5)):
            try:
                if not renew_lock(store, owner, ttl, name=name):
                    log.error("lock %s lost (taken over after expiry)", name, extra={"lock": name})
                    return
            except Exception:
                log.exception("lock %s heartbeat failed; retrying", name)

    thread = threading.Thread(target=beat, name=f"imon-lock-{name}", daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        stop.set()
        thread.join(5)
        release_lock(store, owner, name=name)
