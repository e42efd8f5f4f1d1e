"""arima='search': the regARIMA model identified in Python, then X-13 with the model fixed (issue 20 item 7)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal
from test_seasonal_batch import _same

from forecasting import SeasonalAdjuster
from forecasting import calendar as cal
from forecasting.exceptions import ForecastingWarning
from forecasting.seasonal import fit_many
from forecasting.seasonal._identify import identify

OFFICIAL = Path(__file__).parent / "data" / "official"


def _simulate(seed: int, ar: list[float], ma: list[float], d: int, D: int, *, n: int = 180, sar: float = 0.0,
              sma: float = 0.0, level: float = 50.0, scale: float = 1.0) -> pd.Series:
    """A seasonal ARIMA sample: ``(1 - ar B)(1 - sar B^12) (1-B)^d (1-B^12)^D y = (1 + ma B)(1 + sma B^12) e``."""
    rng = np.random.default_rng(seed)
    burn = 120
    e = rng.normal(0.0, scale, n + burn)
    arp = np.convolve(np.r_[1.0, -np.asarray(ar, dtype=float)], np.r_[1.0, np.zeros(11), -sar])
    map_ = np.convolve(np.r_[1.0, np.asarray(ma, dtype=float)], np.r_[1.0, np.zeros(11), sma])
    x = signal.lfilter(map_, arp, e)
    for _ in range(D):
        for t in range(12, len(x)):
            x[t] += x[t - 12]
    for _ in range(d):
        x = np.cumsum(x)
    return pd.Series(level + x[burn:], index=pd.period_range("2010-01", periods=n, freq="M"))


def _regressors(index: pd.PeriodIndex) -> pd.DataFrame:
    frame = cal.holiday_regressors(index, cal.DEFAULT_HOLIDAYS)
    frame["working_days"] = cal.working_day_regressor(index, warn=False)
    return frame


def test_airline_process_is_differenced_twice_with_ma_terms():
    hits = 0
    for seed in range(4):
        y = _simulate(seed, [], [-0.4], 1, 1, sma=-0.6)
        model = identify(y)
        assert (model.order[1], model.seasonal_order[1]) == (1, 1), (seed, model.arima)
        assert model.order[0] + model.order[2] <= 2 and model.seasonal_order[2] == 1, (seed, model.arima)
        hits += model.arima == "(0 1 1)(0 1 1)"
        assert not model.mean  # no drift was simulated
    assert hits >= 2


def test_seasonal_ar_process_with_a_seasonal_difference_and_calendar_effects():
    y = _simulate(11, [0.6], [], 0, 1, sma=-0.5)
    regs = _regressors(y.index)
    y = y + 4.0 * regs["sf_during"] - 2.0 * regs["working_days"]
    model = identify(y, regs)
    assert (model.order[1], model.seasonal_order[1]) == (0, 1), model.arima
    assert model.order[0] >= 1 and model.seasonal_order[2] == 1, model.arima


def test_stationary_series_is_not_differenced_and_keeps_its_mean():
    for seed in range(3):
        y = _simulate(20 + seed, [0.5], [], 0, 0)
        model = identify(y)
        assert (model.order[1], model.seasonal_order[1]) == (0, 0), (seed, model.arima)
        assert model.mean and model.order[0] + model.order[2] >= 1, (seed, model.arima)


def test_a_shock_gets_an_outlier_and_does_not_change_the_differencing():
    y = _simulate(31, [0.5], [], 0, 0)
    y[pd.Period("2020-02", "M")] -= 15.0
    model = identify(y)
    assert "2020-02" in model.outliers
    assert (model.order[1], model.seasonal_order[1]) == (0, 0), model.arima


def _official(stem: str, series: str) -> pd.Series:
    from collectors.official import read_official_table

    table = read_official_table(OFFICIAL / f"{stem}.csv").tables["official_statistic"]
    rows = table[table["series"] == series]
    y = pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()
    return y.reindex(pd.period_range(y.index[0], y.index[-1], freq="M"))


def _names(stem: str) -> list[str]:
    from collectors.official import read_official_table

    table = read_official_table(OFFICIAL / f"{stem}.csv").tables["official_statistic"]
    return sorted(table["series"].unique())


def _model_in_note(result) -> str:
    note = next(n for n in result.notes if n.startswith("model identified in Python"))
    found = re.search(r"\(\d \d \d\)\(\d \d \d\)", note)
    assert found, note
    return found.group(0)


def _x13_orders(model: str) -> str:
    """X-13 writes ``(2 0 1)`` for ``(2 0 1)(0 0 0)``."""
    return model if model.count("(") == 2 else model + "(0 0 0)"


@pytest.mark.x13
@pytest.mark.filterwarnings("ignore::forecasting.exceptions.X13Warning",
                            "ignore::forecasting.exceptions.CalendarRuleWarning")
def test_real_series_run_through_x13_with_the_identified_model_fixed():
    pmi = _names("nbs_pmi_original_export")[0]
    electricity = _names("china_electricity_consumption_monthly")[0]
    cases = [(_official("nbs_pmi_original_export", pmi), "additive"),
             (_official("china_electricity_consumption_monthly", electricity), "multiplicative")]
    for y, mode in cases:
        result = SeasonalAdjuster(mode=mode, arima="search").fit(y, name=f"{mode} case")
        assert result.method_used == "x13-x11"
        identified = _model_in_note(result)
        assert result.model is not None and _x13_orders(result.model) == identified
        assert f"model = {identified}" in result.spec and "automdl" not in result.spec
        sa = result.seasadj.dropna()
        assert len(sa) == y.notna().sum() and np.isfinite(sa).all()
        assert result.diagnostics.aicc is not None and result.diagnostics.m7 is not None
        if "with a mean" in next(n for n in result.notes if n.startswith("model identified")):
            assert "const" in result.spec and "Constant" in result.regressors["group"].tolist()


def _di(seed: int, n: int = 150) -> pd.Series:
    y = _simulate(seed, [0.5], [], 0, 0, scale=2.0)
    months = np.asarray(y.index.month)
    return (y + 3.0 * np.sin(2 * np.pi * months / 12)).iloc[:n]


@pytest.mark.x13
@pytest.mark.filterwarnings("ignore::forecasting.exceptions.X13Warning",
                            "ignore::forecasting.exceptions.CalendarRuleWarning")
def test_batch_equals_per_series_and_a_series_the_search_cannot_fit_falls_back_with_its_reason():
    search = SeasonalAdjuster(arima="search")
    holey = _di(43)
    gone = np.random.default_rng(5).choice(np.arange(12, 150), size=38, replace=False)
    holey.iloc[gone] = np.nan  # a quarter of the months missing: too many for the search to interpolate
    jobs = [(search, _di(41), "a"), (search, holey, "holey"), (search, _di(42, n=120), "b"),
            (SeasonalAdjuster(mode="multiplicative", arima="search"), _di(44) + 100.0, "levels")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = fit_many(jobs, batch_size=3)
        for (adjuster, series, name), got in zip(jobs, batched, strict=True):
            assert not isinstance(got, Exception), (name, got)
            _same(adjuster.fit(series, name=name), got, name)
    fallback = batched[1]
    reason = [n for n in fallback.notes if "model search (arima='search') failed" in n]
    assert reason and "missing" in reason[0] and "airline" in reason[0]
    assert fallback.model == "(0 1 1)(0 1 1)"
    assert fallback.seasadj.notna().sum() == holey.notna().sum()
    for result in (batched[0], batched[2], batched[3]):
        assert _x13_orders(result.model or "") == _model_in_note(result)
    with pytest.warns(ForecastingWarning, match="model search .* failed"):
        search.fit(holey, name="holey")
