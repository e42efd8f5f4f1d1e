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

A file that is the first to bring readings of its enterprises for its days (a new month: :func:`is_fresh`, found
with two indexed look-ups over the staged accounts and day span kept while staging) is written with plain
``INSERT`` statements and its enterprise-day sums are summed from the staging table; on PostgreSQL a repeated key
then shows as a unique violation (23505) of the plain insert, rolled back under its savepoint like the upsert's.
Any other file is upserted as before.  ``electricity_reading`` has no foreign keys (migration 0013): the ingest
writes only enterprise ids it has just joined through ``electricity_account`` and its own provenance id.

The direct path of a new month skips the staging table: :func:`account_map` (the account map, held in memory by
the caller), :func:`direct_writer` (one binary ``COPY`` into ``electricity_account_reading`` per file on
PostgreSQL, multi-row ``INSERT`` statements per chunk in key order on SQLite; a unique violation becomes
:class:`DirectRefused`), :func:`finish_direct` (the freshness check, excluding the file's own rows by
``source_id``, then -- when the caller has not summed them in memory -- the sums in SQL), :func:`write_day_sums`
(the sums the caller folded in memory: binary ``COPY`` on PostgreSQL) and :func:`unusual_direct`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

try:  # optional (pandas' string columns use it when present): the direct path's binary COPY of the readings
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - the text COPY instead
    pa = pc = None  # type: ignore[assignment]
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

__all__ = ["STAGING", "RepeatedKeys", "create_staging", "group_staging", "staging_writer", "stage_rows", "finish_staging", "reject_counts", "unknown_accounts",
           "conflicting_rows", "first_staged_day", "unusual_readings", "revised_readings", "merge_staging",
           "is_fresh", "DirectRefused", "account_map", "direct_writer", "finish_direct", "unusual_direct",
           "drop_direct", "write_day_sums"]

STAGING = "imon_stage_electricity"
_NAME = "imon_staging_table"  # key of this transaction's staging table name in the connection's info
_GROUPED = "imon_staging_grouped"  # ... and whether it holds one row per key
_SPAN = "imon_staging_span"  # first and last staged day, kept while staging
_ACCOUNTS = "imon_staging_accounts"  # the staged account numbers, kept while staging
_FRESH = "imon_staging_fresh"  # whether the store holds no reading of the file's enterprises in its days
_SQLITE_CACHE_KIB = 65536


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _table(conn: Connection) -> str:
    """The staging table of this transaction (PostgreSQL: a name of its own; SQLite: :data:`STAGING`)."""
    return str(conn.info.get(_NAME, STAGING)) if _postgres(conn) else STAGING


def create_staging(conn: Connection) -> None:
    """Create the staging table of this transaction."""
    conn.info[_SPAN] = None
    conn.info[_ACCOUNTS] = set()
    conn.info.pop(_FRESH, None)
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


def _track(conn: Connection, rows: pd.DataFrame) -> np.ndarray:
    """Keep the staged day span and account numbers (for :func:`finish_staging`); return the days."""
    day = rows["day"].to_numpy().astype("datetime64[D]")
    first, last = day.min().item(), day.max().item()
    span = conn.info.get(_SPAN)
    conn.info[_SPAN] = (first, last) if span is None else (min(span[0], first), max(span[1], last))
    conn.info.setdefault(_ACCOUNTS, set()).update(pd.unique(rows["account_no"].to_numpy()).tolist())
    return day


def _day_text(day: np.ndarray) -> list[str]:
    """Days (datetime64) as ISO strings, formatted once per distinct day of their span (a chunk spans a few
    weeks to a few years: a table of its days, gathered), one string object per distinct day."""
    ordinal = day.astype("datetime64[D]").astype(np.int64)
    if not len(ordinal):
        return []
    first, last = int(ordinal.min()), int(ordinal.max())
    if last - first > 100_000 or last - first > len(ordinal):
        return np.datetime_as_string(day.astype("datetime64[D]"), unit="D").tolist()  # type: ignore[no-any-return]
    table = np.datetime_as_string(np.arange(first, last + 1).astype("datetime64[D]"), unit="D").astype(object)
    return table[ordinal - first].tolist()  # type: ignore[no-any-return]


