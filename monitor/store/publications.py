"""Store queries of the publications and of their audit (``imon publish check``).

Reads only.  The publication builders call the readers through
:meth:`monitor.publish.sources.Inputs.call`, which records their rows for a re-render; the audit
(:mod:`monitor.publish.check`) reads the values a publication claims to print, at the vintage it recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .core import Store
from .vintages import as_vintage

__all__ = ["target_odds_as_of", "series_values_at", "official_values", "forecast_values", "stored_odds",
           "latest_official_period"]


def target_odds_as_of(store: Store, *, year: int, origin: str) -> list[dict[str, Any]]:
    """For each target (indicator, region) of ``year``: the odds from the latest origin at or before ``origin``."""
    frame = store.read_records(
        "SELECT o.indicator, o.region, o.origin, o.probability, o.expected, o.lower_80, o.upper_80, o.required "
        "FROM target_odds o WHERE o.year = :y AND o.origin = (SELECT max(i.origin) FROM target_odds i WHERE "
        "i.year = o.year AND i.indicator = o.indicator AND i.region = o.region AND i.origin <= :o) "
        "ORDER BY o.region, o.indicator", y=year, o=origin)
    return frame.to_dict("records")


def stored_odds(store: Store, *, year: int, indicator: str, region: str, origin: str) -> float | None:
    """The stored probability of one target at exactly ``origin`` (None when not stored)."""
    frame = store.read_records("SELECT probability FROM target_odds WHERE year = :y AND indicator = :i AND "
                               "region = :r AND origin = :o", y=year, i=indicator, r=region, o=origin)
    return None if frame.empty or frame.iloc[0, 0] is None else float(frame.iloc[0, 0])


def series_values_at(store: Store, items: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``{(key, period, vintage): {raw, sa, se, n}}`` for exact (series key, period, vintage) triples."""
    wanted = sorted(set(items))
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    keys = sorted({k for k, _, _ in wanted})
    pick = {(k, p, as_vintage(v)): (k, p, v) for k, p, v in wanted if v}
    for i in range(0, len(keys), 400):
        chunk = keys[i:i + 400]
        marks = ", ".join(f":k{j}" for j in range(len(chunk)))
        frame = store.read_records(f"SELECT series_key, period, vintage, raw, sa, se, n FROM series_value "
                                   f"WHERE series_key IN ({marks})", **{f"k{j}": k for j, k in enumerate(chunk)})
        for r in frame.to_dict("records"):
            tag = pick.get((r["series_key"], r["period"], as_vintage(r["vintage"])))
            if tag is not None:
                out[tag] = {c: r[c] for c in ("raw", "sa", "se", "n")}
    return out


def official_values(store: Store, items: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], float]:
    """``{(series, region, period): value}`` of the official statistics among ``items``."""
    wanted = set(items)
    series = sorted({s for s, _, _ in wanted})
    out: dict[tuple[str, str, str], float] = {}
    if not series:
        return out
    marks = ", ".join(f":s{j}" for j in range(len(series)))
    frame = store.read_records(f"SELECT series, region, period, value FROM official_statistic WHERE series IN ({marks})",
                               **{f"s{j}": s for j, s in enumerate(series)})
    for r in frame.to_dict("records"):
        tag = (r["series"], r["region"], r["period"])
        if tag in wanted and r["value"] is not None:
            out[tag] = float(r["value"])
    return out


def forecast_values(store: Store, *, key: str, origin: str) -> list[dict[str, Any]]:
    """Forecast rows of ``key`` from ``origin`` (all models)."""
    return store.read_records("SELECT period, model, mean, lower_80, upper_80, lower_95, upper_95 FROM forecast "
                              "WHERE series_key = :k AND origin = :o ORDER BY period, model", k=key, o=origin
                              ).to_dict("records")


def latest_official_period(store: Store, *, series: str, region: str, until: str) -> list[dict[str, Any]]:
    """``[{"period": ...}]``: the latest month (at or before ``until``) with an official figure of ``series``."""
    frame = store.read_records("SELECT max(period) AS period FROM official_statistic WHERE series = :s AND "
                               "region = :r AND length(period) = 7 AND period <= :u", s=series, r=region, u=until)
    return frame.to_dict("records")
