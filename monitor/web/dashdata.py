"""What the officials' dashboard shows, as plain data: one function per page, the same dictionaries feed the HTML
pages, their JSON and their CSV downloads (issue 19).

Every function takes a ``region`` -- the city's code or one district's -- and reads only that region's series
(plus the city totals a district page shows beside its own), so scoping is decided once, by the caller, from the
signed-in user (:func:`allowed_regions`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..alerts.texts import region_name, series_label
from ..api import AnalystStore
from ..publish import question_name
from ..reference import CITY_CODE, DISTRICTS, QUESTIONS
from ..settings import Settings
from ..store import Store
from ..store import dashboard as q
from .accounts import User
from .dash_texts import dtext

__all__ = ["DISTRICT_CODES", "allowed_regions", "can_see_key", "key_of", "overview", "series_frame",
           "chart_series", "Region", "LAMP_COLOURS", "track_record"]

DISTRICT_CODES = tuple(d.code for d in DISTRICTS)
MONTHS = 36
LAMP_COLOURS = {1: "#1f4e79", 2: "#5dade2", 3: "#27ae60", 4: "#f4d03f", 5: "#c0392b"}


@dataclass(frozen=True)
class Region:
    """A region a page shows: the city or one district."""

    code: str

    @property
    def is_city(self) -> bool:
        return self.code == CITY_CODE

    def name(self, lang: str) -> str:
        return region_name(self.code, lang)


def allowed_regions(user: User) -> tuple[str, ...]:
    """The regions a user may see: a district official their district and the city totals; officials all."""
    if user.role == "district":
        return (CITY_CODE, user.district_code) if user.district_code else (CITY_CODE,)
    if user.role in ("leader", "staff", "admin"):
        return (CITY_CODE, *DISTRICT_CODES)
    return ()


def can_see_key(user: User, key: str) -> bool:
    """Whether a series key is within the user's scope: keys of another district are not (for a district
    official); city totals and breakdowns by industry, size or sector are."""
    if user.role in ("leader", "staff", "admin"):
        return True
    if user.role != "district":
        return False
    parts = key.split("/")
    if key.startswith("demo/"):
        return False
    if "district" in parts:
        i = parts.index("district")
        return i + 1 < len(parts) and parts[i + 1] == user.district_code
    return True


def key_of(base: str, region: str) -> str:
    """The series key of ``base`` (``pmi/headline``, ``electricity/yoy``) for a region."""
    city = base if base.startswith(("pmi/", "pmi_change/", "balance/")) else f"{base}/city"
    return city if region == CITY_CODE else f"{base}/district/{region}"


def _f(v: Any) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _latest(conn: Any, keys: list[str], since: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``{key: {period: {raw, sa, value, se, n}}}`` of the latest vintages (plain dictionaries: fast)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in q.series_latest(conn, keys, since=since):
        if len(r.period) != 7:
            continue
        value = r.sa if r.sa is not None else r.raw
        out.setdefault(r.series_key, {})[r.period] = {"raw": r.raw, "sa": r.sa, "value": value, "se": r.se,
                                                      "n": r.n, "vintage": r.vintage}
    return out


def _point(values: dict[str, dict[str, Any]] | None, period: pd.Period) -> dict[str, Any]:
    row = (values or {}).get(str(period))
    if row is None:
        return {"value": None, "raw": None, "sa": None, "se": None, "n": None, "change": None}
    prev = (values or {}).get(str(period - 1))
    value = _f(row["value"])
    change = None if prev is None or value is None or _f(prev["value"]) is None else value - float(prev["value"])
    return {"value": value, "raw": _f(row["raw"]), "sa": _f(row["sa"]), "se": _f(row["se"]),
            "n": None if row["n"] is None else int(row["n"]), "change": change}


_STATUS = ("stopped_share", "semi_stopped_share", "stopped_count", "semi_stopped_count")
_ELEC = ("electricity/yoy", "electricity/total")


def overview(store: Store, settings: Settings, region: str, lang: str, *,
             period: pd.Period | None = None) -> dict[str, Any]:
    """Everything the overview (city) or a district page shows, JSON-ready.

    Returns
    -------
    dict
        ``region, region_name, period, headline`` (value, raw, se, 95 % interval, change) ``, indices`` (the 13),
        ``lamps`` (city), ``electricity, status, forecasts, targets, alerts, progress, dispatch`` and, for a
        district, ``city`` (the city totals beside it).
    """
    api = AnalystStore(store, settings)
    period = period or api.latest_period("pmi/headline")
    since = str(period - 1)  # the month and the one before (the change); the charts read their own history
    keys = [key_of("pmi/headline", region)] + [key_of(f"pmi/{qq.code}", region) for qq in QUESTIONS]
    keys += [key_of(b, region) for b in _ELEC] + [key_of(f"status/{s}", region) for s in _STATUS]
    city_keys = [] if region == CITY_CODE else [key_of("pmi/headline", CITY_CODE)] + [
        key_of(b, CITY_CODE) for b in _ELEC] + [key_of(f"status/{s}", CITY_CODE) for s in _STATUS]
    lamp_keys = [f"lamps/{k}" for k in ("composite", "pmi_headline", "new_orders", "electricity_yoy", "iva_yoy",
                                        "finished_goods_inventory", "price_scissors", "stopped_share")]
    with store.engine.connect() as conn:
        data = _latest(conn, keys + city_keys + lamp_keys, since)
        status_period = q.latest_status_period(conn)
        dispatch = q.dispatch_list(conn, status_period, None if region == CITY_CODE else region) \
            if status_period else []
    head = data.get(keys[0])
    headline = _point(head, period)
    se = headline["se"]
    headline["lower_95"] = None if se is None or headline["value"] is None else headline["value"] - 1.96 * se
    headline["upper_95"] = None if se is None or headline["value"] is None else headline["value"] + 1.96 * se
    indices = []
    for qq in QUESTIONS:
        pt = _point(data.get(key_of(f"pmi/{qq.code}", region)), period)
        indices.append({"code": qq.code, "name": question_name(qq.code, lang), **pt})
    out: dict[str, Any] = {
        "region": region, "region_name": region_name(region, lang), "period": str(period),
        "headline": headline, "indices": indices,
        "electricity": {b.split("/")[1]: _point(data.get(key_of(b, region)), period) for b in _ELEC},
        "status": {s: _point(data.get(key_of(f"status/{s}", region)), period) for s in _STATUS},
    }
    if region == CITY_CODE:
        lamps = []
        for k in lamp_keys:
            pt = _point(data.get(k), period)
            score = pt["raw"]
            lamps.append({"indicator": k.split("/", 1)[1], "score": score,
                          "colour": LAMP_COLOURS.get(int(round(score))) if score is not None and k != "lamps/composite"
                          else None})
        out["lamps"] = lamps
    else:
        out["city"] = {"headline": _point(data.get(city_keys[0]), period),
                       "electricity": {b.split("/")[1]: _point(data.get(key_of(b, CITY_CODE)), period) for b in _ELEC},
                       "status": {s: _point(data.get(key_of(f"status/{s}", CITY_CODE)), period) for s in _STATUS}}
    out["forecasts"] = _forecasts(store, region)
    out["targets"] = _targets(api, region, lang)
    alerts = api.alerts(state=("pending", "firing"), region=None if region == CITY_CODE else region)
    out["alerts"] = [{"id": int(r.id), "rule": r.rule, "subject": r.subject, "region": r.region,
                      "region_name": region_name(r.region, lang), "severity": r.severity, "state": r.state,
                      "value": _f(r.value), "period": r.last_period or r.started_period}
                     for r in alerts.itertuples()][:50]
    out["dispatch"] = [{"uscc": r.uscc, "name": r.name_zh if lang == "zh" or not r.name_en else r.name_en,
                        "district": region_name(r.district_code, lang), "industry_code": r.industry_code,
                        "status": r.production_status, "contact": " ".join(
                            str(x) for x in (r.contact_name, r.contact_phone) if x)} for r in dispatch]
    out["dispatch_period"] = status_period
    out["progress"] = _progress(store, period, region)
    return out


def _forecasts(store: Store, region: str) -> list[dict[str, Any]]:
    wanted = [key_of("pmi/headline", region), key_of("pmi/new_orders", region), key_of("pmi/production", region),
              key_of("electricity/total", region)]
    with store.engine.connect() as conn:
        rows = q.forecast_rows(conn, wanted)
        if not rows:
            return []
        actual = _latest(conn, sorted({r.series_key for r in rows}), min(r.period for r in rows))
    out = []
    for key in wanted:
        mine = [r for r in rows if r.series_key == key]
        if not mine:
            continue
        models = {r.model for r in mine}
        model = "combination" if "combination" in models else sorted(models)[0]
        mine = [r for r in mine if r.model == model]
        origin = max(r.origin for r in mine)
        out.append({"key": key, "origin": origin, "model": model,
                    "rows": [{"period": r.period, "horizon": (pd.Period(r.period, "M") - pd.Period(origin, "M")).n,
                              "mean": _f(r.mean), "lower_80": _f(r.lower_80), "upper_80": _f(r.upper_80),
                              "lower_95": _f(r.lower_95), "upper_95": _f(r.upper_95)}
                             for r in mine if r.origin == origin],
                    "track": track_record(mine, actual.get(key, {}))})
    return out


def track_record(forecasts: list[Any], actual: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored forecasts of one series and model from past origins against the values since published: mean
    absolute error and 80 % interval coverage by horizon (empty while no past origin has come true)."""
    by_h: dict[int, list[tuple[float, bool]]] = {}
    for r in forecasts:
        got = actual.get(r.period)
        value = None if got is None else _f(got["value"])
        if value is None or _f(r.mean) is None or r.period <= r.origin:
            continue
        h = (pd.Period(r.period, "M") - pd.Period(r.origin, "M")).n
        inside = r.lower_80 is not None and r.upper_80 is not None and r.lower_80 <= value <= r.upper_80
        by_h.setdefault(h, []).append((abs(float(r.mean) - value), inside))
    return [{"horizon": h, "n": len(v), "mae": sum(e for e, _ in v) / len(v),
             "coverage_80": sum(i for _, i in v) / len(v)} for h, v in sorted(by_h.items())]