_PG_EPOCH = np.datetime64("2000-01-01", "D")  # day 0 of PostgreSQL's binary dates
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # binary COPY: signature, flags, no header extension
_BINARY_TRAILER = b"\xff\xff"


def _binary_readings(rows: pd.DataFrame, source_id: int) -> bytes:
    """A chunk's rows (``account_no``, ``day``, ``kwh``, ``source_row``) with the file's ``source_id`` as the
    tuples of a binary ``COPY`` into ``electricity_account_reading`` (its columns ``account_no, day, kwh,
    source_id, source_row``), laid out by numpy as fixed-width records, one block per width of the account
    numbers in bytes (usually one): no text to build in Python or to parse in the server.  The account numbers'
    UTF-8 bytes are taken from their Arrow buffer as they are."""
    accounts = pa.array(rows["account_no"], type=pa.large_string())
    if isinstance(accounts, pa.ChunkedArray):
        accounts = accounts.combine_chunks()
    widths = pc.binary_length(accounts).to_numpy(zero_copy_only=False).astype(np.int64)
    day = (rows["day"].to_numpy().astype("datetime64[D]") - _PG_EPOCH).astype(np.int64)
    kwh = rows["kwh"].to_numpy(np.float64)
    source_row = rows["source_row"].to_numpy(np.int64)
    blocks = []
    distinct = np.unique(widths)
    for width in distinct.tolist():
        pick = None if len(distinct) == 1 else np.flatnonzero(widths == width)
        group = accounts if pick is None else accounts.take(pa.array(pick))
        offsets = np.frombuffer(group.buffers()[1], dtype=np.int64)[group.offset:group.offset + len(group) + 1]
        text = np.frombuffer(group.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] if width else None
        fields: list[tuple[str, str]] = [("fields", ">i2"), ("n1", ">i4")]
        fields += [("account_no", f"S{width}")] if width else []
        fields += [("n2", ">i4"), ("day", ">i4"), ("n3", ">i4"), ("kwh", ">f8"), ("n4", ">i4"), ("source_id", ">i4"),
                   ("n5", ">i4"), ("source_row", ">i4")]
        block = np.empty(len(group), dtype=np.dtype(fields))
        block["fields"], block["n1"], block["n2"], block["n3"], block["n4"], block["n5"] = 5, width, 4, 8, 4, 4
        if text is not None:
            block["account_no"] = text.view(f"S{width}")
        block["day"] = day if pick is None else day[pick]
        block["kwh"] = kwh if pick is None else kwh[pick]
        block["source_id"] = int(source_id)
        block["source_row"] = source_row if pick is None else source_row[pick]
        blocks.append(block.tobytes())
    return b"".join(blocks)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(rows: pd.DataFrame, day: np.ndarray, source_id: int | None = None) -> str:
    """A chunk's rows as the lines of ``COPY ... FROM STDIN`` (text format: tab-separated, backslash escapes).

    Floats are written with ``repr`` (the shortest digits that give the same double back), days by numpy; an
    account with a backslash, tab or line break is escaped (PostgreSQL reads it back verbatim).
    """
    accounts = rows["account_no"].tolist()
    sources = [str(int(source_id))] * len(accounts) if source_id is not None else None
    joined = "".join(accounts)
    if any(c in joined for c in "\\\t\n\r"):
        accounts = [a.translate(_COPY_ESCAPES) for a in accounts]
    columns = [accounts, _day_text(day), map(repr, rows["kwh"].to_numpy(float).tolist())]
    if sources is not None:
        columns.append(sources)
    lines = map("\t".join, zip(*columns, map(str, rows["source_row"].tolist()), strict=True))
    return "\n".join(lines) + "\n"


@contextmanager
def staging_writer(conn: Connection) -> Iterator[Callable[[pd.DataFrame], None]]:
    """Within the ``with`` block, a function that adds a chunk's rows (``account_no``, ``day`` as datetime64,
    ``kwh``, ``source_row``) to the staging table.

    PostgreSQL: one ``COPY`` stays open for the whole file (psycopg waits for every megabyte sent to be flushed,
    so memory stays bounded; the caller reads the next chunk in another thread meanwhile); an exception in the
    block aborts the copy, and the file's transaction with it.  SQLite: :func:`stage_rows` per chunk.
    """
    if not _postgres(conn):
        yield lambda rows: stage_rows(conn, rows)
        return
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        with cur.copy(f"COPY {_table(conn)} (account_no, day, kwh, source_row) FROM STDIN") as copy:

            def write(rows: pd.DataFrame) -> None:
                if not rows.empty:
                    copy.write(_copy_text(rows, _track(conn, rows)))

            yield write


