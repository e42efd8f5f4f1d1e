"""Real data: China's monthly electricity consumption (Wind export, GBK, Jan/Feb missing) with the Spring Festival."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import SeasonalAdjuster

pytestmark = pytest.mark.x13

CSV = Path(__file__).parent / "data" / "electricity" / "china_electricity_consumption_monthly.csv"


def _read_wind_csv(path: Path) -> pd.Series:
    """Parse a Wind single-indicator export: GBK, metadata rows, 'YYYY/M/D,value' rows, '#N/A', footer."""
    values: dict[pd.Period, float] = {}
    for line in path.read_bytes().decode("gbk").splitlines():
        head, _, value = line.partition(",")
        parts = head.split("/")
        if len(parts) != 3 or not parts[0].isdigit():
            continue  # metadata (国家, 指标名称, ...), blank row, footer 数据来源
        period = pd.Period(year=int(parts[0]), month=int(parts[1]), freq="M")
        value = value.strip().rstrip(",")
        values[period] = np.nan if value in ("#N/A", "") else float(value)
    series = pd.Series(values, dtype=float).sort_index()
    full = pd.period_range(series.index[0], series.index[-1], freq="M")
    return (series.reindex(full) / 1e4).rename("electricity")  # 万kWh -> 亿kWh


@pytest.fixture(scope="module")
def electricity() -> pd.Series:
    return _read_wind_csv(CSV)


def _fit(series: pd.Series, fit: dict | None = None, **kwargs) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # X-13 spectrum warnings and the 2006 calendar-rule warning
        return SeasonalAdjuster(mode="multiplicative", **kwargs).fit(series, **(fit or {}))


def test_parser(electricity):
    assert electricity.index[0] == pd.Period("2006-03", "M") and electricity.index[-1] == pd.Period("2025-03", "M")
    assert electricity[pd.Period("2020-02", "M")] == pytest.approx(4397.5728)
    missing = [str(p) for p in electricity.index[electricity.isna()]]
    assert missing == ["2007-01", "2007-02", "2008-01", "2008-02", "2024-01", "2025-01"]


@pytest.fixture(scope="module")
def with_festival(electricity):
    return _fit(electricity)


@pytest.fixture(scope="module")
def without_festival(electricity):
    return _fit(electricity, holidays=(), working_days=False)


def test_spring_festival_effect_is_significant(with_festival):
    regs = with_festival.regressors
    assert {"sf_before", "sf_during", "sf_after", "working_days"} <= set(regs.index)
    assert (regs.loc[["sf_before", "sf_during"], "t"].abs() > 2).all()
    assert (regs.loc[["sf_before", "sf_during", "sf_after"], "coef"] < 0).all()  # factories close
    df, chi2, p = with_festival.diagnostics.regressor_tests["User-defined Holiday"]
    assert df == 3 and p < 0.001
    # the festival factor is below 1 in the festival month and the calendar factor moves with the date
    fest = with_festival.festival
    assert fest[pd.Period("2020-01", "M")] < 1 < fest[pd.Period("2020-02", "M")]  # festival 25 Jan 2020
    assert fest[pd.Period("2021-02", "M")] < 1 < fest[pd.Period("2021-01", "M")]  # festival 12 Feb 2021


def test_no_residual_seasonality_with_festival_regressors(with_festival):
    d = with_festival.diagnostics
    assert d.qs_seasadj_outlier_adjusted.pvalue > 0.05
    assert d.f_seasadj.pvalue > 0.05
    assert d.qs_irregular.pvalue > 0.05
    assert d.x13_qs["qssadjevadj"].pvalue > 0.05  # X-13's own QS on the adjusted series (extreme values replaced)
    assert d.m7 < 1 and d.q < 1
    assert d.light == "green", d.light_reasons
    assert with_festival.method_used == "x13-x11"


def test_january_february_residuals_larger_without_festival_regressors(with_festival, without_festival):
    def rms(result, months):
        irr = np.log(result.irregular)
        irr = irr[irr.index.month.isin(months) & (irr.index.year != 2020)]  # 2020: COVID, not the calendar
        return float(np.sqrt(np.mean(irr**2)))

    janfeb_with, janfeb_without = rms(with_festival, [1, 2]), rms(without_festival, [1, 2])
    other_with, other_without = rms(with_festival, range(3, 13)), rms(without_festival, range(3, 13))
    assert janfeb_without > 1.5 * janfeb_with, (janfeb_with, janfeb_without)
    assert other_without < 1.5 * other_with  # the difference is specific to January/February
    # without the regressors X-13 also needs more January/February outliers to cope
    jf = lambda r: int(r.outliers["period"].dt.month.isin([1, 2]).sum())  # noqa: E731
    assert jf(without_festival) > jf(with_festival)


def test_missing_months_are_estimated(with_festival, electricity):
    missing = electricity.isna()
    assert with_festival.seasadj[missing].isna().all()
    assert with_festival.estimated[missing].all()
    est = with_festival.filled[pd.Period("2024-01", "M")]
    assert 7500 < est < 9500  # Jan-Feb 2024 total 15316 (10^8 kWh) minus February 6845 = 8471


def test_combined_january_february_split(electricity):
    truth = electricity.copy()
    years = [2012, 2016, 2019]
    combined = electricity.copy()
    for year in years:
        jan, feb = pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-02", "M")
        combined[feb] = truth[jan] + truth[feb]
        combined[jan] = np.nan
    result = _fit(combined, fit={"combined_janfeb": years, "janfeb": "sum"})
    for year in years:
        jan, feb = pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-02", "M")
        assert result.filled[jan] + result.filled[feb] == pytest.approx(truth[jan] + truth[feb], rel=1e-9)
        assert result.filled[jan] == pytest.approx(truth[jan], rel=0.08)
        assert result.estimated[jan] and result.estimated[feb]
        assert not np.isnan(result.seasadj[jan]) and not np.isnan(result.seasadj[feb])
    assert any("Jan-Feb combined in 2012, 2016, 2019" in n for n in result.notes)


def test_stl_method_on_the_same_series(electricity):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = SeasonalAdjuster("stl", mode="multiplicative").fit(electricity)
    assert result.method_used == "stl"
    assert (result.regressors.loc[["sf_before", "sf_during", "sf_after"], "coef"] < 0).all()
    assert result.regressors.loc["sf_before", "t"] < -2
    assert result.seasadj[electricity.isna()].isna().all()
    assert result.diagnostics.m7 is None
