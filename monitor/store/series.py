"""Store queries of the computed series (``series_value``) and their seasonal adjustments (``series_adjustment``).

Reads only; writes go through :func:`monitor.results.write_series`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from . import models as m
from .core import Store, raw_query
from .writes import upsert

__all__ = ["series_keys", "last_period", "values_in_periods", "adjustment_rows", "value_rows", "matching_value_rows",
           "adjustment_records", "write_adjustments"]


def series_keys(store: Store, prefix: str = "") -> list[str]:
    """Every stored series key (starting with ``prefix``), sorted."""
    if not prefix:
        frame = store.read_records("SELECT DISTINCT series_key FROM series_value ORDER BY series_key")
    else:
        frame = store.read_records(
            "SELECT DISTINCT series_key FROM series_value WHERE series_key LIKE :p ORDER BY series_key",
            p=prefix.replace("%", r"\%") + "%")
    return frame["series_key"].tolist() if len(frame) else []


def last_period(store: Store, key: str) -> str | None:
    """The last period with a value of ``key`` (None when it has none)."""
    frame = store.read_records("SELECT MAX(period) AS p FROM series_value WHERE series_key = :k", k=key)
    return frame["p"].iloc[0] if len(frame) else None


def values_in_periods(conn: Connection, periods: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of every ``series_value`` row (all keys, all vintages) of ``periods``, in the caller's
    transaction."""
    frames = []
    for start in range(0, len(periods), 200):
        chunk = periods[start:start + 200]
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        rows, _ = raw_query(conn, f"SELECT {', '.join(columns)} FROM series_value WHERE period IN ({marks})",
                            {f"p{i}": p for i, p in enumerate(chunk)})
        frames.append(pd.DataFrame.from_records(rows, columns=list(columns)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def adjustment_rows(store: Store, kind: str | None = None) -> pd.DataFrame:
    """The seasonal-adjustment records (of one ``kind``), by series and vintage."""
    sql = ("SELECT series_key, vintage, kind, status, method_used, model, mode, first_period, last_period, m7, q, "
           "qs_p, light, festival_t, working_day_t, n_outliers, factors, notes, error, adjusted_at "
           "FROM series_adjustment" + (" WHERE kind = :k" if kind else "") + " ORDER BY series_key, vintage")
    return store.read_records(sql, **({"k": kind} if kind else {}))


def value_rows(store: Store, keys: Sequence[str], columns: Sequence[str], *,
               as_of: dt.datetime | None = None, chunk: int = 400) -> list[tuple[Any, ...]]:
    """``columns`` of every ``series_value`` row of ``keys`` (every period and vintage, at or before the vintage
    ``as_of`` when given), read ``chunk`` keys a query through the primary-key index."""
    t = m.SeriesValue.__table__
    cols = [t.c[c] for c in columns]
    out: list[tuple[Any, ...]] = []
    with store.engine.connect() as conn:
        for start in range(0, len(keys), chunk):
            query = select(*cols).where(t.c.series_key.in_(list(keys[start:start + chunk])))
            if as_of is not None:
                query = query.where(t.c.vintage <= as_of)
            out.extend(tuple(r) for r in conn.execute(query))
    return out


def matching_value_rows(store: Store, pattern: str, columns: Sequence[str], *,
                        as_of: dt.datetime | None = None) -> list[tuple[Any, ...]]:
    """``columns`` of every ``series_value`` row whose key is ``pattern`` (or, with ``*`` in it, LIKE it with ``*``
    as ``%``: the caller checks the glob exactly), at or before the vintage ``as_of`` when given."""
    t = m.SeriesValue.__table__
    cond = [t.c.series_key.like(pattern.replace("*", "%")) if "*" in pattern else t.c.series_key == pattern]
    if as_of is not None:
        cond.append(t.c.vintage <= as_of)
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*[t.c[c] for c in columns]).where(and_(*cond)))]


def adjustment_records(store: Store, keys: Sequence[str], *, reviews: bool = False,
                       as_of: dt.datetime | None = None, chunk: int = 400) -> list[dict[str, Any]]:
    """The ``series_adjustment`` rows of ``keys``, oldest vintage first (per chunk of keys); ``reviews``: only the
    successful reviews with projected factors, at or before the vintage ``as_of`` when given."""
    t = m.SeriesAdjustment.__table__
    rows: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for start in range(0, len(keys), chunk):
            query = select(t).where(t.c.series_key.in_(list(keys[start:start + chunk])))
            if reviews:
                query = query.where(t.c.kind == "review", t.c.status == "ok", t.c.factors.is_not(None))
            if as_of is not None:
                query = query.where(t.c.vintage <= as_of)
            rows.extend(dict(r._mapping) for r in conn.execute(query.order_by(t.c.vintage)))
    return rows


def write_adjustments(conn: Connection, records: Sequence[dict[str, Any]]) -> int:
    """Insert or update ``series_adjustment`` rows on (series key, vintage), in the caller's transaction; columns a
    record leaves out are stored empty.  Returns the rows inserted or changed."""
    empty = {c.name: None for c in m.SeriesAdjustment.__table__.columns}
    return upsert(conn, m.SeriesAdjustment, [{**empty, **r} for r in records], ["series_key", "vintage"])