def stage_rows(conn: Connection, rows: pd.DataFrame) -> None:
    """Add a chunk's rows (``account_no``, ``day`` as datetime64, ``kwh``, ``source_row``) to the staging table
    (one ``COPY`` of the chunk on PostgreSQL; :func:`staging_writer` keeps one open for a whole file)."""
    if rows.empty:
        return
    day = _track(conn, rows)
    if _postgres(conn):
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {_table(conn)} (account_no, day, kwh, source_row) FROM STDIN") as copy:
                copy.write(_copy_text(rows, day))
        return
    # multi-row statements on the connection's own cursor, inside the file's transaction; SQLite applies the
    # conflict clause row by row, so a key repeated within one statement is counted as one repeated across two
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    accounts = rows["account_no"].to_numpy(dtype=object)
    kwh, source_row = rows["kwh"].to_numpy(), rows["source_row"].to_numpy()
    try:
        for start in range(0, len(rows), _SQLITE_BLOCK_ROWS):  # Python's objects for a block at a time
            block = slice(start, start + _SQLITE_BLOCK_ROWS)
            at = source_row[block].tolist()
            _sqlite_insert_rows(
                cur, f"INSERT INTO {STAGING} (account_no, day, kwh, source_row, last_row)", "(?, ?, ?, ?, ?)",
                [accounts[block].tolist(), _day_text(day[block]), kwh[block].tolist(), at, at],
                tail=f" ON CONFLICT (account_no, day) DO UPDATE SET conflict = CASE WHEN {STAGING}.kwh <> "
                     f"excluded.kwh THEN 1 ELSE {STAGING}.conflict END, last_row = excluded.source_row, "
                     f"n = {STAGING}.n + 1")
    finally:
        cur.close()


def finish_staging(conn: Connection) -> None:
    """After the last chunk: store the staged account numbers (``<staging>_accounts``), find whether the store
    holds any reading of the file's enterprises in the file's days (:func:`is_fresh`), and on PostgreSQL analyse
    the copied rows (the checks' plans need statistics)."""
    stage = _table(conn)
    accounts = sorted(conn.info.get(_ACCOUNTS) or ())
    conn.info[_ACCOUNTS] = set()
    if _postgres(conn):
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage}_accounts (account_no VARCHAR(40) PRIMARY KEY) ON COMMIT DROP")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {stage}_accounts (account_no) FROM STDIN") as copy:
                for account in accounts:
                    copy.write_row((account,))
        conn.exec_driver_sql(f"ANALYZE {stage}_accounts")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}_accounts")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage}_accounts (account_no TEXT PRIMARY KEY) WITHOUT ROWID")
        if accounts:
            conn.exec_driver_sql(f"INSERT INTO {stage}_accounts (account_no) VALUES (?)", [(a,) for a in accounts])
    conn.info[_FRESH] = _no_stored_readings(conn)
    if _postgres(conn):
        conn.exec_driver_sql(f"ANALYZE {stage}")


def _no_stored_readings(conn: Connection) -> bool:
    """Whether the store holds no reading (per account or per enterprise) of the enterprises of the staged
    accounts from the first to the last staged day."""
    span = conn.info.get(_SPAN)
    if span is None:
        return True
    stage = _table(conn)
    firms = (f"SELECT a.enterprise_id FROM electricity_account a JOIN {stage}_accounts s "
             "ON s.account_no = a.account_no")
    params = {"first": span[0], "last": span[1]}
    hit = conn.execute(text(
        f"SELECT 1 FROM electricity_reading e WHERE e.enterprise_id IN ({firms}) "
        "AND e.day >= :first AND e.day <= :last LIMIT 1"), params).first()
    if hit is None:
        hit = conn.execute(text(
            "SELECT 1 FROM electricity_account a JOIN electricity_account_reading r ON r.account_no = a.account_no "
            f"WHERE a.enterprise_id IN ({firms}) AND r.day >= :first AND r.day <= :last LIMIT 1"), params).first()
    return hit is None


