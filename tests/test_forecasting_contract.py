"""One contract for every forecaster (STYLE habit 10): shape, index, ordering, fit+predict == forecast."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecasting
from forecasting import (
    ETS,
    SARIMAX,
    Combination,
    ForecastingError,
    ModelFailureWarning,
    Naive2,
    SeasonalNaive,
    SeriesTooShortError,
    Theta,
)
from forecasting.models import Forecaster

H = 14
LEVEL = (80, 95)
COLUMNS = ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]

FACTORIES = {
    "snaive": SeasonalNaive,
    "naive2": Naive2,
    "ets": ETS,
    "ets_mnm": lambda: ETS(["MNM"]),  # multiplicative error: simulated (seeded) intervals
    "theta": Theta,
    "sarimax": SARIMAX,
    "sarimax_cal": lambda: SARIMAX(calendar=True),
    "combination": lambda: Combination(("ets", "theta", "snaive"), k=2, selection_origins=2),
}


def _seasonal(n: int = 96, seed: int = 1, start: str = "2012-01") -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1.5, n)
    return pd.Series(values, index=pd.period_range(start, periods=n, freq="M"), name="demo")


@pytest.fixture(scope="module")
def series() -> pd.Series:
    return _seasonal()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_contract(name, series):
    model: Forecaster = FACTORIES[name]()
    assert model.fit(series) is model
    assert any(k.endswith("_") for k in vars(model))
    fc = model.predict(H, level=LEVEL)
    assert list(fc.columns) == COLUMNS
    assert fc.index.equals(pd.period_range(series.index[-1] + 1, periods=H, freq="M"))
    assert np.isfinite(fc.to_numpy()).all()
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["lo-80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    again = FACTORIES[name]().forecast(series, H, level=LEVEL)
    pd.testing.assert_frame_equal(fc, again)
    # the level argument selects columns
    only = model.predict(3, level=(50,))
    assert list(only.columns) == ["mean", "lo-50", "hi-50"]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_constant_series(name):
    y = pd.Series(7.0, index=pd.period_range("2015-01", periods=60, freq="M"))
    fc = FACTORIES[name]().forecast(y, 6)
    np.testing.assert_allclose(fc["mean"], 7.0, atol=1e-6)
    assert (fc["lo-95"] <= fc["mean"] + 1e-9).all() and (fc["hi-95"] >= fc["mean"] - 1e-9).all()


@pytest.mark.parametrize("name", [n for n in sorted(FACTORIES) if n != "combination"])
def test_too_short_series_names_the_minimum(name):
    model = FACTORIES[name]()
    minimum = model.min_length()
    y = _seasonal(minimum - 1)
    with pytest.raises(SeriesTooShortError, match=f"at least {minimum} monthly observations") as info:
        model.fit(y)
    assert info.value.minimum == minimum
    assert isinstance(info.value, ForecastingError) and isinstance(info.value, ValueError)
    model.fit(_seasonal(minimum))  # the minimum itself is enough


@pytest.mark.parametrize(
    "bad, match",
    [
        (pd.Series([1.0, 2.0, 3.0]), "monthly PeriodIndex"),
        (pd.Series([1.0] * 30, index=pd.period_range("2000-01", periods=30, freq="Q")), "monthly PeriodIndex"),
        (_seasonal(40).drop(pd.Period("2013-03", "M")), "gaps"),
        (_seasonal(40).where(lambda s: s.index != pd.Period("2013-03", "M")), "missing"),
    ],
)
def test_invalid_input(bad, match):
    with pytest.raises(ForecastingError, match=match):
        SeasonalNaive().fit(bad)


def test_predict_before_fit_and_bad_horizon(series):
    with pytest.raises(ForecastingError, match="call fit"):
        ETS().predict(3)
    with pytest.raises(ForecastingError, match="positive integer"):
        SeasonalNaive().fit(series).predict(0)
    with pytest.raises(ForecastingError, match="between 0 and 100"):
        SeasonalNaive().fit(series).predict(3, level=(120,))


def test_seasonal_naive_repeats_last_year(series):
    fc = SeasonalNaive().forecast(series, 24)
    np.testing.assert_array_equal(fc["mean"].to_numpy(), np.tile(series.iloc[-12:].to_numpy(), 2))
    width = (fc["hi-80"] - fc["lo-80"]).to_numpy()
    np.testing.assert_allclose(width[12:] / width[:12], np.sqrt(2))


def test_naive2_is_reseasonalised_naive(series):
    m = Naive2().fit(series)
    assert m.seasonal_ and m.multiplicative_
    fc = m.predict(12)
    ratio = fc["mean"].to_numpy() / m.indices_[(len(series) + np.arange(12)) % 12]
    np.testing.assert_allclose(ratio, ratio[0])


def test_sarimax_user_exog_needs_future():
    y = _seasonal(72)
    x = pd.DataFrame({"x": np.random.default_rng(0).normal(size=72)}, index=y.index)
    m = SARIMAX(orders=[(0, 1)]).fit(y, x)
    with pytest.raises(ForecastingError, match="exog_future"):
        m.predict(3)
    future = pd.DataFrame({"x": [0.0, 0.1, 0.2]}, index=pd.period_range(y.index[-1] + 1, periods=3, freq="M"))
    assert len(m.predict(3, future)) == 3


def test_frozen_keeps_the_specification(series):
    ets = ETS(candidates="full").fit(series)
    frozen = ets.frozen().fit(series)
    assert frozen.spec_ == ets.spec_
    pd.testing.assert_frame_equal(frozen.predict(4), ets.predict(4))


class _Broken(Forecaster):
    name = "broken"

    def _fit(self, y, exog):
        raise RuntimeError("boom")


def test_forecast_result_and_failure_isolation(series):
    with pytest.warns(ModelFailureWarning, match="broken"):
        res = forecasting.forecast(series, 6, models=("theta", _Broken(), "snaive"), k=2, trim=None)
    assert any("broken" in note and "boom" in note for note in res.notes)
    assert set(res.models) == {"theta", "snaive"}
    assert res.weights.sum() == pytest.approx(1.0)
    assert list(res.frame.columns) == COLUMNS and len(res.frame) == 6
    assert set(res.per_model) == {"theta", "snaive"}
    np.testing.assert_allclose(res.mean, sum(res.per_model[k]["mean"] * w for k, w in res.weights.items()))


def test_all_models_fail_falls_back_to_seasonal_naive(series):
    with pytest.warns(ModelFailureWarning) as caught:
        res = forecasting.forecast(series, 3, models=(_Broken(),))
    messages = [str(w.message) for w in caught]
    assert any("fit failed" in m for m in messages) and any("fell back to snaive" in m for m in messages)
    assert res.models == ("snaive",)
    assert any("fell back" in note for note in res.notes)
    pd.testing.assert_frame_equal(res.frame, SeasonalNaive().forecast(series, 3))
    with pytest.warns(ModelFailureWarning):
        single = forecasting.forecast(series, 3, models=(_Broken(),), combine=False)
    assert single.models == ("snaive",)


def test_forecast_without_combination_and_with_calendar(series):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelFailureWarning)
        res = forecasting.forecast(series, 4, models=("sarimax", "snaive"), combine=False, calendar=True)
    assert res.models == ("sarimax_cal",)
    assert set(res.per_model) == {"sarimax_cal", "snaive"}


def test_plot(series):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    res = forecasting.forecast(series, 6, models=("theta", "snaive"))
    ax = res.plot(members=True)
    assert ax.get_legend() is not None


def test_backtest_frame_and_accuracy(series):
    bt = forecasting.backtest(series, models=["snaive", "naive2", "theta", Combination(("theta", "snaive", "naive2"), k=2)],
                              horizons=[1, 3], origins=8, level=(80, 95))
    assert list(bt.columns) == ["model", "origin", "horizon", "period", "actual", "forecast", "lo", "hi",
                                "lo-95", "hi-95", "fallback"]
    assert set(bt["horizon"]) == {1, 3}
    assert (bt["period"] == bt["origin"] + bt["horizon"]).all()
    assert bt.groupby("model").size().to_dict() == {m: 8 + 6 for m in ["combination", "naive2", "snaive", "theta"]}
    assert (bt["actual"] == series.reindex(pd.PeriodIndex(bt["period"])).to_numpy()).all()
    acc = forecasting.accuracy(bt, series)
    assert acc.loc["naive2", "OWA"] == pytest.approx(1.0)
    assert {"MASE", "sMAPE", "OWA", "coverage-80", "coverage-95", "n"} <= set(acc.columns)
    # MASE by hand for seasonal naive: scale = in-sample mean |y_t - y_{t-12}| up to the origin
    row = bt[bt.model == "snaive"].iloc[0]
    train = series.loc[: row["origin"]].to_numpy()
    scale = np.mean(np.abs(train[12:] - train[:-12]))
    assert row["forecast"] == series.loc[row["period"] - 12]
    by_h = forecasting.accuracy(bt, series, by="horizon")
    assert by_h.index.names == ["model", "horizon"]
    single = bt[(bt.model == "snaive")].iloc[[0]]
    single.attrs = bt.attrs
    assert forecasting.accuracy(single, series).loc["snaive", "MASE"] == pytest.approx(
        abs(row["actual"] - row["forecast"]) / scale)


def test_backtest_isolates_failures(series):
    bt = forecasting.backtest(series, models=[_Broken(), "snaive"], horizons=[1], origins=3)
    assert bt[bt.model == "broken"]["fallback"].all()
    assert len(bt.attrs["notes"]) == 3 and "boom" in bt.attrs["notes"][0]


def test_backtest_too_many_origins():
    with pytest.raises(ForecastingError, match="fewer origins"):
        forecasting.backtest(_seasonal(30), models=["snaive"], origins=25)


def test_trimmed_keeps_the_best_k_within_the_trim():
    from forecasting.selection import trimmed

    scores = {"ets": 0.6, "theta": 0.7, "snaive": 1.1, "broken": np.inf}
    assert trimmed(scores, 3, 1.5) == ["ets", "theta"]
    assert trimmed(scores, 3, None) == ["ets", "theta", "snaive"]
    assert trimmed(scores, 1, 1.5) == ["ets"]
    assert trimmed({"a": np.inf, "b": np.nan}, 2, 1.5) == ["a", "b"]  # nothing finite: keep what there is


def test_combination_drops_a_candidate_far_behind_on_a_trending_series():
    rng = np.random.default_rng(8)
    index = pd.period_range("2010-01", periods=120, freq="M")
    y = pd.Series(100 + 0.8 * np.arange(120) + np.cumsum(rng.normal(0, 0.5, 120)), index=index)
    res = forecasting.forecast(y, 6, models=("ets", "theta", "snaive"))
    assert "snaive" not in res.models  # a year-old value on a trend: far behind, trimmed
    full = forecasting.forecast(y, 6, models=("ets", "theta", "snaive"), trim=None)
    assert "snaive" in full.models
