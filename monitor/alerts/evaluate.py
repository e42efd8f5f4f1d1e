"""Evaluate alert rules against the store: one function per rule kind, each returning findings.

A :class:`Finding` is one subject the rule could judge (it had data): ``active`` says whether the condition
holds in the finding's data month.  Subjects without data are not returned, so their alerts keep their state
(Grafana's "keep last state" for no data) instead of resolving falsely.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from ..reference import CITY_CODE
from ..results import read_series
from ..settings import Settings
from ..store import Store
from ..store import monitoring as monitoring_q
from ..store import survey as survey_q
from ..store.forecasts import odds_with_targets
from .rules import Rule

__all__ = ["Finding", "EvalContext", "evaluate_rule", "EVALUATORS", "region_of", "glob_regex"]

_DISTRICT = re.compile(r"/district/(\d{6})(?:/|$)")


@dataclass(frozen=True)
class Finding:
    """The verdict of a rule on one subject for one data month.

    Attributes
    ----------
    subject : str
        What the alert is about (a series key, ``enterprise/<credit code>``, ``target/<indicator>/<region>``).
    region : str
        District code, or the city's code.
    period : str
        Data month ``YYYY-MM`` the verdict is about.
    active : bool
        Whether the condition holds.
    value : float or None
        The value compared with the threshold.
    labels : dict
        JSON-able details for the message and the chart (``series``, ``threshold``, names, ...).
    """

    subject: str
    region: str
    period: str
    active: bool
    value: float | None
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalContext:
    """What evaluators read: the store, the settings, the month evaluated and a per-scan cache.

    Parameters
    ----------
    store, settings
        The store and effective settings.
    period
        Evaluate data up to this month (None: all data in the store).
    today
        Reference date for "the survey is closed" (tests pin it).
    """

    store: Store
    settings: Settings
    period: pd.Period | None = None
    today: dt.date = field(default_factory=dt.date.today)
    _cache: dict[str, Any] = field(default_factory=dict)

    def series(self, pattern: str) -> pd.DataFrame:
        """Series matching ``pattern`` (latest vintage), cut at :attr:`period`; cached per scan."""
        if pattern not in self._cache:
            frame = read_series(self.store, pattern)
            if self.period is not None and len(frame):
                frame = frame[frame.index <= self.period]
            self._cache[pattern] = frame
        return self._cache[pattern]

    def read(self, reader: Callable[..., Any], *args: Any) -> Any:
        """What a store query function ``reader(store, *args)`` returns (cached per scan)."""
        key = f"{reader.__module__}.{reader.__qualname__}{args!r}"
        if key not in self._cache:
            self._cache[key] = reader(self.store, *args)
        return self._cache[key]

    def closed_month(self, latest: pd.Period) -> pd.Period:
        """``latest`` if its survey window has closed by :attr:`today`, else the month before."""
        close = latest.end_time.date() + dt.timedelta(days=int(self.settings["survey.close_days"]))
        return latest if self.today > close else latest - 1


def region_of(key: str) -> str:
    """District code in a series key (``.../district/440106``), else the city's code."""
    found = _DISTRICT.search(key)
    return found.group(1) if found else CITY_CODE


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a ``*`` glob whose groups capture what each ``*`` matched (within one path segment)."""
    return re.compile("^" + re.escape(pattern).replace(r"\*", "([^/]*)") + "$")


def _fill(pattern: str, captures: tuple[str, ...]) -> str:
    parts = pattern.split("*")
    if len(parts) - 1 != len(captures):
        return pattern
    return "".join(p + (captures[i] if i < len(captures) else "") for i, p in enumerate(parts))


def _values(group: pd.DataFrame, which: str) -> pd.Series:
    if which == "raw" or (which == "auto" and not group["sa"].notna().any()):
        col = group["raw"]
    else:
        col = group["sa"]
    return col.dropna().sort_index()


def _keys(frame: pd.DataFrame, pattern: str) -> Iterator[tuple[str, tuple[str, ...], pd.DataFrame]]:
    rx = glob_regex(pattern)
    for key, group in frame.groupby("series_key", sort=True):
        found = rx.match(str(key))
        if found:
            yield str(key), found.groups(), group


def _consecutive(index: pd.PeriodIndex) -> bool:
    return len(index) < 2 or all((b - a).n == 1 for a, b in zip(index[:-1], index[1:], strict=False))


def _level(rule: Rule, ctx: EvalContext) -> list[Finding]:
    p = rule.params
    frame = ctx.series(p["series"])
    other = ctx.series(p["minus"]) if p["minus"] else None
    out = []
    for key, captures, group in _keys(frame, p["series"]):
        values = _values(group, p["value"])
        labels: dict[str, Any] = {"series": key}
        subject = key
        if other is not None:
            key_b = _fill(p["minus"], captures)
            b = _values(other[other["series_key"] == key_b], p["value"])
            if b.empty:
                continue
            values = (values - b).dropna()
            labels["minus"] = key_b
            subject = f"{key} - {key_b}"
        if values.empty:
            continue
        tail = values.iloc[-p["months"]:]
        below, above = p["below"], p["above"]
        holds = tail < below if below is not None else tail > above
        active = bool(len(tail) == p["months"] and _consecutive(tail.index) and holds.all())
        last = values.index[-1]
        labels.update(threshold=below if below is not None else above, op="<" if below is not None else ">",
                      months=p["months"], history=[round(float(v), 3) for v in tail])
        out.append(Finding(subject, region_of(key), str(last), active, round(float(values.iloc[-1]), 6), labels))
    return out


def _change(rule: Rule, ctx: EvalContext) -> list[Finding]:
    p = rule.params
    frame = ctx.series(p["series"])
    out = []
    for key, _captures, group in _keys(frame, p["series"]):
        raw = group["raw"].dropna().sort_index()
        if len(raw) < 2 or (raw.index[-1] - raw.index[-2]).n != 1:
            continue
        last = raw.index[-1]
        change, se = float(raw.iloc[-1] - raw.iloc[-2]), math.nan
        if key.startswith("pmi/"):
            matched = ctx.series("pmi_change/" + key[4:])
            matched = matched[matched["series_key"] == "pmi_change/" + key[4:]]
            if last in matched.index and pd.notna(matched.loc[last, "raw"]):
                change, se = float(matched.loc[last, "raw"]), float(matched.loc[last, "se"])
        if not np.isfinite(se):
            ses = group["se"].sort_index()
            se = float(np.hypot(ses.iloc[-1], ses.iloc[-2])) if ses.iloc[-2:].notna().all() else math.nan
        if not np.isfinite(se) or se <= 0:
            continue
        k = p["se_multiple"]
        active = change < -k * se if p["direction"] == "fall" else change > k * se
        out.append(Finding(key, region_of(key), str(last), bool(active), round(change, 6),
                           {"series": key, "se": round(se, 6), "se_multiple": k, "direction": p["direction"]}))
    return out


def _survey_months(ctx: EvalContext) -> pd.Period | None:
    latest = ctx.read(survey_q.survey_month_span)[1]
    if latest is None or (isinstance(latest, float) and math.isnan(latest)):
        return None
    month = pd.Period(latest, "M")
    if ctx.period is not None:
        month = min(month, ctx.period)
    return ctx.closed_month(month)


def _enterprises(ctx: EvalContext) -> pd.DataFrame:
    return ctx.read(survey_q.enterprise_records, ("id", "uscc", "name_zh", "name_en", "district_code",
                                                  "industry_code", "size_class", "sample_weight", "panel_start",
                                                  "panel_end"))


def _power(rule: Rule, ctx: EvalContext) -> list[Finding]:
    from ..compute_monitoring import HISTORY_MONTHS, monthly_meter
    from ..indicators import electricity_indicators

    last_day = ctx.read(monitoring_q.last_reading_day)
    if last_day is None or (isinstance(last_day, float) and math.isnan(last_day)):
        return []
    last_day = pd.Timestamp(last_day).date()
    month = pd.Period(last_day, "M")
    if last_day != month.end_time.date():
        month -= 1  # a month still being read is not judged
    if ctx.period is not None:
        month = min(month, ctx.period)
    if "power_firms" not in ctx._cache or ctx._cache["power_firms"][0] != month:
        first_day = (month - HISTORY_MONTHS).start_time.date()
        meter = monthly_meter(ctx.store, first_day)
        ent = _enterprises(ctx)
        if meter.empty:
            return []
        result = electricity_indicators(meter, ent.drop(columns=["uscc", "name_en"]), months=[month],
                                        stop_threshold=ctx.settings["monitoring.stop_threshold"],
                                        semi_threshold=ctx.settings["monitoring.semi_threshold"],
                                        breakdowns=("city",))
        ctx._cache["power_firms"] = (month, result.firms)
    firms = ctx._cache["power_firms"][1]
    ent = _enterprises(ctx).set_index("id")
    firms = firms[(firms["period"].astype(str) == str(month)) & firms["ratio"].notna()]
    lo, hi = rule.params["above"], rule.params["below"]
    out = []
    for row in firms.itertuples(index=False):
        if row.enterprise_id not in ent.index:
            continue
        e = ent.loc[row.enterprise_id]
        ratio = float(row.ratio)
        out.append(Finding(f"enterprise/{e['uscc']}", str(e["district_code"]), str(month), lo <= ratio < hi,
                           round(ratio, 4), {"enterprise": str(e["uscc"]), "name_zh": e["name_zh"],
                                             "name_en": e["name_en"], "below": hi, "above": lo}))
    return out


def _no_response(rule: Rule, ctx: EvalContext) -> list[Finding]:
    month = _survey_months(ctx)
    if month is None:
        return []
    n = rule.params["months"]
    months = [str(month - i) for i in range(n)]
    answered = ctx.read(survey_q.respondents, months[-1])
    answered = answered[answered["period"].isin(months)]
    by_firm = answered.groupby("enterprise_id")["period"].nunique()
    ent = _enterprises(ctx)
    out = []
    for e in ent.itertuples(index=False):
        start, end = str(e.panel_start), e.panel_end
        in_sample_now = start <= str(month) and (end is None or pd.isna(end) or str(end) >= str(month))
        if not in_sample_now:
            continue
        whole = start <= months[-1]
        none = int(by_firm.get(e.id, 0)) == 0
        out.append(Finding(f"enterprise/{e.uscc}", str(e.district_code), str(month), bool(whole and none),
                           float(n if none else 0), {"enterprise": e.uscc, "name_zh": e.name_zh,
                                                     "name_en": e.name_en, "months": n}))
    return out


def _target_path(rule: Rule, ctx: EvalContext) -> list[Finding]:
    targets = ctx.read(monitoring_q.targets)
    official = ctx.read(monitoring_q.official_series)
    pattern = rule.params["indicator"]
    official = official[official["period"].astype(str).str.len() == 7]
    if ctx.period is not None:
        official = official[official["period"] <= str(ctx.period)]
    out = []
    margin = rule.params["margin"]
    for (indicator, region), obs in official.groupby(["series", "region"]):
        if not fnmatch.fnmatchcase(str(indicator), pattern):
            continue
        last = obs.sort_values("period").iloc[-1]
        year = int(str(last["period"])[:4])
        t = targets[(targets["indicator"] == indicator) & (targets["region"] == region) & (targets["year"] == year)]
        if t.empty:
            continue
        target, cmp = float(t["value"].iloc[0]), str(t["comparison"].iloc[0])
        ytd = float(last["value"])
        active = ytd < target - margin if cmp == ">=" else ytd > target + margin
        out.append(Finding(f"target/{indicator}/{region}", str(region), str(last["period"]), bool(active),
                           round(ytd, 6), {"indicator": indicator, "target": target, "comparison": cmp,
                                           "year": year, "margin": margin}))
    return out


def _target_odds(rule: Rule, ctx: EvalContext) -> list[Finding]:
    odds = ctx.read(odds_with_targets)
    if odds.empty:
        return []
    if ctx.period is not None:
        odds = odds[odds["origin"] <= str(ctx.period)]
    pattern = rule.params["indicator"]
    out = []
    for (_year, indicator, region), rows in odds.groupby(["year", "indicator", "region"]):
        if not fnmatch.fnmatchcase(str(indicator), pattern):
            continue
        row = rows.sort_values("origin").iloc[-1]
        prob = float(row["probability"])
        out.append(Finding(f"odds/{indicator}/{region}", str(region), str(row["origin"]),
                           prob < rule.params["below"], round(prob, 6),
                           {"indicator": indicator, "year": int(row["year"]), "target": float(row["target"]),
                            "comparison": row["comparison"], "below": rule.params["below"],
                            "expected": float(row["expected"])}))
    # only the newest year per subject is judged
    newest: dict[str, Finding] = {}
    for f in out:
        if f.subject not in newest or f.period > newest[f.subject].period:
            newest[f.subject] = f
    return list(newest.values())


def _response_rate(rule: Rule, ctx: EvalContext) -> list[Finding]:
    month = _survey_months(ctx)
    if month is None:
        return []
    frame = ctx.series(rule.params["series"])
    out = []
    for key, _captures, group in _keys(frame, rule.params["series"]):
        raw = group["raw"].dropna()
        if month not in raw.index:
            continue
        value = float(raw.loc[month])
        out.append(Finding(key, region_of(key), str(month), value < rule.params["below"], round(value, 4),
                           {"series": key, "threshold": rule.params["below"], "op": "<"}))
    return out


def _leading_turn(rule: Rule, ctx: EvalContext) -> list[Finding]:
    """The composite leading indicator turned down: its latest Bry-Boschan turning point is a recent peak."""
    from ..leading import leading_signal

    pattern = rule.params["series"]
    frame = ctx.series(pattern)
    out = []
    for key, _captures, group in _keys(frame, pattern):
        if key.startswith(("cli/reference/", "cli/lead/")):
            continue
        values = group["raw"].dropna().sort_index()
        if len(values) < 24:
            continue
        signal = leading_signal(values, confirm=rule.params["confirm"])
        active = signal["kind"] == "peak" and int(cast(int, signal["months_ago"] or 0)) <= rule.params["within"]
        out.append(Finding(key, region_of(key), str(values.index[-1]), bool(active), round(float(values.iloc[-1]), 4),
                           {"series": key, "turn": signal["kind"], "turn_period": str(signal["period"] or ""),
                            "months_ago": signal["months_ago"], "phase": signal["phase"],
                            "within": rule.params["within"]}))
    return out


EVALUATORS: dict[str, Callable[[Rule, EvalContext], list[Finding]]] = {
    "level": _level, "change": _change, "power": _power, "no_response": _no_response,
    "target_path": _target_path, "target_odds": _target_odds, "response_rate": _response_rate,
    "leading_turn": _leading_turn,
}


def evaluate_rule(rule: Rule, ctx: EvalContext) -> list[Finding]:
    """Evaluate one rule; exceptions propagate (the caller isolates and records them)."""
    return EVALUATORS[rule.kind](rule, ctx)
