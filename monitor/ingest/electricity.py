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

Counts are exact: every line is counted once, under the first rule it breaks;
at most ``_MAX_ISSUES_PER_RULE`` rejects per rule are stored as examples and the
rest are summarised in one line per rule.  Two soft checks add warnings: a
reading far above the account's stored history (``unusual_kwh``), and stored
readings this file changes (``revised_readings``: a damaged or edited file
never overwrites values silently).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from collectors.base import Issue
from collectors.electricity import FeedChunk

__all__ = ["ingest_electricity", "FeedResult", "STAGING"]

STAGING = "imon_stage_electricity"
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


def _create_staging(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # sorts and hash aggregates of large files in memory
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING}_raw (account_no VARCHAR(40), day DATE, kwh DOUBLE PRECISION,"
                             " source_row INTEGER) ON COMMIT DROP")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (account_no VARCHAR(40), day DATE, kwh DOUBLE PRECISION, "
                             "source_row INTEGER, last_row INTEGER, conflict INTEGER, n INTEGER, "
                             "PRIMARY KEY (account_no, day)) ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (account_no TEXT, day DATE, kwh REAL, source_row INTEGER, "
                             "last_row INTEGER, conflict INTEGER DEFAULT 0, n INTEGER DEFAULT 1, "
                             "PRIMARY KEY (account_no, day)) WITHOUT ROWID")


def _stage(conn: Connection, chunk: FeedChunk) -> None:
    rows = chunk.rows
    if rows.empty:
        return
    days = rows["day"].dt.strftime("%Y-%m-%d").tolist()
    values = list(zip(rows["account_no"].tolist(), days, rows["kwh"].tolist(), rows["source_row"].tolist()))
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {STAGING}_raw (account_no, day, kwh, source_row) FROM STDIN") as copy:
                buf = io.StringIO()
                for a, d, k, r in values:
                    buf.write(f"{a}\t{d}\t{k!r}\t{r}\n")
                copy.write(buf.getvalue())
        return
    conn.exec_driver_sql(
        f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row) VALUES (?, ?, ?, ?, ?4) "
        f"ON CONFLICT (account_no, day) DO UPDATE SET conflict = CASE WHEN {STAGING}.kwh <> excluded.kwh "
        f"THEN 1 ELSE {STAGING}.conflict END, last_row = excluded.source_row, n = {STAGING}.n + 1",
        values,
    )


def _fold_postgres_staging(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row, conflict, n) "
        f"SELECT account_no, day, MIN(kwh), MIN(source_row), MAX(source_row), "
        f"CASE WHEN MAX(kwh) <> MIN(kwh) THEN 1 ELSE 0 END, COUNT(*) FROM {STAGING}_raw GROUP BY account_no, day "
        "ORDER BY account_no, day")  # inserting in key order appends to the index instead of scattering
    conn.exec_driver_sql(f"ANALYZE {STAGING}")  # temporary tables have no statistics until analysed


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
    _create_staging(conn)
    result = FeedResult()
    kept: dict[str, int] = {}
    for chunk in chunks:  # type: ignore[attr-defined]
        _stage(conn, chunk)
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
    if conn.dialect.name == "postgresql":
        _fold_postgres_staging(conn)
    _rejects(conn, file_name, result)
    for rule, n in sorted(result.counts.items()):
        listed = sum(1 for i in result.issues if i.rule == rule)
        if n > listed:
            result.issues.append(Issue(file_name, rule, f"{n - listed:,} more rows rejected under rule {rule} "
                                       f"(not listed; {n:,} in all)", field=None, value=str(n - listed)))
    result.issues += _soft_checks(conn, file_name)
    changed = conn.exec_driver_sql(
        "INSERT INTO electricity_account_reading (account_no, day, kwh, source_id, source_row) "
        f"SELECT s.account_no, s.day, s.kwh, {int(source_id)}, s.source_row FROM {STAGING} s "
        "JOIN electricity_account a ON a.account_no = s.account_no WHERE s.conflict = 0 "
        "ORDER BY s.account_no, s.day "
        "ON CONFLICT (account_no, day) DO UPDATE SET kwh = excluded.kwh, source_id = excluded.source_id, "
        "source_row = excluded.source_row WHERE electricity_account_reading.kwh <> excluded.kwh"
    ).rowcount
    # Enterprise-day sums over all of an enterprise's accounts, for the enterprises and the day range the file
    # touched (a range scan on the primary key rather than a join on every staged key).
    span = conn.exec_driver_sql(f"SELECT MIN(day), MAX(day) FROM {STAGING} WHERE conflict = 0").first()
    if span is not None and span[0] is not None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}_firms")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {STAGING}_firms AS SELECT DISTINCT a.enterprise_id FROM electricity_account a "
            f"WHERE a.account_no IN (SELECT DISTINCT account_no FROM {STAGING} WHERE conflict = 0)")
        conn.execute(text(
            "INSERT INTO electricity_reading (enterprise_id, day, kwh, source_id) "
            f"SELECT a.enterprise_id, r.day, SUM(r.kwh), {int(source_id)} FROM electricity_account a "
            "JOIN electricity_account_reading r ON r.account_no = a.account_no "
            f"WHERE a.enterprise_id IN (SELECT enterprise_id FROM {STAGING}_firms) "
            "AND r.day >= :first AND r.day <= :last "
            "GROUP BY a.enterprise_id, r.day ORDER BY a.enterprise_id, r.day "
            "ON CONFLICT (enterprise_id, day) DO UPDATE SET kwh = excluded.kwh, source_id = excluded.source_id "
            "WHERE electricity_reading.kwh <> excluded.kwh"), {"first": span[0], "last": span[1]})
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}_firms")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    result.changed = max(changed, 0)
    return result