def is_fresh(conn: Connection) -> bool:
    """Whether the staged file is the first to bring readings of its enterprises for its days (known after
    :func:`finish_staging`): its readings are then only inserted, and its enterprise-day sums summed from it."""
    return bool(conn.info.get(_FRESH))


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
    span = conn.info.get(_SPAN)
    return None if span is None else span[0]


def unusual_readings(conn: Connection, *, since: dt.date, factor: float, limit: int) -> list[tuple[Any, ...]]:
    """(account, day, kWh, source row, usual kWh) of staged readings over ``factor`` times the account's mean of
    its stored readings since ``since`` (accounts with at least 7 stored days)."""
    stage = _table(conn)
    return [tuple(r) for r in conn.execute(text(
        f"SELECT s.account_no, s.day, s.kwh, s.source_row, h.mean_kwh FROM {stage} s JOIN ("
        "  SELECT r.account_no, AVG(r.kwh) AS mean_kwh, COUNT(*) AS days FROM electricity_account_reading r "
        f"  WHERE r.account_no IN (SELECT account_no FROM {stage}_accounts) AND r.day >= :since "
        "  GROUP BY r.account_no"
        ") h ON h.account_no = s.account_no "
        f"WHERE s.conflict = 0 AND h.days >= 7 AND h.mean_kwh > 0 AND s.kwh > {float(factor)} * h.mean_kwh "
        f"ORDER BY s.source_row LIMIT {int(limit)}"), {"since": since}).all()]


def revised_readings(conn: Connection) -> tuple[int, tuple[Any, ...] | None]:
    """How many stored readings the staged file changes, and the first as (account, day, old, new, source row)."""
    if is_fresh(conn):
        return 0, None
    stage = _table(conn)
    join = (f"FROM {stage} s JOIN electricity_account_reading r ON r.account_no = s.account_no "
            "AND r.day = s.day WHERE s.conflict = 0 AND r.kwh <> s.kwh")
    n = int(conn.exec_driver_sql(f"SELECT COUNT(*) {join}").scalar() or 0)
    if not n:
        return 0, None
    return n, tuple(conn.exec_driver_sql(
        f"SELECT s.account_no, s.day, r.kwh, s.kwh, s.source_row {join} ORDER BY s.source_row LIMIT 1").one())


def merge_staging(conn: Connection, source_id: int) -> int:
    """Write the staged rows of known accounts into the readings and the enterprise-day sums.

    A file that is the first to bring readings of its enterprises for its days (:func:`is_fresh`, the usual
    case of a new month) is inserted with plain ``INSERT`` statements, and its sums are summed from the staged
    rows: nothing stored can conflict, and PostgreSQL's ``ON CONFLICT`` path costs a speculative insertion per
    row.  Any other file is upserted: unchanged rows are not touched, so the same file twice changes nothing, and
    the sums are recomputed from all the stored readings of the enterprises and days the file touched.  Returns
    the account-day rows new or changed; drops the staging tables.
    """
    stage = _table(conn)
    if is_fresh(conn):
        changed = _insert_fresh(conn, stage, source_id)
    else:
        changed = _upsert(conn, stage, source_id)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}_accounts")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    for key in (_NAME, _GROUPED, _SPAN, _ACCOUNTS, _FRESH):
        conn.info.pop(key, None)
    return max(changed, 0)


def _refused_as_repeated(conn: Connection, exc: DBAPIError, stage: str) -> None:
    """Raise :class:`RepeatedKeys` when PostgreSQL refused a statement because the staged rows repeat a key."""
    state = getattr(exc.orig, "sqlstate", None)
    # 21000: "ON CONFLICT DO UPDATE command cannot affect row a second time"; 23505: a unique key violated by the
    # plain insert of a file whose keys are not folded yet (nothing stored can conflict with a fresh file)
    if state == "21000" or (state == "23505" and not conn.info.get(_GROUPED)):
        raise RepeatedKeys(stage) from None


