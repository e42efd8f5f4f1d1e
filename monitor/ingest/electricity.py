"""Ingest the utility's feed: stream chunks through a staging table, then upsert in SQL.

For a file of tens of millions of rows memory stays flat: each validated chunk
goes to a temporary staging table keyed by (account, day), which also catches
duplicates within the file (the same account and day with different kWh
rejects both).  Then, in the same transaction:

1. rows of accounts not in ``electricity_account`` are rejected;
2. the rest are upserted into ``electricity_account_reading`` (unchanged rows
   are not touched, so the same file twice changes nothing);
3. the enterprise-day sums in ``electricity_reading`` are recomputed for the
   enterprises and days the file touched.

The SQL is in :mod:`monitor.store.electricity`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from collectors.base import Issue
from collectors.electricity import FeedChunk

from ..store import electricity as staging
from ..store.electricity import STAGING

__all__ = ["ingest_electricity", "STAGING"]

_MAX_ISSUES_PER_RULE = 10_000


def _stage(conn: Connection, chunk: FeedChunk) -> None:
    rows = chunk.rows
    if rows.empty:
        return
    days = rows["day"].dt.strftime("%Y-%m-%d").tolist()
    staging.stage_rows(conn, list(zip(rows["account_no"].tolist(), days, rows["kwh"].tolist(),
                                      rows["source_row"].tolist(), strict=True)))


def ingest_electricity(conn: Connection, chunks: object, source_id: int, *, file_name: str,
                       progress: Callable[[int], None] | None = None) -> tuple[int, int, list[Issue]]:
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
    (rows_read, rows_changed, issues)
    """
    staging.create_staging(conn)
    issues: list[Issue] = []
    read = 0
    for chunk in chunks:  # type: ignore[attr-defined]
        _stage(conn, chunk)
        issues.extend(chunk.issues[:_MAX_ISSUES_PER_RULE])
        read += len(chunk.rows) + len(chunk.issues)
        if progress:
            progress(read)
    staging.finish_staging(conn)
    issues += _rejects(conn, file_name)
    changed = staging.merge_staging(conn, source_id)
    return read, changed, issues


def _rejects(conn: Connection, file_name: str) -> list[Issue]:
    issues = []
    for account, _day, row in staging.unknown_accounts(conn, _MAX_ISSUES_PER_RULE):
        issues.append(Issue(file_name, "unknown_account", f"account {account} is not mapped to an enterprise "
                            "(load the utility's account map first)", row=int(row), field="account_no",
                            value=str(account)))
    for account, day, first, last in staging.conflicting_rows(conn, _MAX_ISSUES_PER_RULE):
        for row in sorted({int(first), int(last)}):
            issues.append(Issue(file_name, "duplicate_conflict", f"account {account} on {day} appears more than "
                                "once with different kWh; both rows rejected", row=row, field="kwh",
                                value=str(account)))
    return issues
