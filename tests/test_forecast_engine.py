"""The default forecast engine (issue 14): calendar-aware outliers, degenerate-fit rejection, automatic ARIMA,
the production mode.

Real case: FRED-MD BUSINVx (vintage 2019-10, ``tests/data/fred-md``, provenance there), training window of 180
months ending 2018-08, where SARIMAX with the calendar regressors used to pick ARIMA(2,0,0)(0,1,1) with AICc
16.9 against ~4,200 for every other order (a likelihood collapsed onto a unit root) and forecast -6.7e12 for a
series near 2e6.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import ForecastingError
from forecasting.arima import ArimaSpec, auto_arima, fit_arima, kpss_lags, ndiffs, nsdiffs, sane_band
from forecasting.calendar import calendar_regressors
from forecasting.ensemble import ARIMA, Ensemble, ForecastSpec
from forecasting.selection import SARIMAX

FRED = Path(__file__).parent / "data" / "fred-md" / "fred_md_2019-10_vintage.csv"


def _fred(column: str) -> pd.Series:
    raw = pd.read_csv(FRED).iloc[1:]
    raw = raw[raw["sasdate"].notna()]
    index = pd.PeriodIndex(pd.to_datetime(raw["sasdate"], format="%m/%d/%Y"), freq="M")
    return pd.Series(pd.to_numeric(raw[column]).to_numpy(), index=index, name=column).dropna()


@pytest.fixture(scope="module")
def busin() -> pd.Series:
    return _fred("BUSINVx").loc[:"2018-08"].iloc[-180:]


def _festival_series(seed: int = 3, n: int = 156, outlier: str | None = "2019-06") -> pd.Series:
    """Seasonal level series with a strong Spring Festival effect (genhol regressors) and one true outlier."""
    rng = np.random.default_rng(seed)
    index = pd.period_range("2010-01", periods=n, freq="M")
    x = calendar_regressors(index, warn=False)
    t = np.arange(n)
    season = 6 * np.sin(2 * np.pi * t / 12)
    festival = x.iloc[:, :3].to_numpy() @ np.array([-40.0, -25.0, 15.0])[: min(3, x.shape[1])]
    y = pd.Series(200 + 0.4 * t + season + festival + rng.normal(0, 1.0, n), index=index, name="festival")
    if outlier:
        y[outlier] += 60.0
    return y


# ------------------------------------------------------------------------------------------------ item 1
def test_outlier_cleaning_knows_the_chinese_calendar():
    y = _festival_series()
    naive = forecasting.clean_outliers(y).attrs["outliers"]
    festive = naive[naive.month.isin([1, 2, 3])]
    assert len(festive) >= 2, naive  # the calendar-blind filter "cleans" festival months (the defect)
    aware = forecasting.clean_outliers(y, calendar="cn").attrs["outliers"]
    assert "2019-06" in aware.astype(str)  # the true outlier is still found ...
    assert not aware.month.isin([1, 2]).any(), aware  # ... and no January or February is touched


def test_default_forecast_never_cleans_festival_months():
    y = _festival_series(outlier=None)
    for calendar in (None, "cn"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = forecasting.forecast(y, 12, calendar=calendar)
        assert not any("outliers replaced" in n for n in res.notes), res.notes
    # the calendar regressors model the festival: the ARIMA member with them forecasts the festival months better
    train, test = y.iloc[:-12], y.iloc[-12:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = ARIMA().forecast(train, 12, level=(80,))["mean"]
        cal = ARIMA(calendar="cn").forecast(train, 12, level=(80,))["mean"]
    jan_feb = test.index.month <= 3
    err_plain = float(np.abs(plain.to_numpy() - test.to_numpy())[jan_feb].mean())
    err_cal = float(np.abs(cal.to_numpy() - test.to_numpy())[jan_feb].mean())
    assert err_cal < 0.5 * err_plain, (err_cal, err_plain)


# ------------------------------------------------------------------------------------------------ item 2
def test_sarimax_rejects_the_degenerate_busin_fit(busin, monkeypatch):
    lo, hi = sane_band(busin.to_numpy())
    # the degenerate fit arose with a seasonal difference, which the M4 test took on this (adjusted) series; the
    # seasonal strength no longer does (below), so the difference is forced here.  (The (2,0,0)x(0,1,1) candidate
    # no longer collapses with statsmodels 0.15 -- this test failed on main before #14's second round -- so only
    # the outcome is checked; the rejection rules are tested on fit_arima below.)
    monkeypatch.setattr("forecasting.arima.nsdiffs", lambda v: 1)
    model = SARIMAX(calendar=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = model.forecast(busin, 12, level=(80,))
    assert fc["mean"].between(lo, hi).all(), fc
    assert fc["mean"].between(0.9 * busin.min(), 1.2 * busin.max()).all(), fc
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(calendar=True)
        fc = model.forecast(busin, 12, level=(80,))
    assert model.seasonal_order_[1] == 0
    assert fc["mean"].between(0.9 * busin.min(), 1.2 * busin.max()).all(), fc


def test_the_default_forecasters_stay_sane_on_busin(busin):
    lo, hi = sane_band(busin.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for calendar in (None, "cn"):
            res = forecasting.forecast(busin, 12, calendar=calendar)
            assert res.mean.between(lo, hi).all(), res.frame
            for frame in res.per_model.values():
                assert frame["mean"].between(lo, hi).all(), frame


def test_fit_arima_refuses_out_of_band_forecasts_and_says_why():
    # a perfect exponential explosion: every ARIMA extrapolates far outside the band of a tiny band width
    y = pd.Series(np.r_[np.ones(60), np.linspace(1, 2, 12)], index=pd.period_range("2015-01", periods=72, freq="M"))
    import forecasting.arima as arima

    old = arima.BAND_WIDTH
    try:
        arima.BAND_WIDTH = 0.0
        with pytest.raises(ForecastingError, match="sane band"):
            fit_arima(y, spec=ArimaSpec(0, 2, 0, 0, 0, 0, False))
    finally:
        arima.BAND_WIDTH = old
    assert sane_band(np.array([1.0, 3.0])) == (-1.0, 5.0)


# ------------------------------------------------------------------------------------------------ item 3
def _airline(n: int = 180, seed: int = 7) -> pd.Series:
    """y = (1-B)^-1 (1-B^12)^-1 (1 - 0.4B)(1 - 0.6B^12) e: the airline model."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 1, n + 60)
    w = e.copy()
    w[1:] -= 0.4 * e[:-1]
    w[12:] -= 0.6 * e[:-12]
    w[13:] += 0.24 * e[:-13]
    level = np.zeros_like(w)
    for t in range(len(w)):
        level[t] = w[t] + (level[t - 1] if t >= 1 else 0) + (level[t - 12] if t >= 12 else 0) - \
            (level[t - 13] if t >= 13 else 0)
    seasonal = 10 * np.sin(2 * np.pi * np.arange(len(w)) / 12)
    return pd.Series(100 + level[60:] + seasonal[60:], index=pd.period_range("2005-01", periods=n, freq="M"))