def _targets(api: AnalystStore, region: str, lang: str) -> list[dict[str, Any]]:
    from ..publish import INDICATOR_NAMES

    odds = api.target_odds()
    if odds.empty:
        return []
    odds = odds[odds["origin"] == odds["origin"].max()]
    if region != CITY_CODE:
        odds = odds[odds["region"].isin([region, CITY_CODE])]
    rows = []
    for r in odds.sort_values(["region", "indicator"]).itertuples():
        names = INDICATOR_NAMES.get(r.indicator)
        rows.append({"region": r.region, "region_name": region_name(r.region, lang), "indicator": r.indicator,
                     "name": (names[0] if lang == "zh" else names[1]) if names else r.indicator,
                     "year": int(r.year), "origin": str(r.origin), "comparison": r.comparison,
                     "target": _f(r.target), "ytd": _f(r.ytd), "expected": _f(r.expected),
                     "lower_80": _f(r.lower_80), "upper_80": _f(r.upper_80), "probability": _f(r.probability)})
    return rows


def _progress(store: Store, period: pd.Period, region: str) -> dict[str, Any]:
    """Survey progress of the month after ``period`` (the round now open) when it has answers, else ``period``;
    counted like the portal's operations page (:func:`monitor.web.operations.progress`)."""
    with store.engine.connect() as conn:
        counts = q.answered_by_district(conn, [str(period), str(period + 1)])
        use = period + 1 if counts[str(period + 1)] else period
        answered = counts[str(use)]
        sample = q.panel_by_district(conn, str(use))
    codes = sorted(sample) if region == CITY_CODE else [region]
    by = [{"district": c, "district_name": region_name(c, "zh"), "sample": sample.get(c, 0),
           "responded": answered.get(c, 0), "rate": answered.get(c, 0) / sample[c] if sample.get(c) else None}
          for c in codes]
    total, done = sum(sample.get(c, 0) for c in codes), sum(answered.get(c, 0) for c in codes)
    return {"period": str(use), "sample": total, "responded": done, "rate": done / total if total else None,
            "by_district": by}


