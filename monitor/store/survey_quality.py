"""Quality queries on the stored survey indices: small cells and values outside the index's bounds.

The compute stage stores every survey value with its respondent count ``n`` (``series_value.n``: respondents
to the question in that cell and month; for a headline PMI the smallest of its five components').  A cell of
fewer than ``compute.min_respondents`` respondents is *low-n*: publications, e-mails and the API flag it.
:func:`low_n_cells` is the one query they read the flag from; :func:`out_of_bounds` lists diffusion indices
outside 0-100 (none should exist: the adjustment runs on the logit scale).
"""

from __future__ import annotations

import pandas as pd

from .core import Store, raw_query

__all__ = ["latest_cells", "low_n_cells", "out_of_bounds"]

_COLUMNS = ["series_key", "period", "raw", "sa", "se", "n"]


def latest_cells(store: Store, *, prefix: str = "pmi/", period: str | None = None) -> pd.DataFrame:
    """The latest vintage of every stored value whose key starts with ``prefix`` (optionally one month).

    Returns
    -------
    pandas.DataFrame
        ``series_key, period, raw, sa, se, n``, sorted by key and period.
    """
    where = "series_key LIKE :prefix" + (" AND period = :period" if period else "")
    sql = (f"SELECT s.series_key, s.period, s.raw, s.sa, s.se, s.n FROM series_value s JOIN "
           f"(SELECT series_key, period, MAX(vintage) AS v FROM series_value WHERE {where} "
           f"GROUP BY series_key, period) l ON s.series_key = l.series_key AND s.period = l.period "
           f"AND s.vintage = l.v")
    params: dict[str, object] = {"prefix": prefix + "%"}
    if period:
        params["period"] = str(period)
    with store.engine.connect() as conn:
        rows, _ = raw_query(conn, sql, params)
    frame = pd.DataFrame.from_records(rows, columns=_COLUMNS)
    for column in ("raw", "sa", "se"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").astype("Int64")
    return frame.sort_values(["series_key", "period"], ignore_index=True)


def low_n_cells(store: Store, minimum: int, *, period: str | None = None, prefix: str = "pmi/") -> pd.DataFrame:
    """Stored survey cells with fewer than ``minimum`` respondents (setting ``compute.min_respondents``).

    Parameters
    ----------
    store
        The store.
    minimum
        The threshold: a cell with ``n < minimum`` is low-n.
    period
        One month (``YYYY-MM``); default every month.
    prefix
        Series family: ``pmi/`` (diffusion indices and headlines, default), ``balance/``, ``problems/``...

    Returns
    -------
    pandas.DataFrame
        ``series_key, period, raw, sa, se, n, low_n`` for every cell of the family, ``low_n`` True where
        ``n < minimum`` (a cell without a count is not flagged).
    """
    cells = latest_cells(store, prefix=prefix, period=period)
    cells["low_n"] = (cells["n"].fillna(minimum) < minimum).astype(bool)
    return cells


def out_of_bounds(store: Store, *, prefix: str = "pmi/", low: float = 0.0, high: float = 100.0) -> pd.DataFrame:
    """Latest stored raw or adjusted values of a bounded family outside ``[low, high]``.

    Returns
    -------
    pandas.DataFrame
        The offending rows of :func:`latest_cells` (empty when every value is inside the bounds).
    """
    cells = latest_cells(store, prefix=prefix)
    bad = pd.Series(False, index=cells.index)
    for column in ("raw", "sa"):
        v = cells[column]
        bad |= v.notna() & ((v < low) | (v > high))
    return cells[bad].reset_index(drop=True)
