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

A new month -- no stored reading of the file's enterprises in its days, the
usual case -- is written once, not twice, when the caller can restart the
file's chunks (``imon collect`` does): each chunk straight into
``electricity_account_reading`` under a savepoint, rows of unknown accounts set
aside in memory and counted by the same rules, the enterprise-day sums folded in
memory chunk by chunk and written once at the end (:class:`_DaySums`; a file of
more enterprise-days than ``_MAX_MEMORY_SUMS`` is summed in SQL from its rows),
the unusual-reading check comparing the file's own rows with the accounts'
history outside its days.  A key met twice (the table's key
refuses it) or stored readings of the file's enterprises in its days roll back
to the savepoint, and the file is read again through the staging table; the
counts, warnings and stored values are the same either way
(``tests/test_ingest_direct.py``).

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
import itertools
import queue
import threading
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from collectors.base import Issue
from collectors.electricity import FeedChunk

from ..store import electricity as staging
from ..store.electricity import STAGING

__all__ = ["ingest_electricity", "FeedResult", "STAGING"]

_MAX_ISSUES_PER_RULE = 10_000
#: A reading this many times the account's mean of its stored readings (last 90 days) is flagged.
_UNUSUAL_FACTOR = 20.0
#: Rows of unknown accounts the direct path holds in memory; a file with more takes the staged path.
_MAX_DIRECT_UNKNOWN = 200_000
#: Enterprise-day sums the direct path folds in memory (16 bytes each, twice that while a chunk is merged in);
#: a file with more has its sums summed in SQL from the rows written.
_MAX_MEMORY_SUMS = 8_000_000


@dataclass
class FeedResult:
    """What ingesting one feed did: rows read and rejected (exact), rows changed, the issues kept."""

    read: int = 0
    rejected: int = 0
    changed: int = 0
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _tally(result: FeedResult, kept: dict[str, int], chunk: FeedChunk) -> None:
    """Add one chunk's rows read, rejects and rule counts to ``result``, keeping at most
    ``_MAX_ISSUES_PER_RULE`` example issues per rule (``kept``: examples kept so far)."""
    for issue in chunk.issues:
        if kept.get(issue.rule, 0) < _MAX_ISSUES_PER_RULE:
            kept[issue.rule] = kept.get(issue.rule, 0) + 1
            result.issues.append(issue)
    for rule, n in (chunk.counts or {}).items():
        result.counts[rule] = result.counts.get(rule, 0) + n
    result.rejected += chunk.rejected
    result.read += len(chunk.rows) + chunk.rejected


def _unlisted(file_name: str, result: FeedResult) -> None:
    """One summary issue per rule for the rejected rows beyond the examples listed."""
    for rule, n in sorted(result.counts.items()):
        listed = sum(1 for i in result.issues if i.rule == rule)
        if n > listed:
            result.issues.append(Issue(file_name, rule, f"{n - listed:,} more rows rejected under rule "
                                       f"{rule} (not listed; {n:,} in all)", field=None, value=str(n - listed)))


