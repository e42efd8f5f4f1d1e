"""Rolling-origin backtests and M4 accuracy measures (MASE, sMAPE, OWA relative to Naive2, coverage).

:func:`backtest` refits every model at each of the last ``origins`` origins and forecasts
``max(horizons)`` months ahead; the result is one tidy row per model, origin and horizon::

    model  origin  horizon  period  actual  forecast  lo  hi  [lo-95  hi-95 ...]  fallback

``origin`` is the last observed month; ``lo``/``hi`` are the bounds at the first of ``level``, further
levels get ``lo-L``/``hi-L`` columns.  ``fallback`` marks rows where the model failed at that origin and
seasonal naive was used instead (the failure is also listed in ``bt.attrs["notes"]``).

``"combination"`` in ``models`` is evaluated without look-ahead from its members' backtests: at each
origin the members are ranked by the MASE of their forecasts made at earlier origins whose target
month was already observed (last ``selection_window`` origins), the best ``k`` (less any scoring worse
than ``trim`` times the best) are kept and averaged (means and interval bounds; equal or inverse-MASE
weights), and the intervals are rescaled by the combination's standardised errors over that same track
record (see :class:`~forecasting.selection.Combination`).  The members are run over ``selection_window``
extra warm-up origins so that the first reported origin already has a track record.

:func:`accuracy` follows the M4 definitions: sMAPE = mean of 200 |y - f| / (|y| + |f|); MASE = mean
of |y - f| / s, with s the in-sample mean absolute seasonal (lag 12) difference of the training data
up to the origin; OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2.  With several series
(a ``series`` column), measures are averaged per series first, then across series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .calibration import interval_scale, rescale_intervals, standardised_errors
from .decompose import PERIOD
from .exceptions import ForecastingError
from .gaps import fill_missing
from .models import (
    Forecaster,
    SeasonalNaive,
    _lname,
    check_level,
    check_series,
    make_model,
    model_name,
)
from .outliers import clean_outliers
from .selection import Combination, trimmed

__all__ = ["accuracy", "backtest"]


def _run_model(
    spec: str | Forecaster, y: pd.Series, starts: Sequence[int], hmax: int, level: tuple[float, ...],
    exog: pd.DataFrame | None, reselect_every: int, notes: list[str], clean: bool = False,
) -> dict[int, tuple[pd.DataFrame, bool]]:
    """Forecast frames per training length ``t`` (the model refitted on ``y[:t]``)."""
    key = model_name(spec)
    out: dict[int, tuple[pd.DataFrame, bool]] = {}
    auto: Forecaster | None = None
    for i, t in enumerate(starts):
        train = clean_outliers(y.iloc[:t]) if clean else y.iloc[:t]
        h = hmax
        try:
            if auto is None or i % reselect_every == 0:
                model = make_model(spec)
                auto = model
            else:
                model = auto.frozen()
            xe = xf = None
            if exog is not None and model.supports_exog:
                xe, xf = exog.iloc[:t], exog.iloc[t: t + h]
                if len(xf) < h:
                    h = len(xf)
            model.fit(train, xe)
            out[t] = (model.predict(h, xf, level), False)
        except Exception as exc:  # per-origin failure isolation: seasonal naive, recorded
            notes.append(f"{key} at origin {y.index[t - 1]}: {type(exc).__name__}: {exc}; seasonal naive used")
            auto = None
            out[t] = (SeasonalNaive().fit(train).predict(h, None, level), True)
    return out


def _scale(values: np.ndarray) -> np.ndarray:
    """s[t] = mean |y_j - y_{j-12}| over j < t (the MASE scale of a training sample of length t)."""
    d = np.abs(values[PERIOD:] - values[:-PERIOD])
    cum = np.r_[np.zeros(PERIOD + 1), np.cumsum(d)]
    counts = np.r_[np.zeros(PERIOD + 1), np.arange(1, len(d) + 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale: np.ndarray = cum / counts  # index t -> scale of y[:t]; nan for t <= 12
    return scale


def backtest(
    series: pd.Series,
    *,
    models: Sequence[str | Forecaster],
    horizons: Iterable[int] = range(1, 7),
    origins: int = 60,
    level: Sequence[int | float] = (80,),
    exog: pd.DataFrame | None = None,
    reselect_every: int = 1,
    k: int = 3,
    weights: Literal["equal", "inverse_mase"] = "equal",
    selection_window: int = 12,
    missing: Literal["linear", "seasonal"] | None = None,
    outliers: Literal["keep", "clean"] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest over the last ``origins`` origins; see the module docstring.

    Parameters
    ----------
    series
        Monthly series (complete PeriodIndex, no missing values).
    models
        Names from :data:`forecasting.models.MODELS`, model instances, and/or ``"combination"`` (or a
        :class:`~forecasting.selection.Combination`, whose ``models``, ``k`` and ``weights`` are then used).
    horizons
        Horizons to report (each origin forecasts ``max(horizons)`` steps).
    origins
        Number of rolling origins; the last one leaves a single month to forecast.
    level
        Interval levels; the first gives the ``lo``/``hi`` columns.
    exog
        Exogenous regressors covering the series' index (used by models that support them).
    reselect_every
        Re-run the automatic specification choice (ETS, SARIMAX) every this many origins and
        re-estimate the chosen specification in between (``1``: choose afresh at every origin).
    k, weights, selection_window
        Combination settings (members kept, weighting, origins of track record used).
    missing
        ``None``: the series must be complete.  ``"linear"`` or ``"seasonal"``: missing months (e.g. the
        January and February that Chinese statistics do not publish) are filled with
        :func:`forecasting.fill_missing` for estimation; forecasts of filled months get ``actual`` NaN (not
        scored) and filled months are not used as origins (filling them would look ahead).
    outliers
        ``"clean"``: at each origin the training data pass through :func:`forecasting.clean_outliers`
        (only what was known at that origin) before every model is fitted; outcomes stay as observed.
        ``None`` (default): the combination's setting (``"clean"`` unless a
        :class:`~forecasting.selection.Combination` instance says otherwise), ``"keep"`` without a combination.
    """
    if outliers is None:
        combos = [m for m in models if m == "combination" or isinstance(m, Combination)]
        outliers = (combos[0].outliers if isinstance(combos[0], Combination) else "clean") if combos else "keep"
    if outliers not in ("keep", "clean"):
        raise ForecastingError(f"outliers must be 'keep' or 'clean'; got {outliers!r}.")
    filled = pd.PeriodIndex([], freq="M")
    if missing is not None:
        series = fill_missing(series, missing)
        filled = series.attrs["filled"]
    y = check_series(series, name="backtest", minimum=PERIOD + 2)
    horizons = sorted(set(int(h) for h in horizons))
    if not horizons or horizons[0] < 1:
        raise ForecastingError(f"horizons must be positive integers; got {horizons}.")
    level = check_level(level)
    if not level:
        raise ForecastingError("level needs at least one interval level, e.g. (80,).")
    n, hmax = len(y), max(horizons)
    if origins < 1:
        raise ForecastingError(f"origins must be at least 1; got {origins}.")
    is_filled = y.index.isin(filled)
    starts = [t for t in range(n - origins, n) if not is_filled[t - 1]]
    if filled.size:
        notes_fill = [f"{int(is_filled.sum())} missing months filled ({missing}) for estimation, not scored; "
                      f"{origins - len(starts)} of {origins} origins skipped (origin month filled)"]
    else:
        notes_fill = []
    members: list[str | Forecaster] = []
    combo: Combination | None = None
    plain: list[str | Forecaster] = []
    for m in models:
        if m == "combination" or isinstance(m, Combination):
            combo = m if isinstance(m, Combination) else Combination(k=k, weights=weights)
        else:
            plain.append(m)
    warm: list[int] = []
    if combo is not None:
        members = list(combo.models)
        warm = list(range(max(n - origins - selection_window, 1), n - origins))
    run: dict[str, str | Forecaster] = {model_name(m): m for m in plain}
    for m in members:
        run.setdefault(model_name(m), m)
    all_starts = warm + starts
    if all_starts[0] < PERIOD + 1:
        raise ForecastingError(
            f"backtest: {origins} origins (+{len(warm)} warm-up) leave only {all_starts[0]} training months at the first "
            f"origin of a {n}-month series; at least {PERIOD + 1} are needed. Use fewer origins.")
    notes: list[str] = list(notes_fill)
    frames = {key: _run_model(spec, y, all_starts, hmax, level, exog, reselect_every, notes, outliers == "clean")
              for key, spec in run.items()}
    values = y.to_numpy().copy()
    scale = _scale(values)
    values[is_filled] = np.nan  # outcomes of filled months are not scored
    rows: list[pd.DataFrame] = []

    def emit(key: str, t: int, frame: pd.DataFrame, fallback: bool) -> None:
        frame = frame.iloc[: min(hmax, n - t)]
        hs = np.arange(1, len(frame) + 1)
        keep = np.isin(hs, horizons)
        out = pd.DataFrame({
            "model": key, "origin": y.index[t - 1], "horizon": hs[keep], "period": frame.index[keep],
            "actual": values[t: t + len(frame)][keep], "forecast": frame["mean"].to_numpy()[keep],
        })
        for j, lv in enumerate(level):
            lo, hi = frame[f"lo-{_lname(lv)}"].to_numpy()[keep], frame[f"hi-{_lname(lv)}"].to_numpy()[keep]
            out["lo" if j == 0 else f"lo-{_lname(lv)}"] = lo
            out["hi" if j == 0 else f"hi-{_lname(lv)}"] = hi
        out["fallback"] = fallback
        rows.append(out)

    for m in plain:
        key = model_name(m)
        for t in starts:
            emit(key, t, *frames[key][t])
    if combo is not None:
        mkeys = [model_name(m) for m in members]
        # realised absolute errors: (member, origin t, target position) -> |error| / scale(t)
        errs: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {key: {} for key in mkeys}
        for key in mkeys:
            for t in all_starts:
                f = frames[key][t][0]["mean"].to_numpy()
                span = min(len(f), n - t)
                errs[key][t] = (t + np.arange(span), np.abs(values[t: t + span] - f[:span]) / scale[t])
        for t in starts:
            past = [s for s in all_starts if s < t][-selection_window:]
            score = {}
            for key in mkeys:
                parts = [err[pos < t] for s in past for pos, err in [errs[key][s]] if (pos < t).any()]
                e = np.concatenate(parts) if parts else np.array([])
                score[key] = float(np.nanmean(e)) if e.size and np.isfinite(e).any() else np.nan
            if all(np.isnan(score[kk]) for kk in mkeys):
                chosen = mkeys
            else:
                chosen = trimmed(score, combo.k, combo.trim)
            if combo.weights == "inverse_mase" and all(np.isfinite(score[kk]) for kk in chosen):
                w = {kk: 1.0 / max(score[kk], 1e-12) for kk in chosen}
            else:
                w = {kk: 1.0 for kk in chosen}
            total = sum(w.values())
            frame = sum(frames[kk][t][0] * (w[kk] / total) for kk in chosen)
            if combo.calibrate:
                z = []
                for s in past:
                    span = min(hmax, t - s)
                    if span > 0:
                        old = sum(frames[kk][s][0].iloc[:span] * (w[kk] / total) for kk in chosen)
                        z.append(standardised_errors(old, values[s: s + span]))
                frame = rescale_intervals(frame, interval_scale(np.concatenate(z)) if z else 1.0)
            emit("combination", t, frame, any(frames[kk][t][1] for kk in chosen))
    bt = pd.concat(rows, ignore_index=True)
    bt.attrs["level"] = level
    bt.attrs["notes"] = notes
    return bt


