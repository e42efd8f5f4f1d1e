"""The utility feed's staging table and its merge into the readings, in SQL (SQLite and PostgreSQL).

:mod:`monitor.ingest.electricity` streams a file's validated chunks through these functions inside the file's
transaction: :func:`create_staging`, :func:`stage_rows` per chunk, :func:`finish_staging`, then the rejects
(:func:`unknown_accounts`, :func:`conflicting_rows`) and :func:`merge_staging`.  The staging table, keyed by
(account, day), also catches the same account and day twice with different kWh within the file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["STAGING", "create_staging", "stage_rows", "finish_staging", "reject_counts", "unknown_accounts",
           "conflicting_rows", "first_staged_day", "unusual_readings", "revised_readings", "merge_staging"]

STAGING = "imon_stage_electricity"


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def create_staging(conn: Connection) -> None:
    """Create the (temporary) staging table of this transaction."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    if _postgres(conn):
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


def stage_rows(conn: Connection, values: Sequence[tuple[str, str, float, int]]) -> None:
    """Add (account, ``YYYY-MM-DD`` day, kWh, source row) rows to the staging table (COPY on PostgreSQL)."""
    if not values:
        return
    if _postgres(conn):
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
        list(values),
    )


def finish_staging(conn: Connection) -> None:
    """After the last chunk: on PostgreSQL fold the copied rows into the keyed staging table."""
    if not _postgres(conn):
        return
    conn.exec_driver_sql(
        f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row, conflict, n) "
        f"SELECT account_no, day, MIN(kwh), MIN(source_row), MAX(source_row), "
        f"CASE WHEN MAX(kwh) <> MIN(kwh) THEN 1 ELSE 0 END, COUNT(*) FROM {STAGING}_raw GROUP BY account_no, day "
        "ORDER BY account_no, day")  # inserting in key order appends to the index instead of scattering
    conn.exec_driver_sql(f"ANALYZE {STAGING}")  # temporary tables have no statistics until analysed


def reject_counts(conn: Connection) -> tuple[int, int]:
    """Rows (not keys) rejected across the file and against the store: (conflicting, of unknown accounts); a
    conflicting key of an unknown account counts as a conflict."""
    conflicts = int(conn.exec_driver_sql(f"SELECT COALESCE(SUM(n), 0) FROM {STAGING} WHERE conflict = 1").scalar() or 0)
    unknown = int(conn.exec_driver_sql(
        f"SELECT COALESCE(SUM(s.n), 0) FROM {STAGING} s LEFT JOIN electricity_account a "
        "ON a.account_no = s.account_no WHERE a.account_no IS NULL AND s.conflict = 0").scalar() or 0)
    return conflicts, unknown


def unknown_accounts(conn: Connection, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, source row) of staged rows (not conflicting) whose account is not mapped to an enterprise."""
    return [tuple(r) for r in conn.execute(text(
        f"SELECT s.account_no, s.day, s.source_row FROM {STAGING} s "
        "LEFT JOIN electricity_account a ON a.account_no = s.account_no WHERE a.account_no IS NULL "
        f"AND s.conflict = 0 ORDER BY s.source_row LIMIT {int(limit)}")).all()]


def conflicting_rows(conn: Connection, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, first row, last row) of the keys staged twice with different kWh."""
    return [tuple(r) for r in conn.execute(text(
        f"SELECT account_no, day, source_row, last_row FROM {STAGING} WHERE conflict = 1 "
        f"ORDER BY source_row LIMIT {int(limit)}")).all()]


def first_staged_day(conn: Connection) -> dt.date | None:
    """The first day in the staging table (None when it is empty)."""
    first = conn.exec_driver_sql(f"SELECT MIN(day) FROM {STAGING}").scalar()
    return None if first is None else dt.date.fromisoformat(str(first)[:10])


def unusual_readings(conn: Connection, *, since: dt.date, factor: float, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, kWh, source row, usual kWh) of staged readings over ``factor`` times the account's mean of
    its stored readings since ``since`` (accounts with at least 7 stored days)."""
    return [tuple(r) for r in conn.execute(text(
        f"SELECT s.account_no, s.day, s.kwh, s.source_row, h.mean_kwh FROM {STAGING} s JOIN ("
        "  SELECT r.account_no, AVG(r.kwh) AS mean_kwh, COUNT(*) AS days FROM electricity_account_reading r "
        f"  WHERE r.account_no IN (SELECT DISTINCT account_no FROM {STAGING}) AND r.day >= :since "
        "  GROUP BY r.account_no"
        ") h ON h.account_no = s.account_no "
        f"WHERE s.conflict = 0 AND h.days >= 7 AND h.mean_kwh > 0 AND s.kwh > {float(factor)} * h.mean_kwh "
        f"ORDER BY s.source_row LIMIT {int(limit)}"), {"since": since}).all()]


def revised_readings(conn: Connection) -> tuple[int, tuple[Any, ...] | None]:
    """How many stored readings the staged file changes, and the first as (account, day, old, new, source row)."""
    join = (f"FROM {STAGING} s JOIN electricity_account_reading r ON r.account_no = s.account_no "
            "AND r.day = s.day WHERE s.conflict = 0 AND r.kwh <> s.kwh")
    n = int(conn.exec_driver_sql(f"SELECT COUNT(*) {join}").scalar() or 0)
    if not n:
        return 0, None
    return n, tuple(conn.exec_driver_sql(
        f"SELECT s.account_no, s.day, r.kwh, s.kwh, s.source_row {join} ORDER BY s.source_row LIMIT 1").one())


def merge_staging(conn: Connection, source_id: int) -> int:
    """Upsert the staged rows of known accounts into the readings and recompute the enterprise-day sums.

    Unchanged rows are not touched, so the same file twice changes nothing.  Returns the account-day rows
    new or changed; drops the staging table.
    """
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
    return max(changed, 0)
