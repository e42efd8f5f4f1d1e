"""Ingest the utility's feed: stream chunks through a staging table, then upsert in SQL.

For a file of tens of millions of rows memory stays flat: each validated chunk
goes to a staging table with one row per (account, day), which also catches
duplicates within the file (the same account and day with different kWh
rejects both; on PostgreSQL the rows are copied as they come and folded per key
only when the file turns out to repeat one, and the checks below then run
again).  Then, in the same transaction:

1. rows of accounts not in ``electricity_account`` are rejected;
2. the rest are upserted into ``electricity_account_reading`` (unchanged rows
   are not touched, so the same file twice changes nothing) -- plainly
   inserted when the store holds no reading of the file's enterprises in its
   days (a new month);
3. the enterprise-day sums in ``electricity_reading`` are recomputed for the
   enterprises and days the file touched (summed from the staged rows for a
   new month).

The file is read and checked one chunk ahead in a worker thread, so that
parsing overlaps with the database's work.

Counts are exact: every line is counted once, under the first rule it breaks;
at most ``_MAX_ISSUES_PER_RULE`` rejects per rule are stored as examples and the
rest are summarised in one line per rule.  Two soft checks add warnings: a
reading far above the account's stored history (``unusual_kwh``), and stored
readings this file changes (``revised_readings``: a damaged or edited file
never overwrites values silently).

The SQL is in :mod:`monitor.store.electricity`.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from collectors.base import Issue
from collectors.electricity import FeedChunk

from ..store import electricity as staging
from ..store.electricity import STAGING

__all__ = ["ingest_electricity", "FeedResult", "STAGING"]

_MAX_ISSUES_PER_RULE = 10_000
#: A reading this many times the account's mean of its stored readings (last 90 days) is flagged.
_UNUSUAL_FACTOR = 20.0


@dataclass
class FeedResult:
    """What ingesting one feed did: rows read and rejected (exact), rows changed, the issues kept."""

    read: int = 0
    rejected: int = 0
    changed: int = 0
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def ingest_electricity(conn: Connection, chunks: object, source_id: int, *, file_name: str,
                       progress: Callable[[int], None] | None = None) -> FeedResult:
    """Stream a feed into the store; the caller owns the transaction.

    Parameters
    ----------
    conn
        Connection inside the file's transaction.
    chunks
        Iterator of :class:`collectors.electricity.FeedChunk`.
    source_id
        The file's ``ingest_source`` id.
    file_name
        For messages.
    progress
        Called with the number of rows read so far.

    Returns
    -------
    FeedResult
        Rows read and rejected (exact), rows changed, the issues kept (examples capped per rule, with one
        summary line per rule for the rest) and the rejected rows per rule.
    """
    staging.create_staging(conn)
    result = FeedResult()
    kept: dict[str, int] = {}
    with closing(_read_ahead(chunks)) as ahead, staging.staging_writer(conn) as stage:  # type: ignore[arg-type]
        for chunk in ahead:
            stage(chunk.rows)
            for issue in chunk.issues:
                if kept.get(issue.rule, 0) < _MAX_ISSUES_PER_RULE:
                    kept[issue.rule] = kept.get(issue.rule, 0) + 1
                    result.issues.append(issue)
            for rule, n in (chunk.counts or {}).items():
                result.counts[rule] = result.counts.get(rule, 0) + n
            result.rejected += chunk.rejected
            result.read += len(chunk.rows) + chunk.rejected
            if progress:
                progress(result.read)
    staging.finish_staging(conn)
    streamed = FeedResult(result.read, result.rejected, 0, list(result.issues), dict(result.counts))
    while True:
        result = FeedResult(streamed.read, streamed.rejected, 0, list(streamed.issues), dict(streamed.counts))
        try:
            _rejects(conn, file_name, result)
            for rule, n in sorted(result.counts.items()):
                listed = sum(1 for i in result.issues if i.rule == rule)
                if n > listed:
                    result.issues.append(Issue(file_name, rule, f"{n - listed:,} more rows rejected under rule "
                                               f"{rule} (not listed; {n:,} in all)", field=None, value=str(n - listed)))
            result.issues += _soft_checks(conn, file_name)
            changed = staging.merge_staging(conn, source_id)
        except staging.RepeatedKeys:  # PostgreSQL, a file repeating a key: one row per key, then check again
            staging.group_staging(conn)
            continue
        result.changed = max(changed, 0)
        return result


def _read_ahead(chunks: Iterable[FeedChunk]) -> Generator[FeedChunk, None, None]:
    """The chunks, read and checked by a worker thread one chunk ahead of the caller, so that parsing the next
    chunk overlaps with the database storing this one (at most three chunks in memory: the one being stored, one
    waiting, one being read).  An exception of the reader is raised here, in order; when the caller stops early
    (an error, an interrupt) the reader stops after its current chunk."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        iterator = iter(chunks)
        try:
            for chunk in iterator:
                if not put(chunk):
                    return
            put(end)
        except BaseException as exc:  # handed to the caller, which raises it
            put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=read, name="imon-feed-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _rejects(conn: Connection, file_name: str, result: FeedResult) -> None:
    """Rows rejected against the store and across the file: each row once (a conflicting key of an unknown
    account counts as a conflict), counted in full, listed up to the cap."""
    conflicts, unknown_n = staging.reject_counts(conn)
    for account, _day, row in staging.unknown_accounts(conn, _MAX_ISSUES_PER_RULE) if unknown_n else ():
        result.issues.append(Issue(file_name, "unknown_account", f"account {account} is not mapped to an "
                                   "enterprise (load the utility's account map first)", row=int(row),
                                   field="account_no", value=str(account)))
    for account, day, first, last in staging.conflicting_rows(conn, _MAX_ISSUES_PER_RULE // 2) if conflicts else ():
        for row in sorted({int(first), int(last)}):
            result.issues.append(Issue(file_name, "duplicate_conflict", f"account {account} on {day} appears "
                                       "more than once with different kWh; every such row rejected", row=row,
                                       field="kwh", value=str(account)))
    for rule, n in (("unknown_account", unknown_n), ("duplicate_conflict", conflicts)):
        if n:
            result.counts[rule] = result.counts.get(rule, 0) + n
            result.rejected += n


def _soft_checks(conn: Connection, file_name: str) -> list[Issue]:
    """Warnings: readings far above the account's stored history, and stored readings this file changes."""
    issues: list[Issue] = []
    first = staging.first_staged_day(conn)
    if first is None:
        return issues
    unusual = staging.unusual_readings(conn, since=first - dt.timedelta(days=90), factor=_UNUSUAL_FACTOR,
                                       limit=_MAX_ISSUES_PER_RULE)
    for account, day, kwh, row, mean in unusual:
        issues.append(Issue(file_name, "unusual_kwh", f"account {account} on {day}: {kwh:,.0f} kWh is more than "
                            f"{_UNUSUAL_FACTOR:g} times its usual {mean:,.0f} kWh a day; check the unit and the "
                            "decimal point", "warning", row=int(row), field="kwh", value=f"{kwh:g}"))
    n_revised, example = staging.revised_readings(conn)
    if example is not None:
        account, day, old, new, row = example
        issues.append(Issue(file_name, "revised_readings", f"this file changes {n_revised:,} stored "
                            f"reading(s), e.g. account {account} on {day} from {old:g} to {new:g} kWh; if the "
                            "utility did not send a correction, the file may be damaged", "warning", row=int(row),
                            field="kwh", value=str(n_revised)))
    return issues
