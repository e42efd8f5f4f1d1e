"""What a publication reads from the store, recorded so that it can be read again identically.

A :class:`Inputs` object is the only door between a publication and the store.  It reads

- computed series (``series_value``) through :func:`monitor.results.read_series`, pinned to a vintage
  per series key: on the first build the latest vintage of each key, which is recorded; on a re-render
  the recorded vintage (``as_of``), so values written later never change a publication;
- everything else (official statistics, targets, forecasts, nowcasts, target odds, enterprise lists) by
  named queries whose results are recorded too (these tables keep no vintages: a revised official
  figure overwrites the old one), and replayed on a re-render.

:meth:`Inputs.record` returns the JSON-ready record stored with the publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

import pandas as pd

from ..results import read_series
from ..store import Store

__all__ = ["Inputs"]


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    if value is pd.NA:
        return None
    return value


class Inputs:
    """Reads of one publication, pinned (see the module docstring).

    Parameters
    ----------
    store
        The store.
    record
        A record from an earlier build (``{"series": {key: vintage}, "queries": {...}}``) to replay;
        None for a new build.
    """

    def __init__(self, store: Store, record: dict[str, Any] | None = None) -> None:
        self.store = store
        self.replay = record is not None
        rec = record or {}
        self._vintages: dict[str, str] = dict(rec.get("series", {}))
        self._queries: dict[str, list[dict[str, Any]]] = dict(rec.get("queries", {}))
        self._series_cache: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ series
    def series(self, key: str) -> pd.DataFrame:
        """One series (exact key), as of its pinned vintage.

        Returns
        -------
        pandas.DataFrame
            :func:`monitor.results.read_series` columns, indexed by month; empty when the key is unknown
            (or was unknown when the publication was first built).
        """
        if key in self._series_cache:
            return self._series_cache[key]
        if self.replay:
            vintage = self._vintages.get(key)
            frame = read_series(self.store, key, as_of=vintage) if vintage else read_series(self.store, "\0none")
        else:
            frame = read_series(self.store, key)
            if len(frame):
                self._vintages[key] = max(frame["vintage"]).isoformat()
        self._series_cache[key] = frame
        return frame

    def value(self, key: str, period: str, column: str = "best") -> float:
        """One value: ``best`` is the adjusted value where there is one, else the raw value (NaN if none)."""
        frame = self.series(key)
        p = pd.Period(period, "M")
        if p not in frame.index:
            return float("nan")
        row = frame.loc[p]
        if column == "best":
            sa = row["sa"]
            return float(sa) if pd.notna(sa) else float(row["raw"]) if pd.notna(row["raw"]) else float("nan")
        v = row[column]
        return float(v) if pd.notna(v) else float("nan")

    def values(self, key: str, periods: list[str], column: str = "best") -> list[float]:
        """Values of one series over months (NaN where missing)."""
        return [self.value(key, p, column) for p in periods]

    def keys(self, pattern: str) -> list[str]:
        """Series keys matching a ``LIKE`` pattern (recorded, so a re-render sees the same keys)."""
        rows = self.query(f"keys:{pattern}", "SELECT DISTINCT series_key FROM series_value WHERE series_key LIKE :p "
                          "ORDER BY series_key", p=pattern)
        return [r["series_key"] for r in rows]

    # ------------------------------------------------------------------ other tables
    def query(self, name: str, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a named query (recorded; replayed on a re-render)."""
        tag = name + "|" + json.dumps(params, sort_keys=True, default=str)
        if tag in self._queries:
            return self._queries[tag]
        if self.replay:
            return []
        frame = self.store.read_records(sql, **params)
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")]
        self._queries[tag] = rows
        return rows

    # ------------------------------------------------------------------ the record
    def record(self) -> dict[str, Any]:
        """``{"series": {key: vintage}, "queries": {name|params: rows}}``, sorted for stable JSON."""
        return {"series": dict(sorted(self._vintages.items())),
                "queries": dict(sorted(self._queries.items()))}

    def fingerprint(self) -> str:
        """SHA-256 of the record: two builds read the same data exactly when these agree."""
        text = json.dumps(self.record(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
