"""Nowcasts with the dynamic factor model and target-attainment probabilities (issue 6)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecasting
from collectors.official import read_official_table

DATA = Path(__file__).parent / "data" / "official"


def _factor_data(seed: int = 3, n: int = 120, k: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """k indicators and a target driven by one AR(1) factor; the target's last month unpublished."""
    rng = np.random.default_rng(seed)
    f = np.zeros(n)
    for t in range(1, n):
        f[t] = 0.8 * f[t - 1] + rng.normal()
    index = pd.period_range("2014-01", periods=n, freq="M")
    data = pd.DataFrame({f"x{i}": (0.6 + 0.2 * i) * f + rng.normal(0, 0.5, n) for i in range(k)}, index=index)
    truth = pd.Series(2.0 * f + 5 + rng.normal(0, 0.4, n), index=index)
    data["target"] = truth
    data.iloc[-1, -1] = np.nan
    return data, truth


def test_nowcast_tracks_a_factor_driven_target():
    data, truth = _factor_data()
    result = forecasting.nowcast(data, "target", maxiter=500, tolerance=1e-5)
    assert result.converged and 0 < result.iterations < 500 and result.criterion < 1e-5
    assert list(result.frame.index.astype(str)) == ["2023-12"]
    row = result.frame.iloc[0]
    assert row["lo-95"] < row["lo-80"] < row["mean"] < row["hi-80"] < row["hi-95"]
    last_published = data["target"].iloc[-2]
    # the indicators of the month carry the factor: the nowcast beats "same as last month" by far
    assert abs(row["mean"] - truth.iloc[-1]) < 0.5 * abs(last_published - truth.iloc[-1]) + 0.5
    assert row["lo-95"] <= truth.iloc[-1] <= row["hi-95"]


def test_news_impacts_add_up_to_the_revision():
    data, _ = _factor_data(seed=5)
    previous = data.iloc[:-1].copy()
    previous.iloc[-1, -1] = np.nan  # a month earlier the target of that month was not out either
    result = forecasting.nowcast(data, "target", previous=previous, maxiter=200, tolerance=1e-5)
    news = result.news
    assert set(news["series"]) >= {"x0", "target"}  # new indicator data and the release of the target
    period = result.frame.index[0]
    revision = result.frame.loc[period, "mean"] - result.previous[period]
    assert news.loc[news["period"] == period, "impact"].sum() == pytest.approx(revision, abs=1e-8)
    released = news[(news["series"] == "target")].iloc[0]
    assert released["actual"] == pytest.approx(data["target"].iloc[-2])
    assert released["news"] == pytest.approx(released["actual"] - released["expected"])


def test_non_convergence_is_reported():
    data, _ = _factor_data(seed=7)
    with pytest.warns(forecasting.NowcastConvergenceWarning, match="maxiter=3"):
        result = forecasting.nowcast(data, "target", maxiter=3, tolerance=1e-12)
    assert not result.converged and result.iterations == 3
    assert any("maxiter" in note for note in result.notes)
    assert np.isfinite(result.frame["mean"]).all()


def test_quarterly_input_and_later_months():
    data, _ = _factor_data(seed=9)
    quarterly = data[["x0"]].groupby(data.index.asfreq("Q")).mean().rename(columns={"x0": "q"}).iloc[:-1]
    result = forecasting.nowcast(data, "target", quarterly=quarterly, periods=2, maxiter=200)
    assert "q" in result.inputs
    assert list(result.frame.index.astype(str)) == ["2023-12", "2024-01", "2024-02"]
    width = (result.frame["hi-80"] - result.frame["lo-80"]).to_numpy()
    assert width[0] < width[-1]  # uncertainty grows past the data


@pytest.mark.parametrize("bad, match", [
    (lambda d: d.drop(columns="target"), "not a column"),
    (lambda d: d.fillna(0.0), "nothing to nowcast"),
    (lambda d: d.iloc[-20:], "at least 36"),
    (lambda d: d.reset_index(drop=True), "PeriodIndex"),
])
def test_nowcast_refuses_bad_input_clearly(bad, match):
    data, _ = _factor_data()
    with pytest.raises(forecasting.ForecastingError, match=match):
        forecasting.nowcast(bad(data), "target")


def _official(file: str, name: str) -> pd.Series:
    table = read_official_table(DATA / file).tables["official_statistic"]
    rows = table[table["series"] == name]
    return pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()