def test_auto_arima_identifies_the_airline_model():
    y = _airline()
    assert nsdiffs(y.to_numpy()) == 1
    fit = auto_arima(y)
    s = fit.spec
    assert (s.d, s.D) == (1, 1), s.label
    assert s.q + s.Q >= 1 and s.p + s.P <= 2, s.label
    assert len(fit.searched) >= 5  # the stepwise search visited neighbours
    assert fit.aicc == pytest.approx(min(fit.searched.values()), abs=50)


def test_auto_arima_keeps_a_stationary_series_undifferenced():
    rng = np.random.default_rng(11)
    e = rng.normal(0, 1, 260)
    v = np.zeros(260)
    for t in range(1, 260):
        v[t] = 0.6 * v[t - 1] + e[t]
    y = pd.Series(50 + v[80:], index=pd.period_range("2008-01", periods=180, freq="M"))
    assert ndiffs(y.to_numpy()) == 0
    fit = auto_arima(y)
    assert (fit.spec.d, fit.spec.D) == (0, 0) and fit.spec.constant, fit.spec.label
    ar = float(fit.params()[1]) if fit.spec.p else 0.0
    assert fit.spec.p >= 1 and 0.4 < ar < 0.8, fit.spec.label


def test_kpss_lag_truncation_is_r_ndiffs_rule():
    """R's ndiffs (and statsforecast) truncate at floor(3 sqrt(n) / 13) lags; the Schwert rule's extra lag absorbed
    persistence into the long-run variance and left capacity utilisation undifferenced (AutoARIMA: d = 1)."""
    assert [kpss_lags(n) for n in (36, 100, 180, 300)] == [1, 2, 3, 3]
    cumfns = _fred("CUMFNS").loc["2002-10":"2017-09"]
    assert len(cumfns) == 180 and nsdiffs(cumfns.to_numpy()) == 0
    assert ndiffs(cumfns.to_numpy()) == 1