def ingest_electricity(conn: Connection, chunks: object, source_id: int, *, file_name: str,
                       progress: Callable[[int], None] | None = None) -> FeedResult:
    """Stream a feed into the store; the caller owns the transaction.

    Parameters
    ----------
    conn
        Connection inside the file's transaction.
    chunks
        Iterator of :class:`collectors.electricity.FeedChunk`, or a function that returns a new one from the
        file's start each time it is called: the file is then first tried on the direct path (written straight
        into the readings, see :func:`_ingest_direct`) and read again through the staging table only when that
        path does not apply.
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
    if callable(chunks):
        try:
            with conn.begin_nested():
                return _ingest_direct(conn, chunks(), source_id, file_name=file_name, progress=progress)
        except staging.DirectRefused:  # rolled back to the savepoint: the staged path, from the file's start
            chunks = chunks()
    staging.create_staging(conn)
    result = FeedResult()
    kept: dict[str, int] = {}
    with closing(_read_ahead(chunks)) as ahead, staging.staging_writer(conn) as stage:  # type: ignore[arg-type]
        for chunk in ahead:
            stage(chunk.rows)
            _tally(result, kept, chunk)
            if progress:
                progress(result.read)
    staging.finish_staging(conn)
    streamed = FeedResult(result.read, result.rejected, 0, list(result.issues), dict(result.counts))
    while True:
        result = FeedResult(streamed.read, streamed.rejected, 0, list(streamed.issues), dict(streamed.counts))
        try:
            _rejects(conn, file_name, result)
            _unlisted(file_name, result)
            result.issues += _soft_checks(conn, file_name)
            changed = staging.merge_staging(conn, source_id)
        except staging.RepeatedKeys:  # PostgreSQL, a file repeating a key: one row per key, then check again
            staging.group_staging(conn)
            continue
        result.changed = max(changed, 0)
        return result


def _ingest_direct(conn: Connection, chunks: Iterable[FeedChunk], source_id: int, *, file_name: str,
                   progress: Callable[[int], None] | None) -> FeedResult:
    """A file whose enterprises have no stored readings in its days (a new month, the usual case), written
    straight into ``electricity_account_reading`` chunk by chunk, without the staging table; the caller holds a
    savepoint.  Rows of unknown accounts are set aside in memory (at most ``_MAX_DIRECT_UNKNOWN``) and counted
    by the same rules as the staged path.  Raises :class:`staging.DirectRefused` when the path does not apply:
    a key repeated among the mapped accounts' rows (within a chunk or across chunks: refused by the table's key), too many rows of unknown accounts, or stored readings of the file's enterprises in its days
    (checked on the first chunk before anything is written, and for the whole file at the end)."""
    amap = staging.account_map(conn).sort_index()  # positions in the map: the store's key order of accounts
    names = amap.index.to_numpy(dtype=object)
    enterprise_of = amap.to_numpy().astype(np.int64)
    seen = np.zeros(len(amap), dtype=bool)  # the mapped accounts met in the file
    result = FeedResult()
    kept: dict[str, int] = {}
    unknown: list[pd.DataFrame] = []
    n_unknown = 0
    span: tuple[dt.date, dt.date] | None = None
    written = 0
    sums: _DaySums | None = _DaySums(_MAX_MEMORY_SUMS)

    def take(chunk: FeedChunk) -> tuple[pd.DataFrame, np.ndarray, int]:
        """The chunk's rows of mapped accounts in key order (account, day), with their account numbers as the
        map's own strings, and the chunk's rows read; the rest set aside, the sums folded in."""
        nonlocal n_unknown, span, sums
        rows = chunk.rows
        _tally(result, kept, chunk)
        lines = len(rows) + chunk.rejected
        if rows.empty:
            return rows, names[:0], lines
        day = rows["day"].to_numpy().astype("datetime64[D]")
        first, last = day.min().item(), day.max().item()
        span = (first, last) if span is None else (min(span[0], first), max(span[1], last))
        where = amap.index.get_indexer(rows["account_no"])
        known = where >= 0
        if not known.all():
            n_unknown += int((~known).sum())
            if n_unknown > _MAX_DIRECT_UNKNOWN:
                raise staging.DirectRefused("many rows of unknown accounts")
            unknown.append(rows.loc[~known, ["account_no", "day", "kwh", "source_row"]])
            rows, where, day = rows.loc[known], where[known], day[known]
        key = (where.astype(np.int64) << 20) | (day.astype(np.int64) + (1 << 19))
        if len(key) > 1 and not bool(np.all(key[1:] >= key[:-1])):  # B-tree pages in order (a file in key
            order = np.argsort(key, kind="stable")  # order is taken as it comes)
            rows, where, day = rows.take(order), where[order], day[order]
        seen[where] = True
        if sums is not None and not sums.add(enterprise_of[where], day, rows["kwh"].to_numpy(float)):
            sums = None  # more enterprise-days than memory allows: summed in SQL from the rows written
        return rows, names[where], lines

    # ``take`` runs in the reader thread (its numpy work mostly without the GIL, beside the driver's); what it
    # keeps (counts, set-aside rows, the sums) is read here only after the reader has stopped
    with closing(_read_ahead(chunks, take)) as ahead:
        pending = list(itertools.islice(ahead, 1))
        if pending and len(pending[0][0]):  # a file that is not new shows on its first chunk, before any write
            first_accounts = pd.unique(pending[0][1]).tolist()  # in key order: sorted
            day = pending[0][0]["day"].to_numpy().astype("datetime64[D]")
            staging.finish_direct(conn, source_id, first_accounts, (day.min().item(), day.max().item()), sums=False)
        done = sum(item[2] for item in pending)  # rows read of the chunks handed over (the reader is ahead)
        if progress and pending:
            progress(done)
        with staging.direct_writer(conn, source_id) as write:
            for rows, account_nos, _ in pending:
                write(rows, account_nos)
                written += len(rows)
            pending.clear()
            for rows, account_nos, lines in ahead:
                write(rows, account_nos)
                written += len(rows)
                done += lines
                if progress:
                    progress(done)
    accounts = names[seen].tolist()  # sorted
    staging.finish_direct(conn, source_id, accounts, span, sums=sums is None)
    if sums is not None:
        staging.write_day_sums(conn, source_id, *sums.result())
    _unknown_rejects(file_name, pd.concat(unknown) if unknown else None, result)
    _unlisted(file_name, result)
    if span is not None and accounts:
        unusual = staging.unusual_direct(conn, source_id, span, since=span[0] - dt.timedelta(days=90),
                                         factor=_UNUSUAL_FACTOR, limit=_MAX_ISSUES_PER_RULE)
        result.issues += _unusual_issues(file_name, unusual)
    staging.drop_direct(conn)
    result.changed = written
    return result


class _DaySums:
    """Enterprise-day sums of a file, folded chunk by chunk in memory: a sorted array of int64 keys (enterprise
    id and day) and one of sums.  A chunk is summed per key (in file order), then merged in: the sums of keys
    already held are added to, new keys inserted in order.  The sum of a key is thus its rows' kWh added up in
    the file's order, as SQL's ``SUM`` adds them up in its scan's order (equal to the last few bits)."""

    _DAY_BITS = 20  # days since 1970 offset by half of 2**20: 1970 -/+ 1435 years (the parser keeps 1678-2261)

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.keys = np.empty(0, dtype=np.int64)
        self.sums = np.empty(0, dtype=np.float64)

    def add(self, enterprise_ids: np.ndarray, days: np.ndarray, kwh: np.ndarray) -> bool:
        """Fold a chunk's rows in; False (and the arrays dropped) when the file has more than ``limit`` keys."""
        if not len(kwh):
            return True
        offset = days.astype("datetime64[D]").astype(np.int64) + (1 << (self._DAY_BITS - 1))
        key = (enterprise_ids.astype(np.int64) << self._DAY_BITS) | offset
        part_keys: np.ndarray
        part_sums: np.ndarray
        if key.size > 1 and bool(np.all(key[1:] > key[:-1])):  # one row per key, in key order (a sorted file)
            part_keys, part_sums = key, kwh.astype(np.float64)
        else:
            part_keys, inverse = np.unique(key, return_inverse=True)
            part_sums = np.bincount(inverse.ravel(), weights=kwh, minlength=len(part_keys))
        at = np.searchsorted(self.keys, part_keys)
        held = at < len(self.keys)
        held[held] = self.keys[at[held]] == part_keys[held]
        self.sums[at[held]] += part_sums[held]
        new = ~held
        if new.any():
            if len(self.keys) + int(new.sum()) > self.limit:
                self.keys, self.sums = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
                return False
            self.keys = np.insert(self.keys, at[new], part_keys[new])
            self.sums = np.insert(self.sums, at[new], part_sums[new])
        return True

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Enterprise ids, days (datetime64[D]) and sums, in key order."""
        days = self.keys & ((1 << self._DAY_BITS) - 1)
        days -= 1 << (self._DAY_BITS - 1)
        firms = self.keys
        firms >>= self._DAY_BITS  # in place: the keys are done with
        self.keys = np.empty(0, dtype=np.int64)
        return firms, days.view("datetime64[D]"), self.sums


def _unknown_rejects(file_name: str, rows: pd.DataFrame | None, result: FeedResult) -> None:
    """The rejects of the rows of unknown accounts set aside by the direct path, by the staged path's rules: a
    key given twice with different kWh rejects each of its rows as a conflict, the other rows as unknown."""
    if rows is None or rows.empty:
        return
    keys = rows.groupby(["account_no", "day"], sort=False).agg(
        low=("kwh", "min"), high=("kwh", "max"), first=("source_row", "min"), last=("source_row", "max"),
        n=("kwh", "size")).reset_index()
    conflict = (keys["low"] != keys["high"]).to_numpy()
    keys["day"] = np.datetime_as_string(keys["day"].to_numpy().astype("datetime64[D]"), unit="D")
    plain = keys.loc[~conflict].sort_values("first", kind="stable").head(_MAX_ISSUES_PER_RULE)
    for account, row in zip(plain["account_no"].tolist(), plain["first"].tolist(), strict=True):
        result.issues.append(Issue(file_name, "unknown_account", f"account {account} is not mapped to an "
                                   "enterprise (load the utility's account map first)", row=int(row),
                                   field="account_no", value=str(account)))
    clash = keys.loc[conflict].sort_values("first", kind="stable").head(_MAX_ISSUES_PER_RULE // 2)
    for account, day, first, last in clash[["account_no", "day", "first", "last"]].itertuples(index=False):
        for row in sorted({int(first), int(last)}):
            result.issues.append(Issue(file_name, "duplicate_conflict", f"account {account} on {day} appears "
                                       "more than once with different kWh; every such row rejected", row=row,
                                       field="kwh", value=str(account)))
    for rule, n in (("unknown_account", int(keys["n"].to_numpy()[~conflict].sum())),
                    ("duplicate_conflict", int(keys["n"].to_numpy()[conflict].sum()))):
        if n:
            result.counts[rule] = result.counts.get(rule, 0) + n
            result.rejected += n


def _read_ahead(chunks: Iterable[FeedChunk], prepare: Callable[[FeedChunk], Any] | None = None) -> Generator[Any, None, None]:
    """The chunks (or what ``prepare`` makes of each), read and checked by a worker thread one chunk ahead of the
    caller, so that parsing the next chunk overlaps with the database storing this one (at most three chunks in
    memory: the one being stored, one waiting, one being read).  An exception of the reader (or of ``prepare``)
    is raised here, in order; when the caller stops early (an error, an interrupt) the reader stops after its
    current chunk, and has stopped when the generator is closed."""
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
                if not put(chunk if prepare is None else prepare(chunk)):
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


def _unusual_issues(file_name: str, unusual: list[tuple[Any, ...]]) -> list[Issue]:
    return [Issue(file_name, "unusual_kwh", f"account {account} on {day}: {kwh:,.0f} kWh is more than "
                  f"{_UNUSUAL_FACTOR:g} times its usual {mean:,.0f} kWh a day; check the unit and the "
                  "decimal point", "warning", row=int(row), field="kwh", value=f"{kwh:g}")
            for account, day, kwh, row, mean in unusual]


def _soft_checks(conn: Connection, file_name: str) -> list[Issue]:
    """Warnings: readings far above the account's stored history, and stored readings this file changes."""
    issues: list[Issue] = []
    first = staging.first_staged_day(conn)
    if first is None:
        return issues
    issues += _unusual_issues(file_name, staging.unusual_readings(
        conn, since=first - dt.timedelta(days=90), factor=_UNUSUAL_FACTOR, limit=_MAX_ISSUES_PER_RULE))
    n_revised, example = staging.revised_readings(conn)
    if example is not None:
        account, day, old, new, row = example
        issues.append(Issue(file_name, "revised_readings", f"this file changes {n_revised:,} stored "
                            f"reading(s), e.g. account {account} on {day} from {old:g} to {new:g} kWh; if the "
                            "utility did not send a correction, the file may be damaged", "warning", row=int(row),
                            field="kwh", value=str(n_revised)))
    return issues
