"""Computed series in the store, with vintages: what was known (and published) stays retrievable.

A series value is keyed by (series key, period, vintage).  Writing a result
adds a new vintage only where a value changed against the latest stored one;
recomputing a period with the same data writes nothing.  Recomputing on the
later (the same day or not) adds another vintage: a vintage is a run, stamped with its UTC timestamp
(:mod:`monitor.store.vintages`), and a vintage a final publication read is locked: nothing changes it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from .exceptions import StoreError
from .store import Store
from .store import models as m
from .store.series import matching_value_rows, values_in_periods
from .store.vintages import as_of_limit, as_vintage, locked_overwrites, new_vintage
from .store.writes import upsert

__all__ = ["write_series", "read_series", "latest_values", "VALUE_COLUMNS"]

VALUE_COLUMNS = ("raw", "sa", "se", "n")
_TOL = 1e-9


def latest_values(conn: Connection, keys: list[str], periods: list[str]) -> pd.DataFrame:
    """The latest vintage of each (series key, period) among ``keys`` and ``periods``."""
    cols = ["series_key", "period", "vintage", *VALUE_COLUMNS]
    out = values_in_periods(conn, periods, cols)
    out = out[out["series_key"].isin(keys)]
    out["vintage"] = [as_vintage(v) for v in out["vintage"]]
    return out.sort_values("vintage").drop_duplicates(["series_key", "period"], keep="last").reset_index(drop=True)


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    x = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
    both_nan = np.isnan(x) & np.isnan(y)
    return ~both_nan & ~(np.abs(x - y) <= _TOL * np.maximum(1.0, np.abs(y)))


def write_series(conn: Connection, rows: pd.DataFrame, *, vintage: dt.datetime | dt.date | None = None,
                 columns: tuple[str, ...] = VALUE_COLUMNS) -> int:
    """Store computed values as a new vintage where they changed.

    Parameters
    ----------
    conn
        A connection in the caller's transaction.
    rows
        ``series_key, period`` and any of ``raw, sa, se, n``.
    vintage
        The vintage (default: a new one, this moment in UTC); a date means its midnight.
    columns
        The value columns this writer owns; the others are carried over from the
        latest vintage (so the seasonal-adjustment stage can add ``sa`` without
        erasing ``raw``).

    Returns
    -------
    int
        Values written (new or changed).

    Raises
    ------
    StoreError
        When a value would change in a vintage that a final publication read (those never change).
    """
    if rows.empty:
        return 0
    explicit = vintage is not None  # a new vintage cannot be locked
    vintage = new_vintage() if vintage is None else as_vintage(vintage)
    rows = rows.copy()
    for c in VALUE_COLUMNS:
        if c not in rows:
            rows[c] = np.nan
        elif rows[c].dtype.kind == "f":
            rows[c] = rows[c].where(np.isfinite(rows[c]))  # +-inf is "not computable": stored as missing
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
    locked = locked_overwrites(conn, [(k, vintage) for k in new["series_key"].unique()]) if explicit else {}
    if locked:
        (key, when), pub = sorted(locked.items())[0]
        raise StoreError(f"vintage {when.isoformat(sep=' ')} of {key} was read by final publication {pub} and never "
                         f"changes ({len(locked)} series locked); write a new vintage instead (leave vintage= out)")
    new["vintage"] = vintage
    new["computed_at"] = dt.datetime.now().replace(microsecond=0)
    new["n"] = new["n"].map(lambda v: None if pd.isna(v) else int(v)).astype(object)
    return upsert(conn, m.SeriesValue, new, ["series_key", "period", "vintage"])


def read_series(store: Store, pattern: str, *, as_of: dt.date | dt.datetime | str | None = None) -> pd.DataFrame:
    """Read series matching a key or glob pattern (``pmi/*/district/*``), latest vintage as of a date or timestamp.

    ``as_of`` as a date admits every vintage of that day; as a timestamp, the vintages at or before it (UTC
    when naive; see :mod:`monitor.store.vintages`).

    Returns
    -------
    pandas.DataFrame
        Columns ``series_key, raw, sa, se, n, vintage`` indexed by a monthly
        ``PeriodIndex`` named ``period`` (sorted by key, then period).
    """
    rows = matching_value_rows(store, pattern, ["series_key", "period", "vintage", *VALUE_COLUMNS],
                               as_of=None if as_of is None else as_of_limit(as_of))
    frame = pd.DataFrame(rows, columns=["series_key", "period", "vintage", *VALUE_COLUMNS])
    frame = frame.astype({"raw": float, "sa": float, "se": float})
    frame["n"] = frame["n"].astype("Int64")
    if "*" in pattern:
        frame = frame[frame["series_key"].map(lambda k: fnmatch.fnmatchcase(k, pattern)).astype(bool)]
    frame = frame.sort_values("vintage").drop_duplicates(["series_key", "period"], keep="last")
    frame = frame[frame["period"].str.len() == 7].sort_values(["series_key", "period"])
    frame.index = pd.PeriodIndex(frame.pop("period"), freq="M", name="period")
    return frame[["series_key", *VALUE_COLUMNS, "vintage"]]