def test_nowcast_on_real_data_hubei_value_added_from_the_pmi():
    """Hubei value added growth from the NBS PMI sub-indices: the August 2023 figure before its release."""
    cols = {k: _official("nbs_pmi_original_export.csv", f"nbs/pmi/{k}") - 50
            for k in ("headline", "production", "new_orders", "employment")}
    cols["iva"] = _official("hubei_industrial_value_added_yoy.csv", "iva/yoy")
    data = pd.DataFrame(cols).loc["2012-01":"2023-08"]
    actual = data.loc["2023-08", "iva"]
    data.loc["2023-08", "iva"] = np.nan
    previous = data.loc[:"2023-07"].copy()
    previous.loc["2023-07", :] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", forecasting.NowcastConvergenceWarning)
        result = forecasting.nowcast(data, "iva", previous=previous, maxiter=200)
    row = result.frame.loc[pd.Period("2023-08", "M")]
    assert row["lo-95"] <= actual <= row["hi-95"]  # published: 5.0 (the 95 % band is wide: COVID base effects)
    assert isinstance(result.converged, bool) and result.iterations > 0 and np.isfinite(result.llf)
    assert result.news["impact"].sum() == pytest.approx(row["mean"] - result.previous.iloc[0], abs=1e-8)
    assert any("2020" in note for note in result.notes)  # the COVID months were cleaned for estimation