def series_frame(store: Store, key: str, *, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """One series as published on ``as_of`` (default now): ``period, raw, sa, value, se, n, vintage``."""
    with store.engine.connect() as conn:
        rows = q.series_latest(conn, [key], since="0000", as_of=as_of)
    frame = pd.DataFrame(rows, columns=["series_key", "period", "raw", "sa", "se", "n", "vintage"])
    frame = frame[frame["period"].str.len() == 7].drop(columns="series_key")
    frame.insert(3, "value", frame["sa"].where(frame["sa"].notna(), frame["raw"]))
    return frame.reset_index(drop=True)


def chart_series(store: Store, region: str, name: str, lang: str, *, months: int = MONTHS) -> dict[str, Any]:
    """The numbers behind a dashboard chart: ``headline`` (PMI adjusted and raw with the 95 % band),
    ``electricity`` (year-on-year), ``fan`` (the PMI forecast with 80/95 % bands), ``districts`` (latest PMI of
    every district: city page only)."""
    if name == "districts":
        period = AnalystStore(store, settings=None).latest_period("pmi/headline")
        with store.engine.connect() as conn:
            data = _latest(conn, [key_of("pmi/headline", d) for d in DISTRICT_CODES], str(period))
        rows = [{"label": region_name(d, lang), "value": _point(data.get(key_of("pmi/headline", d)), period)["value"]}
                for d in DISTRICT_CODES]
        return {"kind": "bars", "title": dtext(lang, "title_districts", period=period),
                "rows": rows, "reference": 50.0}
    key = key_of("electricity/yoy" if name == "electricity" else "pmi/headline", region)
    with store.engine.connect() as conn:
        values = _latest(conn, [key], "0000").get(key)
        fc_rows = q.forecast_rows(conn, [key]) if name == "fan" else []
    if not values:
        return {"kind": "line", "title": series_label(key, lang), "rows": [], "reference": None}
    rows = []
    for p in sorted(values)[-months:]:
        r = values[p]
        v, se = _f(r["value"]), _f(r["se"])
        rows.append({"period": p, "value": v, "raw": _f(r["raw"]),
                     "lower_95": None if se is None or v is None else v - 1.96 * se,
                     "upper_95": None if se is None or v is None else v + 1.96 * se})
    out: dict[str, Any] = {"kind": "line", "title": series_label(key, lang), "rows": rows,
                           "reference": 50.0 if name != "electricity" else 0.0}
    if name == "fan":
        if fc_rows:
            models = {r.model for r in fc_rows}
            model = "combination" if "combination" in models else sorted(models)[0]
            origin = max(r.origin for r in fc_rows if r.model == model)
            out["forecast"] = [{"period": r.period, "mean": _f(r.mean), "lower_80": _f(r.lower_80),
                                "upper_80": _f(r.upper_80), "lower_95": _f(r.lower_95), "upper_95": _f(r.upper_95)}
                               for r in fc_rows if r.model == model and r.origin == origin]
            out["title"] += f" · {model} · {origin}"
        out["rows"] = rows[-24:]
    return out
