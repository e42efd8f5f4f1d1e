"""Properties, diagnostics and input checks of the seasonal-adjustment engine."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import ForecastingError, ForecastingWarning, SeasonalAdjuster, X13Error
from forecasting.seasonal import X13Spec, f_test_seasonality, qs_test, traffic_light
from forecasting.seasonal._x13 import parse_err


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.one_of(st.just(0.0), st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-3)),
    months=st.integers(36, 150),
    start=st.integers(2000, 2030),
    method=st.sampled_from(["x13", "stl"]),
    mode=st.sampled_from(["additive", "multiplicative", "auto"]),
)
def test_constant_series_adjusts_to_the_constant(value, months, start, method, mode):
    if mode != "additive" and value <= 0 or (method == "stl" and mode == "auto"):
        return
    series = pd.Series(value, index=pd.period_range(f"{start}-01", periods=months, freq="M"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = SeasonalAdjuster(method, mode=mode).fit(series)
    np.testing.assert_allclose(result.seasadj.to_numpy(), value, rtol=1e-7, atol=1e-7)


def _seasonal_series(n: int = 120, amplitude: float = 5.0, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 50 + 0.02 * t + amplitude * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.period_range("2012-01", periods=n, freq="M"))


def test_qs_and_f_tests():
    noise = pd.Series(np.random.default_rng(3).normal(size=180), index=pd.period_range("2010-01", periods=180,
                                                                                         freq="M"))
    seasonal = _seasonal_series(180)
    assert qs_test(noise).pvalue > 0.05 and f_test_seasonality(noise).pvalue > 0.05
    assert qs_test(seasonal).pvalue < 1e-6 and f_test_seasonality(seasonal).pvalue < 1e-6
    assert np.isnan(qs_test(noise.iloc[:20]).statistic)
    with pytest.raises(ForecastingError, match="strictly positive"):
        qs_test(noise, log=True)


def test_adjustment_removes_seasonality_additive():
    y = _seasonal_series()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("x13", "stl"):
            result = SeasonalAdjuster(method, mode="additive").fit(y)
            assert result.diagnostics.qs_original.pvalue < 0.01
            assert result.diagnostics.qs_seasadj.pvalue > 0.05, method
            assert result.diagnostics.f_seasadj.pvalue > 0.05, method
            np.testing.assert_allclose((result.seasadj + result.seasonal + result.calendar).to_numpy(),
                                       y.to_numpy(), atol=1e-6)


def test_traffic_light_thresholds():
    assert traffic_light(m7=0.5, q=0.4, qs_pvalue=0.5)[0] == "green"
    assert traffic_light(m7=1.3)[0] == "amber"
    assert traffic_light(m7=1.75)[0] == "red"
    assert traffic_light(q=1.1)[0] == "amber"
    assert traffic_light(qs_pvalue=0.03)[0] == "amber"
    assert traffic_light(qs_pvalue=0.01)[0] == "red"
    assert traffic_light(sliding_spans_a_pct=20)[0] == "amber"
    assert traffic_light(sliding_spans_a_pct=30)[0] == "red"
    light, reasons = traffic_light(m7=0.5, f_pvalue=0.001, q=None)
    assert light == "red" and "f_seasadj" in reasons and "q" not in reasons


def test_input_validation_messages():
    adjuster = SeasonalAdjuster()
    short = pd.Series(1.0 + np.arange(20), index=pd.period_range("2020-01", periods=20, freq="M"))
    with pytest.raises(ForecastingError, match="at least 36 observations.*got 20"):
        adjuster.fit(short)
    dated = pd.Series(1.0, index=pd.date_range("2010-01-31", periods=48, freq="ME"))
    with pytest.raises(ForecastingError, match=r"monthly PeriodIndex.*to_period\('M'\)"):
        adjuster.fit(dated)
    gappy = _seasonal_series().drop(pd.Period("2013-05", "M"))
    with pytest.raises(ForecastingError, match="gaps.*reindex"):
        adjuster.fit(gappy)
    negative = _seasonal_series() - 100
    with pytest.raises(ForecastingError, match="needs positive values.*mode='additive'"):
        SeasonalAdjuster(mode="multiplicative").fit(negative)
    with pytest.raises(ForecastingError, match="mode must be"):
        SeasonalAdjuster(mode="mult")  # type: ignore[arg-type]
    with pytest.raises(ForecastingError, match="expected January missing"):
        adjuster.fit(_seasonal_series(), combined_janfeb=[2013])


def test_spec_writer_basics():
    y = _seasonal_series(48)
    y.iloc[5] = np.nan
    text = SeasonalAdjuster(holidays=(), working_days=False, outliers=False).spec(y, name='with "quotes"')
    assert 'title = "with quotes"' in text
    assert "-99999" in text and "missingcode = -99999" in text
    assert "regression" not in text and "outlier" not in text and "automdl{ }" in text
    spec = X13Spec({"x11": {"mode": "add"}}).set("x11", {"mode": None, "sigmalim": "(1.8 2.8)"})
    assert spec.to_text() == "x11{\n  sigmalim = (1.8 2.8)\n}\n"


def test_err_parser_joins_continuation_lines():
    text = """ Error messages
  WARNING: At least one visually significant seasonal peak has been found
          in the estimated spectrum.

 NOTE: something harmless
       continued.

 ERROR: Differencing has annihilated the series.
"""
    errors, warns = parse_err(text)
    assert warns == ["At least one visually significant seasonal peak has been found in the estimated spectrum."]
    assert errors == ["Differencing has annihilated the series."]


def test_combined_janfeb_without_enough_separate_years_warns_and_uses_the_mean():
    y = _seasonal_series(72)
    years = sorted(set(y.index.year))
    for year in years:
        y[pd.Period(f"{year}-02", "M")] = (y[pd.Period(f"{year}-01", "M")] + y[pd.Period(f"{year}-02", "M")]) / 2
        y[pd.Period(f"{year}-01", "M")] = np.nan
    with pytest.warns(ForecastingWarning, match="working-day shares"):
        result = SeasonalAdjuster("stl", working_days=False).fit(y, combined_janfeb=years, janfeb="mean")
    jan, feb = pd.Period("2013-01", "M"), pd.Period("2013-02", "M")
    assert result.filled[jan] == result.filled[feb] == y[feb]
    assert result.estimated[jan] and result.estimated[feb]


def test_halt_without_error_keyword_is_an_error():
    frame = pd.read_csv(Path(__file__).parent / "data" / "x13" / "automdl_halt" / "series.csv")
    y = pd.Series(frame["di"].to_numpy(), index=pd.PeriodIndex(frame["period"], freq="M"), name="fgi/42")
    with pytest.raises(X13Error, match="failed on series 'fgi/42'.*var\\(w_p\\|z\\)"):
        SeasonalAdjuster().fit(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert SeasonalAdjuster(arima="(0 1 1)(0 1 1)").fit(y).method_used == "x13-x11"
