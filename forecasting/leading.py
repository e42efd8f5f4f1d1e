"""A composite leading indicator (the OECD CLI method) and business-cycle turning points (Bry-Boschan).

The recipe follows METHODOLOGY 6.5 (OECD "composite leading indicators" FAQ and methodology notes):

1. **Growth cycle** of every series (:func:`growth_cycle`): a double Hodrick-Prescott filter removes the trend
   (cycles longer than ``long`` months, lambda = 133,107.94 for 120 months) and the noise (cycles shorter than
   ``short`` months, lambda = 13.93 for 12 months), with ``lambda = 1 / (4 (1 - cos(2 pi / tau))^2)``.  Positive
   level series are de-trended multiplicatively (on the log); diffusion indices and growth rates additively.
2. **Component selection** (:func:`select_components`) by the cross-correlation of each component's cycle with
   the reference's cycle: a component is kept when its strongest correlation (with either sign; a negative one
   means the component enters inverted, like an inventory index) is reached with the component *leading* by
   ``min_lead..max_lead`` months and is at least ``min_corr`` in absolute value.
3. **Normalisation**: each kept cycle (sign-corrected) minus its mean, divided by its mean absolute deviation.
4. **Aggregation**: the average of the normalised components over the months where at least half of them are
   observed, then amplitude-adjusted to the reference cycle and centred on 100 (the OECD's amplitude-adjusted
   CLI: above 100 = activity above its trend).
5. **Turning points** (:func:`turning_points`) by the Bry-Boschan rules: local extremes within +-``window``
   months, alternation of peaks and troughs (the more extreme of two same-type neighbours is kept), none within
   ``censor`` months of the ends, phases of at least ``min_phase`` months and full cycles of at least
   ``min_cycle`` months (the smaller swing is removed first).

:func:`turning_point_match` compares the turning points of the indicator with those of the reference (hit
rate, median lead, missed and extra turns).  Everything here is pure: pandas in, pandas out, monthly
``PeriodIndex``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import ForecastingError

__all__ = ["LeadingIndicator", "composite_leading_indicator", "cross_correlation", "growth_cycle", "hp_lambda",
           "select_components", "turning_point_match", "turning_points", "latest_signal"]

#: Fewest observed months a component or the reference needs.
MIN_MONTHS = 48


def hp_lambda(period: float) -> float:
    """The HP smoothing parameter whose filter halves cycles of ``period`` months (OECD's formula)."""
    omega = 2 * np.pi / float(period)
    return float(1.0 / (4.0 * (1.0 - np.cos(omega)) ** 2))


def _hp_trend(values: np.ndarray, lamb: float) -> np.ndarray:
    """The HP trend of a complete 1-d array (sparse solve of (I + lamb D'D) tau = y)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    n = values.size
    if n < 3:
        return values.copy()
    diff = sparse.diags([np.ones(n - 2), -2 * np.ones(n - 2), np.ones(n - 2)], [0, 1, 2], shape=(n - 2, n))
    system = sparse.eye(n, format="csc") + lamb * (diff.T @ diff)
    return np.asarray(spsolve(system.tocsc(), values), dtype=float)


def _check(series: pd.Series, what: str) -> pd.Series:
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.PeriodIndex) \
            or series.index.freqstr[0] != "M":
        raise ForecastingError(f"leading indicator: {what} must be a pandas Series with a monthly PeriodIndex; "
                               f"got {type(series).__name__}")
    return pd.to_numeric(series, errors="coerce").astype(float).sort_index()


def growth_cycle(series: pd.Series, *, long: float = 120, short: float = 12, log: bool | None = None) -> pd.Series:
    """The smoothed growth cycle of a monthly series by the double HP filter.

    Parameters
    ----------
    series
        Monthly values (``PeriodIndex``); inner gaps are interpolated for the filter and left NaN in the result.
    long, short
        Cycle lengths (months) removed as trend (longer) and as noise (shorter).
    log
        De-trend the log (multiplicative, for positive levels).  Default: when every value is positive and the
        series is not a percentage around 0 or 50 (a level rather than a rate or a diffusion index), judged as
        a minimum above 0 and a coefficient of variation of the first difference below 0.2 of the level.

    Returns
    -------
    pandas.Series
        The cycle (log points x 100 when ``log``, else the series' units), on the observed span.
    """
    s = _check(series, "series")
    observed = s.dropna()
    if len(observed) < MIN_MONTHS:
        raise ForecastingError(f"leading indicator: {series.name or 'series'} has {len(observed)} observed months; "
                               f"the growth cycle needs at least {MIN_MONTHS}")
    span = s.loc[observed.index[0]:observed.index[-1]]
    filled = span.interpolate(limit_area="inside")
    if log is None:
        log = bool((filled > 0).all() and filled.min() > 0.2 * filled.abs().mean() and filled.mean() > 100)
    values = np.log(filled.to_numpy()) * 100 if log else filled.to_numpy()
    detrended = values - _hp_trend(values, hp_lambda(long))
    smooth = _hp_trend(detrended, hp_lambda(short))
    out = pd.Series(smooth, index=span.index, name=series.name)
    return out.where(span.notna())


def cross_correlation(component: pd.Series, reference: pd.Series, max_lead: int = 12) -> pd.Series:
    """Correlation of ``component`` shifted forward by k months with ``reference``, k = -max_lead..max_lead.

    A positive k with the strongest correlation means the component *leads* the reference by k months.
    """
    out = {}
    for k in range(-max_lead, max_lead + 1):
        shifted = component.copy()
        shifted.index = shifted.index + k
        pair = pd.concat([shifted, reference], axis=1, join="inner").dropna()
        out[k] = float(pair.iloc[:, 0].corr(pair.iloc[:, 1])) if len(pair) >= 24 else np.nan
    return pd.Series(out, name="correlation")


@dataclass
class LeadingIndicator:
    """The outcome of :func:`composite_leading_indicator`.

    Attributes
    ----------
    cli
        The amplitude-adjusted composite indicator (100 = trend), monthly.
    reference_cycle
        The reference series' growth cycle (units of the reference).
    components
        Per candidate: ``lead`` (months of the strongest correlation), ``correlation``, ``selected``, ``sign``.
    lead, correlation
        Lead of the composite over the reference (months, strongest cross-correlation) and that correlation.
    notes
        Decisions (components dropped and why).
    """

    cli: pd.Series
    reference_cycle: pd.Series
    components: pd.DataFrame
    lead: int
    correlation: float
    notes: list[str] = field(default_factory=list)


def select_components(cycles: dict[str, pd.Series], reference_cycle: pd.Series, *, min_lead: int = 0,
                      max_lead: int = 12, min_corr: float = 0.5) -> pd.DataFrame:
    """Lead and correlation of every component's cycle against the reference cycle, and whether it is kept."""
    rows = []
    for name, cycle in cycles.items():
        cc = cross_correlation(cycle, reference_cycle, max_lead).dropna()
        if cc.empty:
            rows.append((name, np.nan, np.nan, False, 1))
            continue
        k = int(cc.abs().idxmax())
        corr = float(cc[k])
        keep = min_lead <= k <= max_lead and abs(corr) >= min_corr
        rows.append((name, k, corr, keep, 1 if corr >= 0 else -1))
    return pd.DataFrame(rows, columns=["component", "lead", "correlation", "selected", "sign"]).set_index("component")


def composite_leading_indicator(components: pd.DataFrame, reference: pd.Series, *, min_lead: int = 0,
                                max_lead: int = 12, min_corr: float = 0.5, long: float = 120,
                                short: float = 12) -> LeadingIndicator:
    """Build a composite leading indicator of ``reference`` from candidate ``components`` (OECD method).

    Parameters
    ----------
    components
        Candidate monthly series as columns (``PeriodIndex``); levels, diffusion indices or growth rates.
    reference
        The reference series (e.g. industrial value added growth), monthly.
    min_lead, max_lead, min_corr
        Selection rule: the strongest cross-correlation must be reached with the component leading by
        ``min_lead..max_lead`` months and be at least ``min_corr`` in absolute value.
    long, short
        The double-HP cycle bounds (months).

    Raises
    ------
    ForecastingError
        Too short a reference, or no component passes the selection.
    """
    if not isinstance(components, pd.DataFrame):
        raise ForecastingError("leading indicator: components must be a pandas DataFrame of monthly series")
    ref_cycle = growth_cycle(reference, long=long, short=short)
    notes: list[str] = []
    cycles = {}
    for name in components.columns:
        try:
            cycles[str(name)] = growth_cycle(components[name].rename(str(name)), long=long, short=short)
        except ForecastingError as exc:
            notes.append(f"{name}: not used ({exc})")
    table = select_components(cycles, ref_cycle, min_lead=min_lead, max_lead=max_lead, min_corr=min_corr)
    kept = table.index[table["selected"]].tolist()
    for name, row in table[~table["selected"]].iterrows():
        notes.append(f"{name}: not selected (strongest correlation {row['correlation']:.2f} at lead "
                     f"{row['lead']:g} months; needs |r| >= {min_corr:g} at a lead of {min_lead}..{max_lead})")
    if not kept:
        raise ForecastingError(f"leading indicator: no component leads the reference by {min_lead}..{max_lead} "
                               f"months with |correlation| >= {min_corr:g}; candidates: "
                               + ", ".join(f"{n} r={r.correlation:.2f} lead {r.lead:g}" for n, r in table.iterrows()))
    normalised = {}
    for name in kept:
        c = cycles[name] * table.loc[name, "sign"]
        mad = float((c - c.mean()).abs().mean())
        normalised[name] = (c - c.mean()) / (mad if mad > 0 else 1.0)
    frame = pd.DataFrame(normalised)
    enough = frame.notna().sum(axis=1) >= max(1, int(np.ceil(len(kept) / 2)))
    composite = frame.mean(axis=1).where(enough).dropna()
    ref_scale = float((ref_cycle - ref_cycle.mean()).abs().mean())
    comp_scale = float((composite - composite.mean()).abs().mean())
    cli = 100 + (composite - composite.mean()) / (comp_scale if comp_scale > 0 else 1.0) * ref_scale
    cli.name = "cli"
    cc = cross_correlation(cli, ref_cycle, max_lead).dropna()
    lead = int(cc.idxmax()) if not cc.empty else 0
    return LeadingIndicator(cli=cli, reference_cycle=ref_cycle, components=table, lead=lead,
                            correlation=float(cc.max()) if not cc.empty else float("nan"), notes=notes)


def turning_points(series: pd.Series, *, window: int = 5, censor: int = 6, min_phase: int = 5,
                   min_cycle: int = 15) -> pd.DataFrame:
    """Peaks and troughs of a (smoothed) monthly series by the Bry-Boschan rules.

    Parameters
    ----------
    series
        Monthly values (NaNs are dropped).
    window
        A peak (trough) is the highest (lowest) value within +-``window`` months.
    censor
        No turning point within this many months of either end (a turn needs that much data after it).
    min_phase, min_cycle
        Fewest months from a peak to the next trough (and back), and between two peaks or two troughs.

    Returns
    -------
    pandas.DataFrame
        ``period`` (monthly Period), ``kind`` (``peak``/``trough``), ``value``; alternating, in time order.
    """
    s = _check(series, "series").dropna()
    values = s.to_numpy()
    n = len(values)
    cands: list[tuple[int, str]] = []
    for i in range(n):
        lo, hi = max(0, i - window), min(n, i + window + 1)
        seg = values[lo:hi]
        if values[i] == seg.max() and (seg < values[i]).any():
            cands.append((i, "peak"))
        elif values[i] == seg.min() and (seg > values[i]).any():
            cands.append((i, "trough"))
    cands = [(i, k) for i, k in cands if censor <= i < n - censor]

    def alternate(points: list[tuple[int, str]]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for i, k in points:
            if out and out[-1][1] == k:
                j = out[-1][0]
                better = values[i] > values[j] if k == "peak" else values[i] < values[j]
                if better:
                    out[-1] = (i, k)
                continue
            out.append((i, k))
        return out

    points = alternate(cands)
    changed = True
    while changed and len(points) >= 2:
        changed = False
        # the shortest violation first: a phase shorter than min_phase, or a cycle shorter than min_cycle
        worst = None
        for a in range(len(points) - 1):
            gap = points[a + 1][0] - points[a][0]
            if gap < min_phase:
                swing = abs(values[points[a + 1][0]] - values[points[a][0]])
                if worst is None or swing < worst[0]:
                    worst = (swing, a, a + 1)
        for a in range(len(points) - 2):
            if points[a + 2][0] - points[a][0] < min_cycle:
                swing = abs(values[points[a + 1][0]] - values[points[a][0]]) + \
                    abs(values[points[a + 2][0]] - values[points[a + 1][0]])
                # remove the turn pair with the smaller amplitude: (a+1, a+2) or (a, a+1)
                left = abs(values[points[a + 1][0]] - values[points[a][0]])
                right = abs(values[points[a + 2][0]] - values[points[a + 1][0]])
                pair = (a + 1, a + 2) if right <= left else (a, a + 1)
                if worst is None or swing / 2 < worst[0]:
                    worst = (swing / 2, *pair)
        if worst is not None:
            _, x, y = worst
            points = alternate([p for idx, p in enumerate(points) if idx not in (x, y)])
            changed = True
    return pd.DataFrame({"period": [s.index[i] for i, _ in points], "kind": [k for _, k in points],
                         "value": [float(values[i]) for i, _ in points]})


def latest_signal(series: pd.Series, *, window: int = 5, confirm: int = 3, min_phase: int = 5,
                  min_cycle: int = 15) -> dict[str, object]:
    """The latest turning point of an indicator as a signal, with ``confirm`` months of data after it.

    Returns ``{"kind": "peak"|"trough"|None, "period": Period|None, "months_ago": int|None, "phase": str}``
    where ``phase`` is the OECD phase of the last month: ``expansion`` (above 100 and rising), ``downturn``
    (above 100, falling), ``slowdown`` (below 100, falling) or ``recovery`` (below 100, rising).
    """
    s = _check(series, "series").dropna()
    tp = turning_points(s, window=window, censor=confirm, min_phase=min_phase, min_cycle=min_cycle)
    phase = ""
    if len(s) >= 2:
        rising = s.iloc[-1] >= s.iloc[-2]
        above = s.iloc[-1] >= 100
        phase = ("expansion" if rising else "downturn") if above else ("recovery" if rising else "slowdown")
    if tp.empty:
        return {"kind": None, "period": None, "months_ago": None, "phase": phase}
    last = tp.iloc[-1]
    return {"kind": str(last["kind"]), "period": last["period"], "months_ago": int((s.index[-1] - last["period"]).n),
            "phase": phase}


def turning_point_match(indicator: pd.DataFrame, reference: pd.DataFrame, *, max_lead: int = 12,
                        max_lag: int = 3) -> dict[str, float]:
    """Match the indicator's turning points with the reference's.

    A reference turn is *hit* when the indicator has a turn of the same kind from ``max_lead`` months before
    to ``max_lag`` months after it (each indicator turn used once).  Returns ``hits``, ``reference_turns``,
    ``hit_rate``, ``extra`` (indicator turns matching nothing), ``median_lead`` and ``mean_lead`` (months,
    positive = indicator first).
    """
    used: set[int] = set()
    leads = []
    for _, turn in reference.iterrows():
        best = None
        for j, cand in indicator.iterrows():
            if j in used or cand["kind"] != turn["kind"]:
                continue
            lead = (turn["period"] - cand["period"]).n
            if -max_lag <= lead <= max_lead and (best is None or abs(lead) < abs(best[1])):
                best = (j, lead)
        if best is not None:
            used.add(best[0])
            leads.append(best[1])
    n_ref = len(reference)
    return {"hits": float(len(leads)), "reference_turns": float(n_ref),
            "hit_rate": float(len(leads) / n_ref) if n_ref else float("nan"),
            "extra": float(len(indicator) - len(used)),
            "median_lead": float(np.median(leads)) if leads else float("nan"),
            "mean_lead": float(np.mean(leads)) if leads else float("nan")}
