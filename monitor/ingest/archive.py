"""The utility feed into the Parquet archive as well, file by file (issue 20).

With the archive configured (:func:`archive_enabled`: ``electricity.archive`` set, or ``compute.engine =
dask``), ``imon collect`` writes each feed file's readings to the archive too, so that the Dask engine
computes from what was collected.  The archive is the store's copy: what goes in are the store's
enterprise-day sums (``electricity_reading``) of the enterprises the file's accounts belong to over the file's
days -- the very rows the ingest recomputes -- read inside the file's transaction after the merge.

The order of events makes the archive follow the store and never get ahead of a file the store refused:

1. before the transaction, a crash's leftovers are repaired (:func:`monitor.store.archive.recover_pending`);
2. while the file streams, its accounts and its first and last day are noted (:meth:`FeedArchive.watch`);
3. after the merge, still inside the transaction, the archive lock is taken and every touched (month, region)
   partition's new content is written to a pending folder with a journal (:meth:`FeedArchive.prepare`);
4. after the store's commit, the pending files replace the partitions, one atomic rename each, and the lock is
   released (:meth:`FeedArchive.__exit__`); if the transaction rolls back (a bad file, a dry run, an error),
   the pending folder is dropped and the archive is untouched.

A crash between 4's commit and the renames leaves the journal: the next collect (or the compute stage's
:func:`monitor.engine.electricity.sync_archive`) rebuilds the partitions it names from the store.  The same
file collected again (``--force``) writes the same rows; a corrected file replaces the enterprise-days it
corrects and leaves the others as they were.  An archive still empty while the store holds readings is first
filled with all of them (in the same step 3), so the archive never holds half a month.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from collectors.electricity import FeedChunk

from ..settings import Settings
from ..store import Store
from ..store import archive as store_archive

__all__ = ["FeedArchive", "archive_enabled", "feed_archive"]

log = logging.getLogger(__name__)


def archive_enabled(settings: Settings) -> bool:
    """Whether collected feeds go to the Parquet archive: ``electricity.archive`` is set or ``compute.engine``
    is ``dask`` (which reads the archive)."""
    return bool(settings["electricity.archive"]) or settings["compute.engine"] == "dask"


class FeedArchive:
    """One feed file's way into the archive, around the file's transaction (module docstring).

    Use as the outer context of the transaction (``with feed_archive(...) as archived, store.begin() as
    conn:``), so that it is left after the commit.  Inactive (every method a no-op) without an archive.

    Parameters
    ----------
    store
        The store (repairs read it).
    root
        The archive folder, or None for none.
    """

    def __init__(self, store: Store, root: Path | None) -> None:
        self.store = store
        self.root = root
        self.accounts: set[str] = set()
        self.first: dt.date | None = None
        self.last: dt.date | None = None
        self.partitions = 0
        self._pending: Path | None = None
        self._lock: Any = None

    def __enter__(self) -> FeedArchive:
        if self.root is not None and (self.root / store_archive.PENDING).is_dir():
            with store_archive.archive_lock(self.root):
                repaired = store_archive.recover_pending(self.store, self.root)
            if repaired:
                log.warning("electricity archive: %d partition(s) left by an interrupted collect rebuilt from the "
                            "store", repaired)
        return self

    def watch(self, chunks: Iterable[FeedChunk]) -> Iterator[FeedChunk]:
        """Pass the file's chunks through, noting the accounts and the first and last day of their rows."""
        for chunk in chunks:
            rows = chunk.rows
            if self.root is not None and len(rows):
                self.accounts.update(pd.unique(rows["account_no"].astype(str)))
                days = rows["day"].to_numpy().astype("datetime64[D]")
                lo, hi = (dt.date.fromisoformat(str(d)) for d in (days.min(), days.max()))
                self.first = lo if self.first is None else min(self.first, lo)
                self.last = hi if self.last is None else max(self.last, hi)
            yield chunk

    def prepare(self, conn: Connection) -> None:
        """Inside the transaction, after the merge: stage the new content of the partitions the file touches."""
        if self.root is None or self.first is None or self.last is None or not self.accounts:
            return
        enterprises = store_archive.feed_enterprises(conn, sorted(self.accounts))
        if not enterprises:
            return
        self._lock = store_archive.archive_lock(self.root)
        self._lock.__enter__()
        try:
            if store_archive.has_readings(self.root):
                readings = store_archive.enterprise_readings(conn, enterprises, self.first, self.last)
                whole = False
            else:  # a first file, or an archive configured after readings were collected: all of the store
                readings = store_archive.all_readings(conn)
                whole = True
            if len(readings):
                self._pending = store_archive.stage_partitions(readings, self.root, whole=whole)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._pending is not None:
            store_archive.discard_partitions(self._pending)
            self._pending = None
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None and self._pending is not None and self.root is not None:
                pending, self._pending = self._pending, None
                try:
                    self.partitions = store_archive.publish_partitions(pending, self.root)
                except OSError as exc:  # the store has committed: the journal stays for the repair
                    log.warning("electricity archive: the file's partitions could not be published (%s); they "
                                "are rebuilt from the store by the next collect or compute", exc)
        finally:
            self._release()


def feed_archive(store: Store, settings: Settings, *, active: bool = True) -> FeedArchive:
    """The :class:`FeedArchive` of one file: active when ``active`` (a feed file, not a dry run) and
    :func:`archive_enabled`."""
    if not active or not archive_enabled(settings):
        return FeedArchive(store, None)
    return FeedArchive(store, store_archive.archive_dir(settings))