def _merge_rows(conn: Connection, statement: str, stage: str) -> int:
    """Run the insert (or upsert) of the staged rows; on PostgreSQL under a savepoint, a repeated key raised as
    :class:`RepeatedKeys` (the caller folds the staging table and tries again).  Returns the rows changed."""
    if not _postgres(conn):
        return int(conn.exec_driver_sql(statement).rowcount)
    try:
        with conn.begin_nested():
            return int(conn.exec_driver_sql(statement).rowcount)
    except DBAPIError as exc:
        _refused_as_repeated(conn, exc, stage)
        raise


def _insert_fresh(conn: Connection, stage: str, source_id: int) -> int:
    insert = ("INSERT INTO electricity_account_reading (account_no, day, kwh, source_id, source_row) "
              f"SELECT s.account_no, s.day, s.kwh, {int(source_id)}, s.source_row FROM {stage} s "
              "JOIN electricity_account a ON a.account_no = s.account_no WHERE s.conflict = 0"
              + ("" if _postgres(conn) else " ORDER BY s.account_no, s.day"))
    changed = _merge_rows(conn, insert, stage)
    # every stored reading of these enterprises and days is in the staging table: sum them from there
    conn.exec_driver_sql(
        "INSERT INTO electricity_reading (enterprise_id, day, kwh, source_id) "
        f"SELECT a.enterprise_id, s.day, SUM(s.kwh), {int(source_id)} FROM {stage} s "
        "JOIN electricity_account a ON a.account_no = s.account_no WHERE s.conflict = 0 "
        "GROUP BY a.enterprise_id, s.day ORDER BY a.enterprise_id, s.day")
    return int(changed)


def _upsert(conn: Connection, stage: str, source_id: int) -> int:
    upsert = ("INSERT INTO electricity_account_reading (account_no, day, kwh, source_id, source_row) "
              f"SELECT s.account_no, s.day, s.kwh, {int(source_id)}, s.source_row FROM {stage} s "
              "JOIN electricity_account a ON a.account_no = s.account_no WHERE s.conflict = 0 "
              + ("" if _postgres(conn) else "ORDER BY s.account_no, s.day ")  # PostgreSQL's rows: in file order
              + "ON CONFLICT (account_no, day) DO UPDATE SET kwh = excluded.kwh, source_id = excluded.source_id, "
              "source_row = excluded.source_row WHERE electricity_account_reading.kwh <> excluded.kwh")
    changed = _merge_rows(conn, upsert, stage)
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
    return int(changed)


# --- A fresh file written straight into the readings (no staging table) ---------------------------------------------


class DirectRefused(Exception):
    """The file cannot be written straight into the readings (a key met twice, or readings of its enterprises
    already stored in its days): roll back to the savepoint and take the staged path."""


def account_map(conn: Connection) -> pd.Series:
    """``electricity_account``: the enterprise id of every mapped account, indexed by account number (on
    PostgreSQL the table is analysed first: the plans of the direct path's checks and sums depend on it)."""
    if _postgres(conn):
        conn.exec_driver_sql("ANALYZE electricity_account")
    frame = pd.DataFrame(conn.exec_driver_sql("SELECT account_no, enterprise_id FROM electricity_account").all(),
                         columns=["account_no", "enterprise_id"])
    return pd.Series(frame["enterprise_id"].to_numpy(), index=pd.Index(frame["account_no"].astype(object)))


