"""The utility feed's staging table and its merge into the readings, in SQL (SQLite and PostgreSQL).

:mod:`monitor.ingest.electricity` streams a file's validated chunks through these functions inside the file's
transaction: :func:`create_staging`, :func:`stage_rows` per chunk, :func:`finish_staging`, then the rejects
(:func:`unknown_accounts`, :func:`conflicting_rows`) and :func:`merge_staging`.  The staging table, one row per
(account, day), also catches the same account and day twice with different kWh within the file.

PostgreSQL: the chunks are copied (``COPY``) into an ``UNLOGGED`` table without any index, created inside the
file's transaction under a name of its own (a rollback or a crash removes it; two files ingested at once do not
meet); an unlogged table lives in the shared buffers, where a temporary one would go through the session's small
``temp_buffers`` and spill to disk.  A file without a repeated (account, day) -- the usual case -- is checked and
merged straight from that table, one row per key already; the merge is tried under a savepoint, and when a key
turns out to be repeated (PostgreSQL refuses to upsert one row twice in a command) the savepoint is rolled back,
the table is folded into one row per key (:func:`group_staging`) and the checks run again on it
(:class:`RepeatedKeys`).  SQLite: a temporary table keyed by (account, day), one row per key from the start.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

__all__ = ["STAGING", "RepeatedKeys", "create_staging", "group_staging", "stage_rows", "finish_staging", "reject_counts", "unknown_accounts",
           "conflicting_rows", "first_staged_day", "unusual_readings", "revised_readings", "merge_staging"]

STAGING = "imon_stage_electricity"
_NAME = "imon_staging_table"  # key of this transaction's staging table name in the connection's info
_GROUPED = "imon_staging_grouped"
_SQLITE_CACHE_KIB = 65536  # ... and whether it holds one row per key


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _table(conn: Connection) -> str:
    """The staging table of this transaction (PostgreSQL: a name of its own; SQLite: :data:`STAGING`)."""
    return str(conn.info.get(_NAME, STAGING)) if _postgres(conn) else STAGING


def create_staging(conn: Connection) -> None:
    """Create the staging table of this transaction."""
    if _postgres(conn):
        name = f"{STAGING}_{uuid.uuid4().hex[:16]}"
        conn.info[_NAME] = name
        conn.info[_GROUPED] = False
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # sorts and hash aggregates of large files in memory
        conn.exec_driver_sql(f"CREATE UNLOGGED TABLE {name} (account_no VARCHAR(40), day DATE, kwh DOUBLE PRECISION, "
                             "source_row INTEGER, last_row INTEGER, conflict INTEGER DEFAULT 0, n INTEGER DEFAULT 1)")
        return
    # Page caches of 64 MiB for the staging table and the readings (SQLite's default 2 MiB sends a large file's
    # B-tree pages to disk and back); bounded, so memory stays flat however large the file.
    conn.exec_driver_sql(f"PRAGMA temp.cache_size = -{_SQLITE_CACHE_KIB}")
    conn.exec_driver_sql(f"PRAGMA main.cache_size = -{_SQLITE_CACHE_KIB}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGING} (account_no TEXT, day DATE, kwh REAL, source_row INTEGER, "
                         "last_row INTEGER, conflict INTEGER DEFAULT 0, n INTEGER DEFAULT 1, "
                         "PRIMARY KEY (account_no, day)) WITHOUT ROWID")


def stage_rows(conn: Connection, rows: pd.DataFrame) -> None:
    """Add a chunk's rows (``account_no``, ``day`` as datetime64, ``kwh``, ``source_row``) to the staging table
    (COPY on PostgreSQL)."""
    if rows.empty:
        return
    if _postgres(conn):
        frame = pd.DataFrame({"a": rows["account_no"].to_numpy(),
                              "d": np.datetime_as_string(rows["day"].to_numpy().astype("datetime64[D]"), unit="D"),
                              "k": rows["kwh"].to_numpy(float), "r": rows["source_row"].to_numpy()})
        buf = io.StringIO()
        # CSV (an account with a comma, quote or backslash goes through quoted, verbatim); floats with the
        # shortest digits that give the same double back
        frame.to_csv(buf, header=False, index=False, lineterminator="\n")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {_table(conn)} (account_no, day, kwh, source_row) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
        return
    days = np.datetime_as_string(rows["day"].to_numpy().astype("datetime64[D]"), unit="D").tolist()
    conn.exec_driver_sql(
        f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row) VALUES (?, ?, ?, ?, ?4) "
        f"ON CONFLICT (account_no, day) DO UPDATE SET conflict = CASE WHEN {STAGING}.kwh <> excluded.kwh "
        f"THEN 1 ELSE {STAGING}.conflict END, last_row = excluded.source_row, n = {STAGING}.n + 1",
        list(zip(rows["account_no"].tolist(), days, rows["kwh"].tolist(), rows["source_row"].tolist(), strict=True)),
    )


def finish_staging(conn: Connection) -> None:
    """After the last chunk: on PostgreSQL analyse the copied rows (the checks' plans need statistics)."""
    if _postgres(conn):
        conn.exec_driver_sql(f"ANALYZE {_table(conn)}")


class RepeatedKeys(Exception):
    """PostgreSQL's staged rows repeat an (account, day): fold them with :func:`group_staging`, check again."""


def group_staging(conn: Connection) -> None:
    """PostgreSQL: fold the staged rows into one row per (account, day), in key order (a repeated key with
    different kWh is marked ``conflict``; ``n`` counts its rows)."""
    name = _table(conn)
    conn.exec_driver_sql(
        f"CREATE UNLOGGED TABLE {name}_keys AS "
        "SELECT account_no, day, MIN(kwh) AS kwh, MIN(source_row) AS source_row, MAX(source_row) AS last_row, "
        f"CASE WHEN MAX(kwh) <> MIN(kwh) THEN 1 ELSE 0 END AS conflict, SUM(n) AS n FROM {name} "
        "GROUP BY account_no, day ORDER BY account_no, day")
    conn.exec_driver_sql(f"DROP TABLE {name}")
    conn.exec_driver_sql(f"ALTER TABLE {name}_keys RENAME TO {name}")
    conn.exec_driver_sql(f"ANALYZE {name}")
    conn.info[_GROUPED] = True


def reject_counts(conn: Connection) -> tuple[int, int]:
    """Rows (not keys) rejected across the file and against the store: (conflicting, of unknown accounts); a
    conflicting key of an unknown account counts as a conflict."""
    stage = _table(conn)
    if _postgres(conn) and not conn.info.get(_GROUPED) and conn.exec_driver_sql(
            f"SELECT 1 FROM {stage} s LEFT JOIN electricity_account a ON a.account_no = s.account_no "
            "WHERE a.account_no IS NULL GROUP BY s.account_no, s.day HAVING COUNT(*) > 1 LIMIT 1").first():
        raise RepeatedKeys(stage)  # a repeated key of an unknown account: a conflict first, as the rules count
    conflicts = int(conn.exec_driver_sql(f"SELECT COALESCE(SUM(n), 0) FROM {stage} WHERE conflict = 1").scalar() or 0)
    unknown = int(conn.exec_driver_sql(
        f"SELECT COALESCE(SUM(s.n), 0) FROM {stage} s LEFT JOIN electricity_account a "
        "ON a.account_no = s.account_no WHERE a.account_no IS NULL AND s.conflict = 0").scalar() or 0)
    return conflicts, unknown


def unknown_accounts(conn: Connection, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, source row) of staged rows (not conflicting) whose account is not mapped to an enterprise."""
    stage = _table(conn)
    return [tuple(r) for r in conn.execute(text(
        f"SELECT s.account_no, s.day, s.source_row FROM {stage} s "
        "LEFT JOIN electricity_account a ON a.account_no = s.account_no WHERE a.account_no IS NULL "
        f"AND s.conflict = 0 ORDER BY s.source_row LIMIT {int(limit)}")).all()]


def conflicting_rows(conn: Connection, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, first row, last row) of the keys staged twice with different kWh."""
    stage = _table(conn)
    return [tuple(r) for r in conn.execute(text(
        f"SELECT account_no, day, source_row, last_row FROM {stage} WHERE conflict = 1 "
        f"ORDER BY source_row LIMIT {int(limit)}")).all()]


def first_staged_day(conn: Connection) -> dt.date | None:
    """The first day in the staging table (None when it is empty)."""
    stage = _table(conn)
    first = conn.exec_driver_sql(f"SELECT MIN(day) FROM {stage}").scalar()
    return None if first is None else dt.date.fromisoformat(str(first)[:10])


def unusual_readings(conn: Connection, *, since: dt.date, factor: float, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, kWh, source row, usual kWh) of staged readings over ``factor`` times the account's mean of
    its stored readings since ``since`` (accounts with at least 7 stored days)."""
    stage = _table(conn)
    return [tuple(r) for r in conn.execute(text(
        f"SELECT s.account_no, s.day, s.kwh, s.source_row, h.mean_kwh FROM {stage} s JOIN ("
        "  SELECT r.account_no, AVG(r.kwh) AS mean_kwh, COUNT(*) AS days FROM electricity_account_reading r "
        f"  WHERE r.account_no IN (SELECT DISTINCT account_no FROM {stage}) AND r.day >= :since "
        "  GROUP BY r.account_no"
        ") h ON h.account_no = s.account_no "
        f"WHERE s.conflict = 0 AND h.days >= 7 AND h.mean_kwh > 0 AND s.kwh > {float(factor)} * h.mean_kwh "
        f"ORDER BY s.source_row LIMIT {int(limit)}"), {"since": since}).all()]


def revised_readings(conn: Connection) -> tuple[int, tuple[Any, ...] | None]:
    """How many stored readings the staged file changes, and the first as (account, day, old, new, source row)."""
    stage = _table(conn)
    join = (f"FROM {stage} s JOIN electricity_account_reading r ON r.account_no = s.account_no "
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
    stage = _table(conn)
    upsert = ("INSERT INTO electricity_account_reading (account_no, day, kwh, source_id, source_row) "
              f"SELECT s.account_no, s.day, s.kwh, {int(source_id)}, s.source_row FROM {stage} s "
              "JOIN electricity_account a ON a.account_no = s.account_no WHERE s.conflict = 0 "
              + ("" if _postgres(conn) else "ORDER BY s.account_no, s.day ")  # PostgreSQL's rows: in file order
              + "ON CONFLICT (account_no, day) DO UPDATE SET kwh = excluded.kwh, source_id = excluded.source_id, "
              "source_row = excluded.source_row WHERE electricity_account_reading.kwh <> excluded.kwh")
    if _postgres(conn):
        try:
            with conn.begin_nested():
                changed = conn.exec_driver_sql(upsert).rowcount
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "21000":  # "ON CONFLICT DO UPDATE ... cannot affect row a
                raise RepeatedKeys(stage) from None           # second time": the file repeats a key
            raise
    else:
        changed = conn.exec_driver_sql(upsert).rowcount
    # Enterprise-day sums over all of an enterprise's accounts, for the enterprises and the day range the file
    # touched (a range scan on the primary key rather than a join on every staged key).
    span = conn.exec_driver_sql(f"SELECT MIN(day), MAX(day) FROM {stage} WHERE conflict = 0").first()
    if span is not None and span[0] is not None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}_firms")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage}_firms AS SELECT DISTINCT a.enterprise_id FROM electricity_account a "
            f"WHERE a.account_no IN (SELECT DISTINCT account_no FROM {stage} WHERE conflict = 0)")
        conn.execute(text(
            "INSERT INTO electricity_reading (enterprise_id, day, kwh, source_id) "
            f"SELECT a.enterprise_id, r.day, SUM(r.kwh), {int(source_id)} FROM electricity_account a "
            "JOIN electricity_account_reading r ON r.account_no = a.account_no "
            f"WHERE a.enterprise_id IN (SELECT enterprise_id FROM {stage}_firms) "
            "AND r.day >= :first AND r.day <= :last "
            "GROUP BY a.enterprise_id, r.day ORDER BY a.enterprise_id, r.day "
            "ON CONFLICT (enterprise_id, day) DO UPDATE SET kwh = excluded.kwh, source_id = excluded.source_id "
            "WHERE electricity_reading.kwh <> excluded.kwh"), {"first": span[0], "last": span[1]})
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}_firms")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    conn.info.pop(_NAME, None)
    conn.info.pop(_GROUPED, None)
    return max(changed, 0)
