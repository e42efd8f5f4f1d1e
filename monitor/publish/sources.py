"""What a publication reads from the store, recorded so that it can be read again identically.

A :class:`Inputs` object is the only door between a publication and the store.  It reads

- computed series (``series_value``) by the rule of :func:`monitor.results.read_series` (the latest
  vintage of each month), read as plain rows, many keys per query (:meth:`Inputs.prefetch`), pinned to a vintage
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
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..store import Store
from ..store.series import value_rows
from ..store.vintages import as_vintage

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


_COLUMN = {"raw": 0, "sa": 1, "se": 2, "n": 3}


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _read_rows(store: Store, keys: list[str], as_of: dict[str, str | None]) -> dict[str, dict[str, tuple[Any, ...]]]:
    """``{key: {period: (raw, sa, se, n, vintage)}}``: for each monthly period the latest vintage (at or before
    ``as_of[key]`` where given), the rows :func:`monitor.results.read_series` would return, read in one query
    per 500 keys through the primary-key index."""
    limits = {k: as_vintage(v) for k, v in as_of.items() if v}
    out: dict[str, dict[str, tuple[Any, ...]]] = {k: {} for k in keys}
    rows = value_rows(store, keys, ["series_key", "period", "raw", "sa", "se", "n", "vintage"], chunk=500)
    for key, period, raw, sa, se, n, vintage in rows:
        if len(period) != 7:
            continue
        vintage = as_vintage(vintage)
        limit = limits.get(key)
        if limit is not None and vintage > limit:
            continue
        have = out[key].get(period)
        if have is None or vintage > have[4]:
            out[key][period] = (raw, sa, se, n, vintage)
    return out


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
        # key -> {period: (raw, sa, se, n, vintage)}: read once, by plain rows (no DataFrame per key)
        self._rows: dict[str, dict[str, tuple[Any, ...]]] = {}
        self._series_cache: dict[str, pd.DataFrame] = {}

    # ------------------------------------------------------------------ series
    def prefetch(self, keys: Iterable[str]) -> None:
        """Read many series keys in a few queries (an optimisation only: nothing is recorded until a key is
        used through :meth:`series` or :meth:`value`)."""
        todo = sorted({k for k in keys if k not in self._rows})
        if self.replay:  # keys the first build did not read stay unknown
            for k in todo:
                if k not in self._vintages:
                    self._rows[k] = {}
            todo = [k for k in todo if k in self._vintages]
        if todo:
            self._rows.update(_read_rows(self.store, todo, {k: self._vintages.get(k) for k in todo}
                                         if self.replay else {}))

    def _series_rows(self, key: str) -> dict[str, tuple[Any, ...]]:
        rows = self._rows.get(key)
        if rows is None:
            self.prefetch([key])
            rows = self._rows[key]
        if not self.replay and rows and key not in self._vintages:
            self._vintages[key] = max(r[4] for r in rows.values()).isoformat()
        return rows

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
        rows = self._series_rows(key)
        periods = sorted(rows)
        frame = pd.DataFrame({"series_key": [key] * len(periods),
                              "raw": pd.array([rows[p][0] for p in periods], dtype=float),
                              "sa": pd.array([rows[p][1] for p in periods], dtype=float),
                              "se": pd.array([rows[p][2] for p in periods], dtype=float),
                              "n": pd.array([rows[p][3] for p in periods], dtype="Int64"),
                              "vintage": [rows[p][4] for p in periods]},
                             index=pd.PeriodIndex(periods, freq="M", name="period"))
        self._series_cache[key] = frame
        return frame

    def value(self, key: str, period: str, column: str = "best") -> float:
        """One value: ``best`` is the adjusted value where there is one, else the raw value (NaN if none)."""
        row = self._series_rows(key).get(period)
        if row is None:
            return float("nan")
        if column == "best":
            v = row[1] if _present(row[1]) else row[0]
        else:
            v = row[_COLUMN[column]]
        return float(v) if _present(v) else float("nan")

    def vintage_of(self, key: str, period: str) -> str:
        """The vintage (ISO timestamp) of the row :meth:`value` read for ``key`` and ``period`` ("" if none)."""
        row = self._series_rows(key).get(period)
        return "" if row is None else row[4].isoformat()

    def values(self, key: str, periods: list[str], column: str = "best") -> list[float]:
        """Values of one series over months (NaN where missing)."""
        return [self.value(key, p, column) for p in periods]

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

    def call(self, name: str, reader: Any, **params: Any) -> list[dict[str, Any]]:
        """Rows of a store query function ``reader(store, **params)`` (a :mod:`monitor.store` query module's),
        recorded under ``name`` and replayed on a re-render like :meth:`query`."""
        tag = name + "|" + json.dumps(params, sort_keys=True, default=str)
        if tag in self._queries:
            return self._queries[tag]
        if self.replay:
            return []
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in reader(self.store, **params)]
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