def accuracy(
    bt: pd.DataFrame,
    train_for_scaling: pd.Series | Mapping[str, pd.Series],
    *,
    by: Literal["model", "horizon"] = "model",
) -> pd.DataFrame:
    """M4 accuracy of a :func:`backtest` frame: MASE, sMAPE, OWA (vs ``naive2`` rows), interval coverage.

    ``train_for_scaling`` is the series the backtest ran on (the MASE scale at each origin uses its
    values up to that origin); for a frame with a ``series`` column, a mapping from series id to series.
    ``by="horizon"`` returns one row per (model, horizon).  OWA is NaN when the frame has no ``naive2`` rows.
    """
    if bt.empty:
        raise ForecastingError("accuracy: the backtest frame is empty.")
    attrs = dict(bt.attrs)
    bt = bt[bt["actual"].notna()].reset_index(drop=True)
    if bt.empty:
        raise ForecastingError("accuracy: no row of the backtest frame has an observed outcome.")
    bt.attrs = attrs
    multi = "series" in bt.columns
    if not multi:
        train_for_scaling = {"_": train_for_scaling}
        bt["series"] = "_"
    scale = np.full(len(bt), np.nan)
    for sid, idx in bt.groupby("series").groups.items():
        if sid not in train_for_scaling:
            raise ForecastingError(f"accuracy: no training series for {sid!r} in train_for_scaling.")
        s = train_for_scaling[sid]
        if s.isna().any() or len(s) != len(pd.period_range(s.index.min(), s.index.max(), freq="M")):
            s = fill_missing(s, "linear")  # a series with the months the backtest filled
        sc = _scale(s.to_numpy(dtype=float))
        pos = s.index.get_indexer(pd.PeriodIndex(bt.loc[idx, "origin"]))
        if (pos < 0).any():
            raise ForecastingError(f"accuracy: origins of {sid!r} are not in its training series.")
        scale[bt.index.get_indexer(idx)] = sc[pos + 1]
    err = (bt["actual"] - bt["forecast"]).abs()
    bt["ase"] = err / scale
    denom = bt["actual"].abs() + bt["forecast"].abs()
    bt["ape"] = np.where(denom > 0, 200 * err / denom.where(denom > 0, 1.0), 0.0)
    levels = bt.attrs.get("level") or (80,)
    cov_cols = {}
    for j, lv in enumerate(levels):
        lo, hi = ("lo", "hi") if j == 0 else (f"lo-{_lname(lv)}", f"hi-{_lname(lv)}")
        if lo in bt.columns:
            name = f"coverage-{_lname(lv)}"
            bt[name] = ((bt["actual"] >= bt[lo]) & (bt["actual"] <= bt[hi])).astype(float)
            cov_cols[name] = lv
    keys = ["model"] if by == "model" else ["model", "horizon"]
    metrics = ["ase", "ape", *cov_cols]
    per_series = bt.groupby([*keys, "series"])[metrics].mean()
    out = per_series.groupby(level=keys).mean().rename(columns={"ase": "MASE", "ape": "sMAPE"})
    out["n"] = bt.groupby(keys).size()
    if "naive2" in out.index.get_level_values("model"):
        ref = out.xs("naive2", level="model") if by == "horizon" else out.loc["naive2"]
        if by == "horizon":
            ref_mase = out.index.get_level_values("horizon").map(ref["MASE"])
            ref_smape = out.index.get_level_values("horizon").map(ref["sMAPE"])
        else:
            ref_mase, ref_smape = ref["MASE"], ref["sMAPE"]
        out["OWA"] = 0.5 * (out["sMAPE"] / np.asarray(ref_smape) + out["MASE"] / np.asarray(ref_mase))
    else:
        out["OWA"] = np.nan
    return out[["MASE", "sMAPE", "OWA", *cov_cols, "n"]]