def _rejects(conn: Connection, file_name: str, result: FeedResult) -> None:
    """Rows rejected against the store and across the file: each row once (a conflicting key of an unknown
    account counts as a conflict), counted in full, listed up to the cap."""
    conflicts = int(conn.exec_driver_sql(f"SELECT COALESCE(SUM(n), 0) FROM {STAGING} WHERE conflict = 1").scalar())
    unknown_n = int(conn.exec_driver_sql(
        f"SELECT COALESCE(SUM(s.n), 0) FROM {STAGING} s LEFT JOIN electricity_account a "
        "ON a.account_no = s.account_no WHERE a.account_no IS NULL AND s.conflict = 0").scalar())
    unknown = conn.execute(text(
        f"SELECT s.account_no, s.day, s.source_row FROM {STAGING} s "
        "LEFT JOIN electricity_account a ON a.account_no = s.account_no WHERE a.account_no IS NULL "
        f"AND s.conflict = 0 ORDER BY s.source_row LIMIT {_MAX_ISSUES_PER_RULE}")).all()
    for account, _day, row in unknown:
        result.issues.append(Issue(file_name, "unknown_account", f"account {account} is not mapped to an "
                                   "enterprise (load the utility's account map first)", row=int(row),
                                   field="account_no", value=str(account)))
    clashes = conn.execute(text(
        f"SELECT account_no, day, source_row, last_row FROM {STAGING} WHERE conflict = 1 "
        f"ORDER BY source_row LIMIT {_MAX_ISSUES_PER_RULE // 2}")).all()
    for account, day, first, last in clashes:
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
    first = conn.exec_driver_sql(f"SELECT MIN(day) FROM {STAGING}").scalar()
    if first is None:
        return issues
    since = dt.date.fromisoformat(str(first)[:10]) - dt.timedelta(days=90)
    unusual = conn.execute(text(
        f"SELECT s.account_no, s.day, s.kwh, s.source_row, h.mean_kwh FROM {STAGING} s JOIN ("
        "  SELECT r.account_no, AVG(r.kwh) AS mean_kwh, COUNT(*) AS days FROM electricity_account_reading r "
        f"  WHERE r.account_no IN (SELECT DISTINCT account_no FROM {STAGING}) AND r.day >= :since "
        "  GROUP BY r.account_no"
        ") h ON h.account_no = s.account_no "
        f"WHERE s.conflict = 0 AND h.days >= 7 AND h.mean_kwh > 0 AND s.kwh > {_UNUSUAL_FACTOR} * h.mean_kwh "
        f"ORDER BY s.source_row LIMIT {_MAX_ISSUES_PER_RULE}"), {"since": since}).all()
    for account, day, kwh, row, mean in unusual:
        issues.append(Issue(file_name, "unusual_kwh", f"account {account} on {day}: {kwh:,.0f} kWh is more than "
                            f"{_UNUSUAL_FACTOR:g} times its usual {mean:,.0f} kWh a day; check the unit and the "
                            "decimal point", "warning", row=int(row), field="kwh", value=f"{kwh:g}"))
    join = (f"FROM {STAGING} s JOIN electricity_account_reading r ON r.account_no = s.account_no "
            "AND r.day = s.day WHERE s.conflict = 0 AND r.kwh <> s.kwh")
    n_revised = int(conn.exec_driver_sql(f"SELECT COUNT(*) {join}").scalar())
    if n_revised:
        account, day, old, new, row = conn.exec_driver_sql(
            f"SELECT s.account_no, s.day, r.kwh, s.kwh, s.source_row {join} ORDER BY s.source_row LIMIT 1").one()
        issues.append(Issue(file_name, "revised_readings", f"this file changes {n_revised:,} stored "
                            f"reading(s), e.g. account {account} on {day} from {old:g} to {new:g} kWh; if the "
                            "utility did not send a correction, the file may be damaged", "warning", row=int(row),
                            field="kwh", value=str(n_revised)))
    return issues
