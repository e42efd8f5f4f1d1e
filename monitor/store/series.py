"""Store queries of the computed series (``series_value``) and their seasonal adjustments (``series_adjustment``).

Reads only; writes go through :func:`monitor.results.write_series`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Connection

from .core import Store, raw_query

__all__ = ["series_keys", "last_period", "values_in_periods", "adjustment_rows"]


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