# ----------------------------------------------------------------------------------------------- target odds
def _ytd_panel(levels: dict[int, float], months=range(2, 13), noise: float = 0.0, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = {pd.Period(f"{y}-{mo:02d}", "M"): lv + rng.normal(0, noise) for y, lv in levels.items() for mo in months}
    return pd.Series(values).sort_index()


def test_december_is_the_outcome():
    ytd = _ytd_panel({2020: 6.0, 2021: 7.0})
    met = forecasting.target_attainment(year=2021, origin="2021-12", target=6.5, ytd=ytd)
    assert met.probability == 1.0 and met.method == "outcome" and met.required is None
    missed = forecasting.target_attainment(year=2021, origin="2021-12", target=7.5, ytd=ytd)
    assert missed.probability == 0.0


def test_ytd_history_method_and_monotonicity():
    rng = np.random.default_rng(1)
    levels = {y: 7.0 for y in range(2012, 2021)}
    ytd = _ytd_panel(levels, noise=0.3, seed=2)
    probs = []
    for target in (5.0, 6.5, 7.0, 7.5, 9.0):
        odds = forecasting.target_attainment(year=2020, origin="2020-09", target=target, ytd=ytd, rng=rng)
        assert odds.method == "ytd-history" and odds.lower_80 < odds.expected < odds.upper_80
        probs.append(odds.probability)
    assert probs == sorted(probs, reverse=True)
    assert probs[0] > 0.99 and probs[-1] < 0.01
    below = forecasting.target_attainment(year=2020, origin="2020-09", target=6.5, comparison="<=", ytd=ytd)
    assert below.probability == pytest.approx(1 - probs[1], abs=1e-9)
    assert odds.required == pytest.approx((12 * 9.0 - 9 * odds.ytd) / 3)


def test_monthly_method_simulates_the_rest_of_the_year():
    rng = np.random.default_rng(4)
    index = pd.period_range("2015-01", "2021-06", freq="M")
    monthly = pd.Series(8.0 + rng.normal(0, 0.5, len(index)), index=index)
    monthly[monthly.index.month <= 2] = np.nan  # Jan/Feb not published
    ytd = monthly.groupby(monthly.index.year).transform(lambda s: s.expanding().mean())
    a = forecasting.target_attainment(year=2021, origin="2021-06", target=6.5, ytd=ytd, monthly=monthly,
                                      rng=np.random.default_rng(0), simulations=2000)
    b = forecasting.target_attainment(year=2021, origin="2021-06", target=6.5, ytd=ytd, monthly=monthly,
                                      rng=np.random.default_rng(0), simulations=2000)
    assert a == b  # reproducible with the same generator
    assert a.method == "monthly" and a.probability > 0.99 and 7.0 < a.expected < 9.0
    hard = forecasting.target_attainment(year=2021, origin="2021-06", target=9.5, ytd=ytd, monthly=monthly)
    assert hard.probability < 0.01


def test_attainment_refuses_bad_input():
    ytd = _ytd_panel({2020: 6.0})
    with pytest.raises(forecasting.ForecastingError, match="not in the target's year"):
        forecasting.target_attainment(year=2021, origin="2020-06", target=6.5, ytd=ytd)
    with pytest.raises(forecasting.ForecastingError, match="no year-to-date value of 2021"):
        forecasting.target_attainment(year=2021, origin="2021-06", target=6.5, ytd=ytd)
    with pytest.raises(forecasting.ForecastingError, match="comparison"):
        forecasting.target_attainment(year=2020, origin="2020-06", target=6.5, comparison=">", ytd=ytd)


# ------------------------------------------------------------------------------------ honest convergence (#15)
def test_a_fall_of_the_log_likelihood_is_not_convergence():
    from forecasting.nowcast import em_convergence

    # statsmodels stops after a step that lowers the log likelihood (and reverts it): tiny last change, not converged
    ok, stop, crit = em_convergence([-500.0, -420.0, -419.99999], 3, maxiter=500, tolerance=1e-6, decreased=True)
    assert (ok, stop) == (False, "llf-decrease") and crit < 1e-6
    # a path whose last accepted step went down is not convergence either, however small the change
    ok, stop, _ = em_convergence([-500.0, -420.0, -420.0000001], 3, maxiter=500, tolerance=1e-6)
    assert (ok, stop) == (False, "llf-decrease")
    # stopping at maxiter with a change above the tolerance
    ok, stop, _ = em_convergence([-500.0, -420.0, -419.0], 500, maxiter=500, tolerance=1e-6)
    assert (ok, stop) == (False, "maxiter")
    # a rise below the tolerance before maxiter: converged
    ok, stop, crit = em_convergence([-500.0, -420.0, -419.9999999], 3, maxiter=500, tolerance=1e-6)
    assert (ok, stop) == (True, "tolerance") and 0 < crit < 1e-6
    # two iterations are not convergence unless the change really is small (the old rule: iterations < maxiter)
    ok, stop, _ = em_convergence([-500.0, -420.0], 2, maxiter=500, tolerance=1e-6)
    assert not ok


def test_nowcast_reports_why_em_stopped():
    data, _ = _factor_data(seed=7)
    with pytest.warns(forecasting.NowcastConvergenceWarning, match="maxiter=3"):
        result = forecasting.nowcast(data, "target", maxiter=3, tolerance=1e-12)
    assert result.stop == "maxiter" and not result.converged
    result = forecasting.nowcast(data, "target", maxiter=500, tolerance=1e-4)
    assert result.converged and result.stop == "tolerance" and result.criterion < 1e-4


# ------------------------------------------------------------------------------------ bridge nowcasts (#15)
def _bridge_data(seed: int = 11, n: int = 150) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = pd.period_range("2010-01", periods=n, freq="M")
    pmi = pd.Series(np.cumsum(rng.normal(0, 0.6, n)) * 0.3, index=index)
    y = 6 + 1.5 * pmi + rng.normal(0, 0.3, n)
    return pd.Series(y, index=index), pd.DataFrame({"pmi": pmi})


@pytest.mark.parametrize("method", ["bridge", "two_year", "midas"])
def test_bridge_nowcasts_use_the_indicator_of_the_month(method):
    from forecasting.nowcast import bridge_nowcast

    y, x = _bridge_data()
    origin = y.index[-1]
    known = y.loc[: origin - 1]
    result = bridge_nowcast(known, x, origin, method=method, level=(80,))
    naive = bridge_nowcast(known, None, origin, method="naive", level=(80,))
    assert result.method == method and result.last_published == origin - 1
    assert abs(result.mean - y[origin]) < abs(naive.mean - y[origin]) + 0.3
    assert result.lo[80.0] < result.mean < result.hi[80.0]


def test_bridge_respects_the_release_calendar():
    """A value of the target for the month nowcast is refused; months never published (January, February)
    make the last published month December, and the bridge spans the gap."""
    from forecasting.nowcast import bridge_nowcast

    y, x = _bridge_data()
    with pytest.raises(forecasting.ForecastingError, match="already published"):
        bridge_nowcast(y, x, y.index[-1], method="bridge")
    march = pd.Period("2021-03", "M")
    known = y.loc[: march - 1].copy()
    known[known.index.month <= 2] = np.nan
    result = bridge_nowcast(known, x.loc[:march], march, method="bridge")
    assert result.last_published == pd.Period("2020-12", "M")
    # the indicator after the origin cannot move the nowcast
    later = x.copy()
    later.loc[march + 1:, "pmi"] += 50
    again = bridge_nowcast(known, later, march, method="bridge")
    assert again.mean == pytest.approx(result.mean)