def _is_unique_violation(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "23505":
        return True
    return type(orig).__name__ == "IntegrityError" and "UNIQUE" in str(orig)


@contextmanager
def direct_writer(conn: Connection, source_id: int) -> Iterator[Callable[[pd.DataFrame, np.ndarray | None], None]]:
    """Within the ``with`` block, a function that writes a chunk's rows of mapped accounts (no key repeated
    within the chunk) straight into ``electricity_account_reading`` with the file's ``source_id``: one binary
    ``COPY`` open for the whole file on PostgreSQL (text without pyarrow), multi-row ``INSERT`` statements of the
    chunk in key order on SQLite (:func:`_sqlite_insert_rows`).  Its second argument, when given, holds the rows' account numbers as Python strings (the
    account map's own), the rows then being in key order already.  A key met
    twice (across chunks, or already stored) raises :class:`DirectRefused`; the caller's savepoint undoes the
    rest."""
    columns = "account_no, day, kwh, source_id, source_row"
    try:
        if _postgres(conn):
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # the sums' aggregate in memory
            raw = conn.connection.driver_connection
            binary = pa is not None
            with raw.cursor() as cur:  # type: ignore[union-attr]
                with cur.copy(f"COPY electricity_account_reading ({columns}) FROM STDIN"
                              + (" (FORMAT BINARY)" if binary else "")) as copy:
                    if binary:
                        copy.write(_BINARY_SIGNATURE)

                    def write(rows: pd.DataFrame, accounts: np.ndarray | None = None) -> None:
                        if rows.empty:
                            return
                        if binary:
                            copy.write(_binary_readings(rows, source_id))
                        else:
                            copy.write(_copy_text(rows, rows["day"].to_numpy().astype("datetime64[D]"), source_id))

                    yield write
                    if binary:
                        copy.write(_BINARY_TRAILER)
            return
        conn.exec_driver_sql(f"PRAGMA main.cache_size = -{_SQLITE_CACHE_KIB}")
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def insert(rows: pd.DataFrame, accounts: np.ndarray | None = None) -> None:
            if rows.empty:
                return
            if accounts is None:
                if not rows["account_no"].is_monotonic_increasing:  # B-tree pages in order
                    rows = rows.sort_values(["account_no", "day"], kind="stable")
                accounts = rows["account_no"].to_numpy(dtype=object)
            day, kwh, source_row = rows["day"].to_numpy(), rows["kwh"].to_numpy(), rows["source_row"].to_numpy()
            for start in range(0, len(rows), _SQLITE_BLOCK_ROWS):  # Python's objects for a block at a time
                block = slice(start, start + _SQLITE_BLOCK_ROWS)
                _sqlite_insert_rows(cur, f"INSERT INTO electricity_account_reading ({columns})",
                                    f"(?, ?, ?, {int(source_id)}, ?)",
                                    [accounts[block].tolist(), _day_text(day[block]), kwh[block].tolist(),
                                     source_row[block].tolist()])

        try:
            yield insert
        finally:
            cur.close()
    except Exception as exc:
        if _is_unique_violation(exc):
            raise DirectRefused("a key met twice") from None
        raise


def finish_direct(conn: Connection, source_id: int, accounts: list[str], span: tuple[dt.date, dt.date] | None,
                  *, sums: bool = True) -> int:
    """After the direct writes: note the file's mapped accounts (``imon_direct_accounts``), refuse the direct
    path (:class:`DirectRefused`) when the store holds readings of the file's enterprises in its days other than
    the file's own, then (``sums``) insert the enterprise-day sums from the rows written.  Returns the sums
    written."""
    if _postgres(conn):
        conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS imon_direct_accounts (account_no VARCHAR(40) "
                             "PRIMARY KEY) ON COMMIT DROP")
        conn.exec_driver_sql("TRUNCATE imon_direct_accounts")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy("COPY imon_direct_accounts (account_no) FROM STDIN") as copy:
                for account in accounts:
                    copy.write_row((account,))
        conn.exec_driver_sql("ANALYZE imon_direct_accounts")
    else:
        conn.exec_driver_sql("DROP TABLE IF EXISTS imon_direct_accounts")
        conn.exec_driver_sql("CREATE TEMP TABLE imon_direct_accounts (account_no TEXT PRIMARY KEY) WITHOUT ROWID")
        if accounts:
            conn.exec_driver_sql("INSERT INTO imon_direct_accounts (account_no) VALUES (?)", [(a,) for a in accounts])
    if span is None or not accounts:
        return 0
    params = {"first": span[0], "last": span[1], "sid": int(source_id)}
    firms = ("SELECT a.enterprise_id FROM electricity_account a JOIN imon_direct_accounts s "
             "ON s.account_no = a.account_no")
    hit = conn.execute(text(
        f"SELECT 1 FROM electricity_reading e WHERE e.enterprise_id IN ({firms}) "
        "AND e.day >= :first AND e.day <= :last LIMIT 1"), params).first()
    if hit is None:
        hit = conn.execute(text(
            "SELECT 1 FROM electricity_account a JOIN electricity_account_reading r ON r.account_no = a.account_no "
            f"WHERE a.enterprise_id IN ({firms}) AND r.day >= :first AND r.day <= :last "
            "AND (r.source_id IS NULL OR r.source_id <> :sid) LIMIT 1"), params).first()
    if hit is not None:
        raise DirectRefused("readings of the file's enterprises in its days are stored")
    if not sums:
        return 0
    # every stored reading of these enterprises and days is the file's own: their sums are new
    written = conn.execute(text(
        "INSERT INTO electricity_reading (enterprise_id, day, kwh, source_id) "
        "SELECT a.enterprise_id, r.day, SUM(r.kwh), :sid FROM imon_direct_accounts s "
        "JOIN electricity_account a ON a.account_no = s.account_no "
        "JOIN electricity_account_reading r ON r.account_no = s.account_no "
        "WHERE r.day >= :first AND r.day <= :last "
        "GROUP BY a.enterprise_id, r.day ORDER BY a.enterprise_id, r.day"), params)
    return int(written.rowcount or 0)


def unusual_direct(conn: Connection, source_id: int, span: tuple[dt.date, dt.date], *, since: dt.date,
                   factor: float, limit: int) -> list[tuple[Any, ...]]:
    """:func:`unusual_readings` of a file written directly: its own rows (by ``source_id``) against the other
    stored readings of its accounts since ``since`` (after :func:`finish_direct`).

    :func:`finish_direct` has found no stored reading of the file's enterprises in its days other than the
    file's own, so the other readings of its accounts lie before its first day or after its last: the history is
    read from those two ranges of the key, never from the file's own rows; an account without history leaves
    the file's rows unread."""
    other = "(r.source_id IS NULL OR r.source_id <> :sid)"
    if _postgres(conn):  # a range of the key per account (the planner, without statistics of the rows just
        history = (     # copied, would read the whole table)
            "SELECT s.account_no, r.kwh FROM imon_direct_accounts s CROSS JOIN LATERAL ("
            "SELECT r.kwh FROM electricity_account_reading r WHERE r.account_no = s.account_no "
            f"AND r.day >= :since AND r.day < :first AND {other} UNION ALL "
            "SELECT r.kwh FROM electricity_account_reading r WHERE r.account_no = s.account_no "
            f"AND r.day > :last AND {other}) r")
    else:
        history = ("SELECT r.account_no, r.kwh FROM electricity_account_reading r "
                   "WHERE r.account_no IN (SELECT account_no FROM imon_direct_accounts) AND r.day >= :since "
                   f"AND r.day < :first AND {other} UNION ALL SELECT r.account_no, r.kwh "
                   "FROM electricity_account_reading r WHERE r.account_no IN "
                   f"(SELECT account_no FROM imon_direct_accounts) AND r.day > :last AND {other}")
    params = {"since": since, "sid": int(source_id), "first": span[0], "last": span[1]}
    if conn.execute(text(f"SELECT h.account_no FROM ({history}) h GROUP BY h.account_no "
                         "HAVING COUNT(*) >= 7 AND AVG(h.kwh) > 0 LIMIT 1"), params).first() is None:
        return []  # no account with a history: nothing to compare
    return [tuple(r) for r in conn.execute(text(
        "SELECT s.account_no, s.day, s.kwh, s.source_row, h.mean_kwh FROM electricity_account_reading s JOIN ("
        f"  SELECT h.account_no, AVG(h.kwh) AS mean_kwh, COUNT(*) AS days FROM ({history}) h GROUP BY h.account_no"
        ") h ON h.account_no = s.account_no "
        "WHERE s.day >= :first AND s.day <= :last AND s.source_id = :sid "
        f"AND h.days >= 7 AND h.mean_kwh > 0 AND s.kwh > {float(factor)} * h.mean_kwh "
        f"ORDER BY s.source_row LIMIT {int(limit)}"), params).all()]


def drop_direct(conn: Connection) -> None:
    """Drop the direct path's table of the file's accounts (PostgreSQL drops it at the commit anyway)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS imon_direct_accounts")


_BINARY_SUM = np.dtype([("fields", ">i2"), ("n1", ">i4"), ("enterprise_id", ">i4"), ("n2", ">i4"), ("day", ">i4"),
                        ("n3", ">i4"), ("kwh", ">f8"), ("n4", ">i4"), ("source_id", ">i4")])
_BINARY_ROWS = 1_000_000  # rows per block handed to the binary COPY (38 MB)
_SQLITE_BLOCK_ROWS = 100_000  # rows per executemany (the Python objects of one block at a time)
#: Rows per ``INSERT`` statement on SQLite (fewer when the build allows fewer bound parameters).  One statement of
#: many rows costs the driver one bind and one step instead of one per row: half the CPU of a row-wise
#: ``executemany`` for the readings, and the GIL is given up once per statement rather than once per row, so the
#: feed's reader thread no longer stalls the writes (a GIL convoy: each row's step waited for the reader's slice).
_SQLITE_ROWS_PER_STATEMENT = 500


def _sqlite_insert_rows(cur: Any, head: str, values: str, columns: list[list[Any]], *, tail: str = "") -> None:
    """Insert the rows given as equally long ``columns`` (Python objects) with ``head VALUES values, values, ...
    tail``: an ``executemany`` of statements of :data:`_SQLITE_ROWS_PER_STATEMENT` rows, then one statement for
    the rest.  ``values`` is one row's parenthesised placeholders (constants may be inlined), ``tail`` e.g. a
    conflict clause (SQLite applies it row by row).  Rows go in in the order given, so a key met twice fails
    exactly as a row-wise insert does (the table's constraint, an ``IntegrityError``)."""
    n = len(columns[0])
    width = values.count("?")
    if not n or not width:
        return
    limit = cur.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    k = max(1, min(_SQLITE_ROWS_PER_STATEMENT, limit // width))
    flat = list(itertools.chain.from_iterable(zip(*columns, strict=True)))
    full = (n // k) * k
    step = k * width
    if full:
        cur.executemany(f"{head} VALUES " + ", ".join([values] * k) + tail,
                        (flat[i:i + step] for i in range(0, full * width, step)))
    if full < n:
        cur.execute(f"{head} VALUES " + ", ".join([values] * (n - full)) + tail, flat[full * width:])


def write_day_sums(conn: Connection, source_id: int, enterprise_ids: np.ndarray, days: np.ndarray,
                   kwh: np.ndarray) -> int:
    """Insert enterprise-day sums summed by the caller (the direct path of a new month: none of them is stored,
    :func:`finish_direct` has checked) into ``electricity_reading``, in key order as given.

    PostgreSQL: one binary ``COPY`` whose rows numpy lays out in one pass (fixed-width records: no text to build
    or parse).  SQLite: multi-row ``INSERT`` statements (:func:`_sqlite_insert_rows`).  Returns the rows written.
    """
    n = len(enterprise_ids)
    if not n:
        return 0
    day = days.astype("datetime64[D]")
    if _postgres(conn):
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy("COPY electricity_reading (enterprise_id, day, kwh, source_id) FROM STDIN "
                          "(FORMAT BINARY)") as copy:
                copy.write(_BINARY_SIGNATURE)
                for start in range(0, n, _BINARY_ROWS):
                    stop = min(start + _BINARY_ROWS, n)
                    block = np.empty(stop - start, dtype=_BINARY_SUM)
                    block["fields"] = 4
                    block["n1"], block["n2"], block["n3"], block["n4"] = 4, 4, 8, 4
                    block["enterprise_id"] = enterprise_ids[start:stop]
                    block["day"] = (day[start:stop] - _PG_EPOCH).astype(np.int64)
                    block["kwh"] = kwh[start:stop]
                    block["source_id"] = int(source_id)
                    copy.write(block.tobytes())
                copy.write(_BINARY_TRAILER)
        return n
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, n, _SQLITE_BLOCK_ROWS):  # Python's objects for a block at a time: memory stays flat
            stop = min(start + _SQLITE_BLOCK_ROWS, n)
            _sqlite_insert_rows(cur, "INSERT INTO electricity_reading (enterprise_id, day, kwh, source_id)",
                                f"(?, ?, ?, {int(source_id)})",
                                [enterprise_ids[start:stop].tolist(), _day_text(day[start:stop]),
                                 kwh[start:stop].tolist()])
    finally:
        cur.close()
    return n
