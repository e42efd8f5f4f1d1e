"""Bridge-equation nowcasts of a y/y growth rate, chosen out of sample on the training window only.

The statistics office's toolbox for nowcasting a monthly official growth rate (industrial value added y/y)
from timelier indicators (the PMI of the month, electricity growth to the month before):

*What moves a y/y rate.*  With ``g_t`` the y/y growth and ``m_t`` the month-on-month momentum,
``g_t - g_{t-1} ~ m_t - m_{t-12}``: this month's momentum, which the PMI and electricity carry, **minus the
momentum of the same month a year ago** (the base effect, known from the target's own history:
``g_{t-12} - g_{t-13}`` holds ``m_{t-12}``), plus the working days of the month against last year's (known
from the calendar in advance) and the noise of the last published value (which partly reverts).  A bridge on
the indicators' changes alone (the classic bridge) leaves out the base effect and the calendar.

*Candidates* (:data:`SPECS`): the equations ``y_t - y_L = a + b'f_t`` on the change since the last published
month ``L`` (``t - 1``; December at a March origin, January and February not being published separately):

``naive``
    No regressor, no drift: the last published value.
``bridge``
    The changes of the indicators since ``L``.
``base``
    The base effect, the working-day difference and the last published change (error correction of its noise).
``base_bridge``, ``base_yoy``
    ``base`` plus the indicators' changes, or plus their changes on a year earlier (``x_t - x_{t-12}``).
``ecm``
    ``base_yoy`` plus the gap of the last value to its 12-month mean (error correction toward the trend).
``midas``
    U-MIDAS: the last published value and the indicators at lags 0..2, unrestricted.
``two_year``
    The bridge on the two-year average growth rate (:func:`two_year_average`), converted back (base effects
    of a distorted year).
``revert``
    ``base`` plus the gap of the last value to its 12-month mean, without the indicators.
``base2``
    ``base`` plus the change of two years ago (the second term of last year's momentum).
``peer_gap``, ``peer_bridge``
    ``base`` plus the gap of each *peer* (a growth rate of the same kind: the region's electricity growth,
    the national output growth) to the target in the latest month known of both (error correction toward the
    peer); ``peer_bridge`` adds the indicators' changes.  Run only when the caller names peers.

*Estimation.*  Huber M-estimation (:func:`huber_fit`): every month is kept, a month far off the equation (the
2020 collapse, the 2021 rebound) gets a small weight instead of being dropped.

*Release calendar.*  The caller passes what is known at the origin: the target to its last published month,
each indicator to its last known month.  Each indicator enters with the lag it has at the origin (electricity
known to ``P - 1`` enters as ``e_{t-1}`` in every equation, estimation included), so the equations are
estimated on the information they are used with.

*Choice, out of sample, on the training window only* (:func:`select_nowcast`): every candidate is run at each
earlier origin of the same type (ordinary months, or March origins) whose outcome is published by the origin,
each time estimated on the ``window`` months before that earlier origin; the ``top`` candidates with the lowest
mean absolute error there are averaged (a forecast combination).  No outcome after the origin is used.

*Intervals* (normalised split conformal): the combination's absolute out-of-sample error at each earlier origin
is divided by the target's volatility known there (:func:`recent_scale`: the mean absolute month-on-month change
over the 12 months to its last published value); the 80/95 % half-width is the finite-sample conformal quantile
of these scores (:func:`conformal_quantile`: the ``ceil((n + 1) level)``-th smallest of ``n``, at least
:data:`MIN_CONFORMAL` of them) times the volatility now.  A turbulent year widens the interval as soon as its
changes are published, instead of waiting for its errors to enter the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import ForecastingError
from .nowcast import two_year_average

__all__ = ["SPECS", "BridgeFeatures", "SelectedNowcast", "bridge_features", "conformal_quantile", "huber_fit",
           "recent_scale", "select_nowcast", "spec_nowcasts", "two_year_average"]

#: Candidate equations: name -> regressor groups (``own``, ``base``, ``base2``, ``wd``, ``d``: indicator changes,
#: ``yoy``: indicators' change on a year earlier, ``gap12``, ``midas``, ``peer``: the gap of a peer growth rate to
#: the target in the last published month).
SPECS: dict[str, tuple[str, ...]] = {
    "naive": (),
    "bridge": ("d",),
    "base": ("own", "base", "wd"),
    "base_bridge": ("own", "base", "wd", "d"),
    "base_yoy": ("own", "base", "wd", "yoy"),
    "ecm": ("own", "base", "wd", "yoy", "gap12"),
    "midas": ("level", "midas"),
    "two_year": ("d",),
    "revert": ("own", "base", "wd", "gap12"),
    "base2": ("own", "base", "base2", "wd"),
    "peer_gap": ("own", "base", "wd", "peer"),
    "peer_bridge": ("own", "base", "wd", "peer", "d"),
}

#: Fewest published months of the target before an origin.
MIN_PUBLISHED = 36
#: Extra rows an equation needs beyond its coefficients to be estimated.
MIN_DF = 12


@dataclass
class SelectedNowcast:
    """The outcome of :func:`select_nowcast`.

    Attributes
    ----------
    period
        The month nowcast (the origin).
    kind
        ``"ordinary"`` or ``"march"`` (the origin type whose record chose the members).
    mean, lo, hi
        The nowcast and its interval bounds per level (percent).
    members
        The candidates averaged, best first.
    record
        Out-of-sample mean absolute error of each candidate on the earlier origins of the same type.
    scored
        Earlier origins scored.
    last_published
        The target's last published month at the origin.
    candidates
        Every candidate's own nowcast of ``period``.
    contributions
        Each regressor's contribution to the change predicted since the last published value (the members'
        average), for the report's "what moved the nowcast".
    notes
        Decisions (fallbacks).
    """

    period: pd.Period
    kind: str
    mean: float
    lo: dict[float, float]
    hi: dict[float, float]
    members: tuple[str, ...]
    record: dict[str, float]
    scored: int
    last_published: pd.Period
    contributions: dict[str, float] = field(default_factory=dict)
    candidates: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return "+".join(self.members)


def _last_before(published: np.ndarray, t: int) -> int:
    """Index of the last published month before ``t`` (-1 if none)."""
    k = int(np.searchsorted(published, t)) - 1
    return int(published[k]) if k >= 0 else -1


@dataclass
class BridgeFeatures:
    """What the candidate equations are built from, over a monthly ``index``: the target ``y`` (NaN where not
    published), ``last[t]`` (position of the last month published before ``t``, -1 if none), the two-year average
    ``two``, and the regressor groups (arrays) with their labels."""

    index: pd.PeriodIndex
    y: np.ndarray
    last: np.ndarray
    two: np.ndarray
    groups: dict[str, list[np.ndarray]]
    names: dict[str, list[str]]


def bridge_features(target: pd.Series, indicators: pd.DataFrame | None, index: pd.PeriodIndex,
                    lags: dict[str, int], working_days: pd.Series | None,
                    peers: Sequence[str] = ()) -> BridgeFeatures:
    """The arrays the candidate equations are built from, over ``index`` (a monthly range).

    ``L(t)`` is the last month published before ``t`` (in the target as given); each indicator is shifted by
    its lag at the origin (``lags``).  A ``peers`` indicator (a growth rate of the same kind: the region's
    electricity growth, the national output growth) also enters as its gap to the target in the latest month
    known of both, ``min(L, t - lag)`` (the release calendar: never a month past the peer's release).
    """
    n = len(index)
    y = target.reindex(index).to_numpy(float)
    published = np.flatnonzero(np.isfinite(y))
    last = np.array([_last_before(published, t) for t in range(n)], dtype=int)
    prev = np.array([_last_before(published, int(lp)) if lp >= 0 else -1 for lp in last], dtype=int)

    def at(arr: np.ndarray, pos: np.ndarray) -> np.ndarray:
        out = np.full(len(pos), np.nan)
        ok = (pos >= 0) & (pos < len(arr))
        out[ok] = arr[pos[ok]]
        return out

    t = np.arange(n)
    gap = np.full(n, np.nan)
    for i, lp in enumerate(last):
        if lp >= 0:
            window = y[max(lp - 11, 0): lp + 1]
            window = window[np.isfinite(window)]
            if len(window) >= 6:
                gap[i] = y[lp] - window.mean()
    groups: dict[str, list[np.ndarray]] = {"own": [at(y, last) - at(y, prev)],
                                           "base": [at(y, t - 12) - at(y, last - 12)],
                                           "level": [at(y, last)], "gap12": [gap], "wd": [], "d": [], "yoy": [],
                                           "midas": [], "base2": [at(y, t - 24) - at(y, last - 24)], "peer": []}
    names: dict[str, list[str]] = {"own": ["own"], "base": ["base"], "level": ["level"], "gap12": ["gap12"],
                                   "wd": [], "d": [], "yoy": [], "midas": [], "base2": ["base2"], "peer": []}
    if working_days is not None:
        wd = working_days.reindex(index).to_numpy(float)
        wdy = np.log(wd / at(wd, t - 12)) * 100
        groups["wd"].append(wdy - at(wdy, last))
        names["wd"].append("wd")
    for col in ([] if indicators is None else indicators.columns):
        raw = indicators[col].reindex(index).to_numpy(float)  # type: ignore[index]
        x = at(raw, t - lags.get(col, 0))  # known at t with the lag it has at the origin
        if col in peers:
            both = np.minimum(last, t - lags.get(col, 0))  # the latest month known of the peer and the target
            groups["peer"].append(at(raw, both) - at(y, both))
            names["peer"].append(f"gap:{col}")
        groups["d"].append(x - at(x, last))
        names["d"].append(f"d:{col}")
        groups["yoy"].append(x - at(x, t - 12))
        names["yoy"].append(f"yoy:{col}")
        for j in range(3):
            groups["midas"].append(at(x, t - j))
            names["midas"].append(f"{col}[-{j}]")
    two = two_year_average(pd.Series(y, index=index)).to_numpy(float)
    return BridgeFeatures(index=index, y=y, last=last, two=two, groups=groups, names=names)


def _design(feat: BridgeFeatures, spec: str) -> tuple[np.ndarray, list[str]]:
    cols: list[np.ndarray] = []
    labels: list[str] = []
    for g in SPECS[spec]:
        cols += feat.groups[g]
        labels += feat.names[g]
    return (np.column_stack(cols) if cols else np.empty((len(feat.y), 0))), labels


def _response(feat: BridgeFeatures, spec: str) -> np.ndarray:
    src = feat.two if spec == "two_year" else feat.y
    out = np.full(len(feat.y), np.nan)
    ok = feat.last >= 0
    out[ok] = src[np.arange(len(feat.y))[ok]] - src[feat.last[ok]]
    return out


def _robust(values: np.ndarray, k: float = 5.0) -> np.ndarray:
    """Within ``k`` scaled MADs of the median (the range of changes a nowcast is held to leaves 2020-21 out)."""
    med = np.nanmedian(values)
    mad = 1.4826 * np.nanmedian(np.abs(values - med))
    if not np.isfinite(mad) or mad == 0:
        return np.asarray(np.isfinite(values))
    return np.asarray(np.abs(values - med) <= k * mad)


def huber_fit(X: np.ndarray, y: np.ndarray, *, c: float = 1.345, iterations: int = 30,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Huber M-estimate of ``y = X beta`` by iteratively reweighted least squares.

    Every row is kept: a row whose residual exceeds ``c`` robust standard deviations gets the weight
    ``c sigma / |residual|`` instead of 1, so the 2020 collapse and the 2021 rebound count for little without
    being dropped.  ``sigma`` is the scaled median absolute deviation of the least-squares residuals (fixed);
    the weights are iterated from least squares until the coefficients move by less than 1e-6 (relative).

    Returns
    -------
    beta, weights
        Coefficients and the final weight of each row (1 for an ordinary row).
    """
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    weights = np.ones(len(y))
    resid = y - X @ beta
    sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    if not np.isfinite(sigma) or sigma <= 1e-12:
        return beta, weights
    limit = c * sigma
    for _ in range(iterations):
        a = np.abs(y - X @ beta)
        weights = np.minimum(1.0, limit / np.maximum(a, 1e-300))
        xw = X * weights[:, None]
        try:
            new = np.linalg.solve(xw.T @ X, xw.T @ y)
        except np.linalg.LinAlgError:
            break
        done = float(np.max(np.abs(new - beta))) <= 1e-6 * (1 + float(np.max(np.abs(beta))))
        beta = new
        if done:
            break
    return beta, weights


def _is_march(p: pd.Period, last: pd.Period) -> bool:
    return bool((p - last).n > 1)


def _fit_one(feat: BridgeFeatures, spec: str, X: np.ndarray, r: np.ndarray, t: int, rows: np.ndarray,
             estimation: str = "huber") -> tuple[float, np.ndarray, np.ndarray] | None:
    """Estimate ``spec`` on ``rows`` and predict month ``t``: (level, contributions, in-sample residuals)."""
    y, last, two = feat.y, feat.last, feat.two
    lp = int(last[t])
    if lp < 0 or not np.isfinite(y[lp]):
        return None
    k = X.shape[1]
    if spec == "naive":
        return float(y[lp]), np.zeros(0), r[rows][np.isfinite(r[rows])]
    d = np.column_stack([np.ones(len(rows)), X[rows]])
    resp = r[rows]
    ok = np.isfinite(resp) & np.isfinite(d).all(axis=1)
    if ok.sum() < k + 1 + MIN_DF:
        return None
    if estimation == "drop":  # the earlier rule: months beyond 5 scaled MADs of the response left out
        ok &= _robust(np.where(ok, resp, np.nan))
        if ok.sum() < k + 1 + MIN_DF:
            return None
        beta, *_ = np.linalg.lstsq(d[ok], resp[ok], rcond=None)
        weights = np.ones(int(ok.sum()))
    else:
        beta, weights = huber_fit(d[ok], resp[ok])
    full = np.flatnonzero(ok)[weights >= 0.5]  # the rows not marked down as outliers
    x = X[t].copy()
    # a regressor unknown at t enters at 0 change; an extreme one is held to the range it was estimated on
    x = np.where(np.isfinite(x), x, 0.0)
    if k:
        x = np.clip(x, d[full][:, 1:].min(axis=0), d[full][:, 1:].max(axis=0))
    contrib = beta[1:] * x
    change = float(beta[0] + contrib.sum())
    resid = resp[ok] - d[ok] @ beta
    level = float(y[lp] + change)
    if spec == "two_year":
        base = y[t - 12] if t >= 12 else np.nan
        if not (np.isfinite(base) and np.isfinite(two[lp])):
            return None
        level = float(((1 + (two[lp] + change) / 100) ** 2 / (1 + base / 100) - 1) * 100)
    # a nowcast is held to the changes since the last published value that the estimation months saw (a
    # two-year average over a distorted year, or an indicator far out, cannot imply a jump never seen)
    seen = y[rows] - y[last[rows]]
    seen = seen[np.isfinite(seen)]
    seen = seen[_robust(seen)]
    if seen.size:
        level = float(y[lp] + np.clip(level - y[lp], seen.min(), seen.max()))
    return level, contrib, resid


def spec_nowcasts(feat: BridgeFeatures, t: int, *, window: int, specs: Sequence[str],
                  march: bool, estimation: str = "huber") -> dict[str, tuple[float, np.ndarray, list[str]]]:
    """Each candidate's nowcast of month ``t`` (position in the feature index), estimated on the rows of the
    same origin type among the ``window`` months before ``t`` whose outcome is published before ``t``."""
    y, last = feat.y, feat.last
    lo = max(0, t - window)
    cand = np.arange(lo, t)
    gaps = np.arange(len(y)) - last
    # ordinary origins: the ordinary months; March origins (too few of their own): every published month
    same = np.ones(len(cand), bool) if march else (gaps[cand] == 1)
    rows = cand[same & np.isfinite(y[cand]) & (last[cand] >= 0)]
    out: dict[str, tuple[float, np.ndarray, list[str]]] = {}
    for spec in specs:
        X, labels = _design(feat, spec)
        r = _response(feat, spec)
        got = _fit_one(feat, spec, X, r, t, rows, estimation)
        if got is not None:
            out[spec] = (got[0], got[1], labels)
    return out


def select_nowcast(target: pd.Series, indicators: pd.DataFrame | None, period: pd.Period | str, *,
                   window: int = 120, inner: int = 60, inner_march: int = 10, top: int = 3,
                   specs: Sequence[str] | None = None, working_days: pd.Series | None = None,
                   level: Sequence[float] = (80, 95), min_scored: int = 24, min_scored_march: int = 4,
                   peers: Sequence[str] = (), estimation: str = "huber") -> SelectedNowcast:
    """Nowcast ``target`` (a y/y growth rate, %) for ``period`` with the candidates that did best out of sample.

    Parameters
    ----------
    target
        Monthly (``PeriodIndex``) values **published by the origin** (the caller applies the release calendar;
        the last is usually ``period - 1``, December at a March origin).
    indicators
        Monthly indicators **as known at the origin** (the PMI to ``period``, electricity growth to
        ``period - 1``...): PMI indices as deviations from 50, growth rates as they are.  Each enters with the
        lag it has at the origin.  None: only the target's own history and the calendar.
    period
        The origin month to nowcast (not yet published).
    window
        Months before each (earlier) origin the equations are estimated on.
    inner, inner_march
        Earlier origins scored for the choice: the ordinary months among the last ``inner`` months, or the
        last ``inner_march`` March origins.
    top
        Candidates averaged (the best ``top`` by out-of-sample mean absolute error).
    specs
        The candidates (default all of :data:`SPECS`).
    working_days
        Working days per month (``forecasting.calendar.working_days``) covering the target's span and the
        origin; None: no calendar regressor.
    level
        Interval levels, percent.
    min_scored, min_scored_march
        Fewest earlier origins with an outcome for the choice; with fewer, the naive (last published value).
    peers
        Indicators that are growth rates of the same kind as the target (the region's electricity growth, the
        national output growth): their gap to the target in the latest month known of both enters the
        ``peer_*`` candidates (error correction toward the peer).  Without peers those candidates are skipped.
    estimation
        ``"huber"`` (every month kept, outlying ones at a small weight: :func:`huber_fit`) or ``"drop"`` (the
        earlier rule: least squares without the months whose change is beyond 5 scaled MADs).

    Returns
    -------
    SelectedNowcast

    Raises
    ------
    ForecastingError
        For a target that is not a monthly series, has fewer than 36 published months, or is already published
        for ``period``; for an unknown candidate.
    """
    period = pd.Period(period, "M")
    if not isinstance(target, pd.Series) or not isinstance(target.index, pd.PeriodIndex):
        raise ForecastingError("select_nowcast: target must be a pandas Series with a monthly PeriodIndex.")
    specs = tuple(SPECS) if specs is None else tuple(specs)
    unknown = [s for s in specs if s not in SPECS]
    if unknown:
        raise ForecastingError(f"select_nowcast: unknown candidate(s) {', '.join(unknown)}; use {', '.join(SPECS)}.")
    if estimation not in ("huber", "drop"):
        raise ForecastingError(f"select_nowcast: estimation must be 'huber' or 'drop', not {estimation!r}.")
    y = target.astype(float).sort_index()
    y = y[y.index <= period]
    published = y.loc[: period - 1].dropna()
    if len(published) < MIN_PUBLISHED:
        raise ForecastingError(f"select_nowcast: the target has {len(published)} published months before {period}; "
                               f"at least {MIN_PUBLISHED} are needed.")
    if period in y.index and np.isfinite(y.loc[period]):
        raise ForecastingError(f"select_nowcast: the target is already published for {period}; nothing to nowcast.")
    start = published.index[0]
    index = pd.period_range(start, period, freq="M")
    x = None
    lags: dict[str, int] = {}
    if indicators is not None and len(indicators.columns):
        x = indicators.astype(float).loc[lambda f: f.index <= period]
        x = x.loc[:, x.notna().sum() >= MIN_PUBLISHED]
        for col in x.columns:
            lags[col] = (period - x[col].last_valid_index()).n
        x = x.loc[:, [c for c in x.columns if lags[c] <= 3]]
    peers = [c for c in peers if x is not None and c in x.columns]
    feat = bridge_features(published, x, index, lags, working_days, peers)
    if not peers:
        specs = tuple(s for s in specs if 'peer' not in SPECS[s])
    t_now = len(index) - 1
    last = feat.last
    last_pub = index[int(last[t_now])]
    march = _is_march(period, last_pub)
    kind = "march" if march else "ordinary"
    notes: list[str] = []
    # the record: each candidate at earlier origins of the same type, outcome published before the origin
    gaps = np.arange(len(index)) - last
    yv = feat.y
    earlier = [q for q in range(t_now) if np.isfinite(yv[q]) and last[q] >= 0 and
               ((gaps[q] > 1) if march else (gaps[q] == 1))]
    earlier = earlier[-inner_march:] if march else [q for q in earlier if q >= t_now - inner]
    errors: dict[str, list[float]] = {s: [] for s in specs}
    preds: dict[str, dict[int, float]] = {s: {} for s in specs}
    for q in earlier:
        got = spec_nowcasts(feat, q, window=window, specs=specs, march=march, estimation=estimation)
        for s, (value, _c, _l) in got.items():
            preds[s][q] = value
            errors[s].append(value - float(yv[q]))
    need = min_scored_march if march else min_scored
    record = {s: float(np.mean(np.abs(e))) for s, e in errors.items() if len(e) >= need}
    now = spec_nowcasts(feat, t_now, window=window, specs=specs, march=march, estimation=estimation)
    ranked = [s for s in sorted(record, key=lambda s: record[s]) if s in now]
    if not ranked:
        notes.append(f"fewer than {need} earlier {kind} origins scored; the last published value is the nowcast")
        ranked = ["naive"] if "naive" in now else list(now)[:1]
        if not ranked:
            raise ForecastingError(f"select_nowcast: no candidate can be estimated for {period}.")
    members = tuple(ranked[:top])
    mean = float(np.mean([now[s][0] for s in members]))
    contributions: dict[str, float] = {}
    for s in members:
        for label, c in zip(now[s][2], now[s][1], strict=True):
            contributions[label] = contributions.get(label, 0.0) + float(c) / len(members)
    # the combination's own out-of-sample errors at the earlier origins where all members were scored, each
    # divided by the target's recent volatility as known at that origin (normalised split conformal)
    common = [q for q in earlier if all(q in preds[s] for s in members)]
    comb = np.array([np.mean([preds[s][q] for s in members]) - float(yv[q]) for q in common])
    scales = np.array([recent_scale(yv, last, q) for q in common])
    usable = np.isfinite(scales)
    scores = np.abs(comb[usable]) / scales[usable]
    scale_now = recent_scale(yv, last, t_now)
    lo: dict[float, float] = {}
    hi: dict[float, float] = {}
    for lv in level:
        a = (1 - float(lv) / 100) / 2
        half = conformal_quantile(scores, float(lv)) if np.isfinite(scale_now) else None
        if half is not None:
            lo[float(lv)], hi[float(lv)] = mean - half * scale_now, mean + half * scale_now
            if np.ceil((len(scores) + 1) * float(lv) / 100 - 1e-9) > len(scores):
                notes.append(f"interval {lv:g} %: {len(scores)} earlier {kind} nowcasts are too few for the level; "
                             "the largest of their scaled errors is used (may cover less)")
        elif len(comb) >= 3:
            rmse = float(np.sqrt(np.mean(comb ** 2)))
            z = float(_z(1 - a))
            lo[float(lv)], hi[float(lv)] = mean - z * rmse, mean + z * rmse
            notes.append(f"interval {lv:g} %: normal with the RMSE of {len(comb)} earlier {kind} nowcasts")
        else:
            lo[float(lv)] = hi[float(lv)] = float("nan")
    return SelectedNowcast(period=period, kind=kind, mean=mean, lo=lo, hi=hi, members=members, record=record,
                           scored=len(common), last_published=last_pub, contributions=contributions,
                           candidates={s: float(v[0]) for s, v in now.items()}, notes=notes)


#: Fewest scored earlier origins for a conformal interval (fewer: normal with their RMSE).
MIN_CONFORMAL = 10
#: Published month-on-month changes of the target the volatility scale needs among its last 12 months.
MIN_SCALE_CHANGES = 6


def recent_scale(y: np.ndarray, last: np.ndarray, t: int) -> float:
    """The target's recent volatility as known at position ``t``: the mean absolute change between consecutive
    published months among the 12 months to the last published one (the naive's recent error).  NaN with fewer
    than :data:`MIN_SCALE_CHANGES` such changes or a scale of zero."""
    lp = int(last[t])
    if lp < 1:
        return float("nan")
    window = y[max(lp - 12, 0): lp + 1]
    changes = np.diff(window)
    changes = changes[np.isfinite(changes)]
    if len(changes) < MIN_SCALE_CHANGES:
        return float("nan")
    value = float(np.mean(np.abs(changes)))
    return value if value > 0 else float("nan")


def conformal_quantile(scores: np.ndarray, level: float, *, minimum: int = MIN_CONFORMAL) -> float | None:
    """The split-conformal quantile of nonnegative ``scores`` for a ``level`` % interval.

    The ``ceil((n + 1) level / 100)``-th smallest of the ``n`` scores (the finite-sample correction: a new score
    exchangeable with them falls at or below it with probability at least ``level`` %).  When that rank exceeds
    ``n`` (too few scores for the level) the largest score is used, which under-covers; None with fewer than
    ``minimum`` scores.
    """
    s = np.sort(np.asarray(scores, float)[np.isfinite(scores)])
    n = len(s)
    if n < minimum:
        return None
    k = int(np.ceil((n + 1) * level / 100 - 1e-9))
    return float(s[min(max(k, 1), n) - 1])


def _z(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))
