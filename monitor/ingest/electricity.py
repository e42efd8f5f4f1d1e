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
"""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from collectors.base import Issue
from collectors.electricity import FeedChunk

__all__ = ["ingest_electricity", "STAGING"]

STAGING = "imon_stage_electricity"
_MAX_ISSUES_PER_RULE = 10_000


def _create_staging(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # sorts and hash aggregates of large files in memory
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING}_raw (account_no VARCHAR(40), day DATE, kwh DOUBLE PRECISION,"
                             " source_row INTEGER) ON COMMIT DROP")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (account_no VARCHAR(40), day DATE, kwh DOUBLE PRECISION, "
                             "source_row INTEGER, last_row INTEGER, conflict INTEGER, "
                             "PRIMARY KEY (account_no, day)) ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (account_no TEXT, day DATE, kwh REAL, source_row INTEGER, "
                             "last_row INTEGER, conflict INTEGER DEFAULT 0, PRIMARY KEY (account_no, day)) "
                             "WITHOUT ROWID")


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
        f"THEN 1 ELSE {STAGING}.conflict END, last_row = excluded.source_row",
        values,
    )


def _fold_postgres_staging(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row, conflict) "
        f"SELECT account_no, day, MIN(kwh), MIN(source_row), MAX(source_row), "
        f"CASE WHEN MAX(kwh) <> MIN(kwh) THEN 1 ELSE 0 END FROM {STAGING}_raw GROUP BY account_no, day "
        "ORDER BY account_no, day")  # inserting in key order appends to the index instead of scattering
    conn.exec_driver_sql(f"ANALYZE {STAGING}")  # temporary tables have no statistics until analysed


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
    _create_staging(conn)
    issues: list[Issue] = []
    read = 0
    for chunk in chunks:  # type: ignore[attr-defined]
        _stage(conn, chunk)
        issues.extend(chunk.issues[:_MAX_ISSUES_PER_RULE])
        read += len(chunk.rows) + len(chunk.issues)
        if progress:
            progress(read)
    if conn.dialect.name == "postgresql":
        _fold_postgres_staging(conn)
    issues += _rejects(conn, file_name)
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
    return read, max(changed, 0), issues


def _rejects(conn: Connection, file_name: str) -> list[Issue]:
    issues = []
    unknown = conn.execute(text(
        f"SELECT s.account_no, s.day, s.source_row FROM {STAGING} s "
        "LEFT JOIN electricity_account a ON a.account_no = s.account_no WHERE a.account_no IS NULL "
        f"ORDER BY s.source_row LIMIT {_MAX_ISSUES_PER_RULE}")).all()
    for account, _day, row in unknown:
        issues.append(Issue(file_name, "unknown_account", f"account {account} is not mapped to an enterprise "
                            "(load the utility's account map first)", row=int(row), field="account_no",
                            value=str(account)))
    clashes = conn.execute(text(
        f"SELECT account_no, day, source_row, last_row FROM {STAGING} WHERE conflict = 1 "
        f"ORDER BY source_row LIMIT {_MAX_ISSUES_PER_RULE}")).all()
    for account, day, first, last in clashes:
        for row in sorted({int(first), int(last)}):
            issues.append(Issue(file_name, "duplicate_conflict", f"account {account} on {day} appears more than "
                                "once with different kWh; both rows rejected", row=row, field="kwh",
                                value=str(account)))
    return issues
