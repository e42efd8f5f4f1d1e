"""Idempotent writes on natural keys, the same code for SQLite and PostgreSQL.

:func:`upsert` inserts new rows and updates rows whose non-key values changed;
a row that is already stored unchanged is not touched, so loading the same file
twice changes nothing.  :func:`bulk_insert` is the fast path for loading large
frames into empty tables (the demo's millions of daily readings).

No value is ever stored non-finite: both write ``NaN`` *and* ``±inf`` as NULL
(missing).  An indicator divided by a zero base (growth from nothing) is
"not computable", never ``Inf`` (PostgreSQL's ``Infinity``) for a later stage or
a publication to print.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Date, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .models import Base

__all__ = ["upsert", "bulk_insert"]

_CHUNK = 5000


def _dialect_insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"upsert supports SQLite and PostgreSQL, not {name}")


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and +-inf: missing (the store holds no non-finite number)
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Period):
        return f"{value.year:04d}-{value.month:02d}" if value.freqstr.startswith("M") else str(value)
    return value


def _records(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(rows, pd.DataFrame):
        cols = list(rows.columns)
        return [{c: _clean(v) for c, v in zip(cols, tup)} for tup in rows.itertuples(index=False, name=None)]
    return [{k: _clean(v) for k, v in r.items()} for r in rows]


def upsert(
    conn: Connection,
    target: Table | type[Base],
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    key: Sequence[str],
    *,
    compare: Sequence[str] | None = None,
    keys_out: list[tuple[Any, ...]] | None = None,
) -> int:
    """Insert or update ``rows`` in ``table`` on the natural ``key``.

    Parameters
    ----------
    conn
        An open connection; the caller owns the transaction.
    target
        Target table, or its model (``models.SeriesValue``).
    rows
        A frame or dicts whose keys are column names; NaN becomes NULL.
    key
        Columns of a primary key or unique constraint.
    compare
        Columns whose change makes a stored row be updated (default: every
        non-key column).  Provenance columns (``source_id``, ``submitted_at``)
        are usually left out, so the same figures re-sent are not a change.
    keys_out
        When given, the keys of the rows inserted or changed are appended to it.

    Returns
    -------
    int
        Rows inserted or changed (0 when everything was already stored).
    """
    table = target if isinstance(target, Table) else target.__table__
    records = _records(rows)
    if not records:
        return 0
    cols = list(records[0])
    missing = [k for k in key if k not in cols]
    if missing:
        raise ValueError(f"upsert into {table.name}: rows lack the key columns {missing}")
    # The same key twice in one statement: PostgreSQL refuses it, SQLite lets the last win. Keep the last
    # everywhere, so both behave alike.
    last = {tuple(r[k] for k in key): i for i, r in enumerate(records)}
    if len(last) < len(records):
        records = [records[i] for i in sorted(last.values())]
    update_cols = [c for c in cols if c not in key]
    changed = 0
    for start in range(0, len(records), _CHUNK):
        chunk = records[start : start + _CHUNK]
        stmt = _dialect_insert(conn, table)
        if update_cols:
            excluded = stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key),
                set_={c: excluded[c] for c in update_cols},
                where=or_(*[table.c[c].is_distinct_from(excluded[c]) for c in (compare or update_cols)]),
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        # RETURNING yields exactly the rows inserted or updated (not those skipped by the WHERE);
        # executemany rowcounts are not reliable across drivers.
        result = conn.execute(stmt.returning(*[table.c[k] for k in key]), chunk)
        got = result.all()
        changed += len(got)
        if keys_out is not None:
            keys_out.extend(tuple(r) for r in got)
    return changed


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return "\\N" if math.isnan(value) else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _iso_text(s: pd.Series, *, date_only: bool) -> list[str | None]:
    """ISO text of a datetime column, vectorised (``strftime`` is slow on millions of rows)."""
    arr = s.to_numpy(dtype="datetime64[us]")
    if date_only:
        text = np.datetime_as_string(arr, unit="D").astype(object)
    else:
        text = np.char.replace(np.datetime_as_string(arr, unit="us"), "T", " ").astype(object)
    text[np.isnat(arr)] = None
    return text.tolist()


def _driver_values(table: Table, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    cols = []
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_datetime64_any_dtype(s):
            cols.append(_iso_text(s, date_only=isinstance(table.c[name].type, Date)))
        elif pd.api.types.is_float_dtype(s):
            values = s.to_numpy()
            finite = np.isfinite(values)
            if not finite.all():  # NaN and +-inf become NULL
                cols.append(s.astype(object).where(finite, None).tolist())
            else:
                cols.append(values.tolist())
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            cols.append(s.tolist())
        elif s.dtype == object:  # Python scalars (text) expected; missing values become NULL
            cols.append(s.where(s.notna(), None).tolist())
        else:
            cols.append([_clean(v) for v in s.tolist()])
    return list(zip(*cols))


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table`` as fast as the driver allows.

    SQLite gets one ``executemany`` of plain tuples; PostgreSQL (psycopg 3)
    gets ``COPY``.  Rows must be new: a duplicate key fails the whole call and
    the caller's transaction rolls back.  Date columns are written as ISO text,
    which both databases read as ``DATE``/``TIMESTAMP``.

    Returns
    -------
    int
        Rows written.
    """
    if frame.empty:
        return 0
    names = list(frame.columns)
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise ValueError(f"bulk insert into {table.name}: unknown columns {unknown}")
    values = _driver_values(table, frame)
    col_sql = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {table.name} ({col_sql}) FROM STDIN") as copy:
                buf = io.StringIO()
                for i, row in enumerate(values, 1):
                    buf.write("\t".join(_copy_text(v) for v in row))
                    buf.write("\n")
                    if i % 100_000 == 0:
                        copy.write(buf.getvalue())
                        buf = io.StringIO()
                copy.write(buf.getvalue())
        return len(values)
    marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in names)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({col_sql}) VALUES ({marks})", values)
    return len(values)
