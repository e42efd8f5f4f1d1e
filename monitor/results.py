"""Computed series in the store, with vintages: what was known (and published) stays retrievable.

A series value is keyed by (series key, period, vintage).  Writing a result
adds a new vintage only where a value changed against the latest stored one;
recomputing a period with the same data writes nothing.  Recomputing on the
same day overwrites that day's vintage (a vintage is a date).
"""

from __future__ import annotations

import datetime as dt
import fnmatch

import numpy as np
import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from .store import Store
from .store import models as m
from .store.core import raw_query
from .store.writes import upsert

__all__ = ["write_series", "read_series", "latest_values", "VALUE_COLUMNS"]

VALUE_COLUMNS = ("raw", "sa", "se", "n")
_TOL = 1e-9


def latest_values(conn: Connection, keys: list[str], periods: list[str]) -> pd.DataFrame:
    """The latest vintage of each (series key, period) among ``keys`` and ``periods``."""
    cols = ["series_key", "period", "vintage", *VALUE_COLUMNS]
    frames = []
    for start in range(0, len(periods), 200):
        chunk = periods[start:start + 200]
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        rows, _ = raw_query(conn, f"SELECT {', '.join(cols)} FROM series_value WHERE period IN ({marks})",
                            {f"p{i}": p for i, p in enumerate(chunk)})
        frames.append(pd.DataFrame.from_records(rows, columns=cols))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out = out[out["series_key"].isin(keys)]
    out["vintage"] = pd.to_datetime(out["vintage"]).dt.date
    return out.sort_values("vintage").drop_duplicates(["series_key", "period"], keep="last").reset_index(drop=True)


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    x = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
    both_nan = np.isnan(x) & np.isnan(y)
    return ~both_nan & ~(np.abs(x - y) <= _TOL * np.maximum(1.0, np.abs(y)))


def write_series(conn: Connection, rows: pd.DataFrame, *, vintage: dt.date | None = None,
                 columns: tuple[str, ...] = VALUE_COLUMNS) -> int:
    """Store computed values as a new vintage where they changed.

    Parameters
    ----------
    conn
        A connection in the caller's transaction.
    rows
        ``series_key, period`` and any of ``raw, sa, se, n``.
    vintage
        The vintage date (default today).
    columns
        The value columns this writer owns; the others are carried over from the
        latest vintage (so the seasonal-adjustment stage can add ``sa`` without
        erasing ``raw``).

    Returns
    -------
    int
        Values written (new or changed).
    """
    if rows.empty:
        return 0
    vintage = vintage or dt.date.today()
    rows = rows.copy()
    for c in VALUE_COLUMNS:
        if c not in rows:
            rows[c] = np.nan
    periods = sorted(rows["period"].unique().tolist())
    keys = sorted(rows["series_key"].unique().tolist())
    old = latest_values(conn, keys, periods)
    merged = rows.merge(old, on=["series_key", "period"], how="left", suffixes=("", "_old"))
    changed = np.zeros(len(merged), dtype=bool)
    for c in columns:
        changed |= _differs(merged[c], merged[f"{c}_old"])
    for c in VALUE_COLUMNS:
        if c not in columns:  # keep what other writers stored
            merged[c] = merged[f"{c}_old"]
    new = merged.loc[changed, ["series_key", "period", *VALUE_COLUMNS]].copy()
    if new.empty:
        return 0
    new["vintage"] = vintage
    new["computed_at"] = dt.datetime.now().replace(microsecond=0)
    new["n"] = new["n"].map(lambda v: None if pd.isna(v) else int(v)).astype(object)
    return upsert(conn, m.SeriesValue.__table__, new, ["series_key", "period", "vintage"])


def read_series(store: Store, pattern: str, *, as_of: dt.date | str | None = None) -> pd.DataFrame:
    """Read series matching a key or glob pattern (``pmi/*/district/*``), latest vintage as of a date.

    Returns
    -------
    pandas.DataFrame
        Columns ``series_key, raw, sa, se, n, vintage`` indexed by a monthly
        ``PeriodIndex`` named ``period`` (sorted by key, then period).
    """
    t = m.SeriesValue.__table__
    cond = [t.c.series_key.like(pattern.replace("*", "%")) if "*" in pattern else t.c.series_key == pattern]
    if as_of is not None:
        cond.append(t.c.vintage <= pd.Timestamp(as_of).date())
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.series_key, t.c.period, t.c.vintage, *[t.c[c] for c in VALUE_COLUMNS])
                            .where(and_(*cond))).all()
    frame = pd.DataFrame(rows, columns=["series_key", "period", "vintage", *VALUE_COLUMNS])
    frame = frame.astype({"raw": float, "sa": float, "se": float})
    frame["n"] = frame["n"].astype("Int64")
    if "*" in pattern:
        frame = frame[frame["series_key"].map(lambda k: fnmatch.fnmatchcase(k, pattern)).astype(bool)]
    frame = frame.sort_values("vintage").drop_duplicates(["series_key", "period"], keep="last")
    frame = frame[frame["period"].str.len() == 7].sort_values(["series_key", "period"])
    frame.index = pd.PeriodIndex(frame.pop("period"), freq="M", name="period")
    return frame[["series_key", *VALUE_COLUMNS, "vintage"]]