def test_css_jacobian_is_the_derivative_of_the_residuals():
    """The search's least squares uses the analytic Jacobian (one filter pass a parameter block)."""
    from forecasting import arima as A

    rng = np.random.default_rng(0)
    w = rng.standard_normal(200).cumsum() * 0.1 + rng.standard_normal(200)
    zd = rng.standard_normal((200, 2))
    seen: dict[str, object] = {}
    real = A.optimize.least_squares

    def spy(fun, x0, jac=None, **kw):
        seen["fun"], seen["jac"] = fun, jac
        return real(fun, x0, jac=jac, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(A.optimize, "least_squares", spy)
        A._css(w, zd, ArimaSpec(2, 0, 1, 1, 0, 1, False), 200)
    fun, jac = seen["fun"], seen["jac"]
    assert callable(jac)
    x = np.array([0.3, -0.2, 0.4, 0.5, -0.3, 0.7, -0.1])
    eye = np.eye(len(x)) * 1e-6
    numeric = np.column_stack([(fun(x + eye[i]) - fun(x - eye[i])) / 2e-6 for i in range(len(x))])
    assert np.abs(jac(x) - numeric).max() < 1e-6 * np.abs(numeric).max()


def test_stepwise_moves_follow_hyndman_khandakar():
    from forecasting.arima import _neighbours

    moves = _neighbours(ArimaSpec(1, 1, 1, 1, 0, 1, True), allow_constant=True)
    seasonal = [(m.P, m.Q) for m in moves[:8]]
    assert seasonal == [(0, 1), (1, 0), (2, 1), (1, 2), (0, 0), (0, 2), (2, 0), (2, 2)]
    assert [(m.p, m.q) for m in moves[8:16]] == [(0, 1), (1, 0), (2, 1), (1, 2), (0, 0), (0, 2), (2, 0), (2, 2)]
    assert moves[-1].constant is False


def test_sarimax_does_not_seasonally_difference_a_growth_rate():
    """Hubei value added, % y/y: persistent, not seasonal.  The M4 lag-12 test fired on it (D = 1, then a seasonal MA
    root on the unit circle and a fallback); the seasonal strength does not."""
    from collectors.official import read_official_table
    from forecasting.decompose import seasonality_test

    table = read_official_table(Path(__file__).parent / "data" / "official" / "hubei_industrial_value_added_yoy.csv")
    rows = table.tables["official_statistic"]
    rows = rows[rows["series"] == "iva/yoy"]
    y = pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()
    y = forecasting.fill_missing(y.reindex(pd.period_range(y.index[0], "2020-03", freq="M")), "linear").loc[:"2020-03"]
    assert seasonality_test(y.to_numpy())  # the old rule's verdict
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX().fit(y)
    assert model.seasonal_order_[1] == 0, model.seasonal_order_


def test_calendar_regression_with_arima_errors_recovers_the_festival_effect():
    y = _festival_series(outlier=None)
    fit = auto_arima(y, calendar_regressors(y.index, warn=False),
                     exog_future=calendar_regressors(pd.period_range(y.index[-1] + 1, periods=12, freq="M"), warn=False))
    names = list(fit.design.columns)
    params = pd.Series(fit.params()[: len(names)], index=names)
    first = calendar_regressors(y.index[:1], warn=False).columns[0]
    assert params[first] == pytest.approx(-40.0, abs=6.0), params


def test_a_shock_in_a_festival_month_is_an_outlier_not_a_festival_effect():
    """February 2020 (COVID) fell in the Spring Festival window: without an outlier dummy the regression read the
    shock as festival effect and repeated it every year (the ARIMA member with the calendar lost to the one without
    on every Chinese benchmark series).  X-13's order: additive outliers first, then the calendar."""
    y = _festival_series(outlier=None)
    y["2018-02"] -= 80.0
    future = calendar_regressors(pd.period_range(y.index[-1] + 1, periods=12, freq="M"), warn=False)
    fit = auto_arima(y, calendar_regressors(y.index, warn=False), exog_future=future)
    assert "2018-02" in fit.spec.outliers and fit.spec.regressors, fit.spec
    names = list(fit.design.columns)
    params = pd.Series(fit.params()[: len(names)], index=names)
    first = calendar_regressors(y.index[:1], warn=False).columns[0]
    assert params[first] == pytest.approx(-40.0, abs=6.0), params
    assert params["ao_2018-02"] == pytest.approx(-80.0, abs=10.0), params
    # production mode re-uses the dummies; the forecast has no outlier in it
    again = fit_arima(y, calendar_regressors(y.index, warn=False), spec=ArimaSpec(**fit.spec.as_dict()),
                      exog_future=future)
    assert again.spec.outliers == fit.spec.outliers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIMA(calendar="cn").fit(y)
        fc = model.predict(14, level=(80,))
    assert model.fit_.spec.outliers and fc["mean"].between(150, 320).all(), fc


def test_theta_track_record_reuses_the_fit_and_matches_a_refit():
    """The track record re-runs Theta with the fit's smoothing weight (a filter pass, like ARIMA and ETS) instead of
    re-estimating it: the same forecasts as a refit up to the small change of the weight."""
    from forecasting.ensemble import _theta_track
    from forecasting.models import Theta

    y = _fred("AAA").iloc[-180:]
    fit = Theta().fit(y)
    for t in (len(y) - 12, len(y) - 21):
        track = _theta_track(fit, t, 12, (80,))
        refit = Theta().fit(y.iloc[:t]).predict(12, level=(80,))
        assert list(track.index) == list(y.index[t: t + 12])
        np.testing.assert_allclose(track.to_numpy(), refit.to_numpy(), rtol=1e-3)


# ------------------------------------------------------------------------------------------------ item 5
def test_production_mode_keeps_the_specification_and_round_trips():
    y = _airline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        review = forecasting.forecast(y.iloc[:-6], 12)
        spec = ForecastSpec.from_dict(review.spec.as_dict())
        assert spec == review.spec
        monthly = forecasting.forecast(y, 12, spec=spec)
    assert monthly.spec.arima == review.spec.arima and monthly.spec.ets == review.spec.ets
    assert review.spec.ets_params is not None  # the ETS member is warm-started from them too
    assert monthly.spec.scale == review.spec.scale
    assert any("kept from the review" in n for n in monthly.notes)
    assert list(monthly.frame.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    with pytest.raises(ForecastingError, match="calendar"):
        forecasting.forecast(y, 12, spec=spec, calendar="cn")


def test_default_result_layout_and_alternatives():
    y = _airline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = forecasting.forecast(y, 6, level=(80,))
    assert set(res.per_model) == {"arima", "ets", "theta"}
    assert set(res.alternatives) == {"median", "mean", "select"}
    # the default combination is the mean of the members (#14: ahead of the median on the benchmark)
    avg = np.mean(np.stack([f["mean"].to_numpy() for f in res.per_model.values()]), axis=0)
    np.testing.assert_allclose(res.mean.to_numpy(), avg, rtol=1e-12)
    np.testing.assert_allclose(res.alternatives["mean"]["mean"].to_numpy(), avg, rtol=1e-12)
    assert (res.frame["lo-80"] <= res.mean).all() and (res.mean <= res.frame["hi-80"]).all()
    assert res.spec is not None and res.spec.method == "mean"
    with pytest.raises(ForecastingError, match="method"):
        Ensemble(method="vote")  # type: ignore[arg-type]


def test_too_short_for_the_default_falls_back_and_says_so():
    y = pd.Series(np.arange(20.0) % 7, index=pd.period_range("2020-01", periods=20, freq="M"))
    with pytest.warns(forecasting.ModelFailureWarning):
        res = forecasting.forecast(y, 3)
    assert res.models == ("snaive",)
    assert any("fell back" in n for n in res.notes)


# ------------------------------------------------------------------------------------------------ filled months
def _with_unpublished_januaries(seed: int = 5) -> tuple[pd.Series, pd.PeriodIndex]:
    """A seasonal series whose Januaries and Februaries were never published, filled linearly as the stage does."""
    y = _festival_series(seed=seed, outlier=None)
    gaps = y.index[(y.index.month <= 2) & (y.index.year >= 2012)]
    return forecasting.fill_missing(y.drop(gaps), "linear"), gaps


def test_filled_months_are_missing_values_of_the_arima_likelihood():
    y, gaps = _with_unpublished_januaries()
    mask = y.index.isin(gaps)
    spec = ArimaSpec(1, 0, 1, 0, 1, 1, True)
    start = fit_arima(y, spec=spec).params()
    fits = []
    for shift in (0.0, 500.0):  # whatever was filled in, the likelihood must not see it
        z = y.copy()
        z[mask] += shift
        fits.append(fit_arima(z, spec=spec, start_params=start, missing=mask))
    assert np.isnan(fits[0].results.model.endog[mask]).all()
    assert fits[0].results.llf == pytest.approx(fits[1].results.llf, rel=1e-9)
    np.testing.assert_allclose(fits[0].params(), fits[1].params(), rtol=1e-7)


def test_the_default_forecast_passes_the_filled_months_to_the_arima_member():
    y, gaps = _with_unpublished_januaries()
    ens = Ensemble(calendar="cn", filled=gaps, track_origins=0).fit(y)
    endog = ens.fitted_["arima"].fit_.results.model.endog.ravel()
    assert np.isnan(endog[y.index.isin(gaps)]).all() and np.isfinite(endog[~y.index.isin(gaps)]).all()
    # forecast() reads them from attrs["filled"] (as fill_missing sets it, and forecast(..., missing=) does)
    plain = y.copy()
    plain.attrs = {}
    with_flags = forecasting.forecast(y, 12, calendar="cn").per_model["arima"]
    without = forecasting.forecast(plain, 12, calendar="cn").per_model["arima"]
    assert not np.allclose(with_flags["mean"], without["mean"])
