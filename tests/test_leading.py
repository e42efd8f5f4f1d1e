"""Composite leading indicator (OECD method) and Bry-Boschan turning points (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collectors.official import read_official_table
from forecasting import ForecastingError
from forecasting.leading import (
    composite_leading_indicator,
    growth_cycle,
    hp_lambda,
    latest_signal,
    turning_point_match,
    turning_points,
)

DATA = Path(__file__).parent / "data"


def _monthly(values, start: str = "2000-01") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.period_range(start, periods=len(values), freq="M"))


def test_hp_lambdas_are_the_oecd_ones():
    assert hp_lambda(120) == pytest.approx(133107.94, rel=1e-6)
    assert hp_lambda(12) == pytest.approx(13.93, abs=0.01)


def test_turning_points_of_a_hand_made_cycle():
    """Peaks at months 12, 48, 84 and troughs at 30, 66: found exactly, alternating, nothing else."""
    t = np.arange(100)
    x = np.sin(2 * np.pi * (t - 3) / 36)
    tp = turning_points(_monthly(x))
    assert list(tp["kind"]) == ["peak", "trough", "peak", "trough", "peak"]
    assert [p.ordinal - pd.Period("2000-01", "M").ordinal for p in tp["period"]] == [12, 30, 48, 66, 84]


def test_bry_boschan_rules_remove_short_phases_and_keep_the_extreme_of_a_double_top():
    t = np.arange(120)
    x = np.sin(2 * np.pi * t / 48) * 10
    x[40] = x[40] - 6  # a one-month dip inside a downswing: a phase shorter than 5 months
    x[10] = 10.5       # a higher second top beside the true peak at 12: one peak, at the highest value
    tp = turning_points(_monthly(x), window=5, censor=6, min_phase=5, min_cycle=15)
    kinds = list(tp["kind"])
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))  # alternation
    gaps = np.diff([p.ordinal for p in tp["period"]])
    assert (gaps >= 5).all()  # minimum phase
    first_peak = tp[tp["kind"] == "peak"].iloc[0]
    assert str(first_peak["period"]) == "2000-11" and first_peak["value"] == pytest.approx(10.5)
    assert (tp["period"] > pd.Period("2000-06", "M")).all()  # censored ends
    assert (tp["period"] < pd.Period("2009-07", "M")).all()


def test_minimum_cycle_drops_the_smaller_swing():
    # a big cycle of 40 months with a small wiggle (peak-trough 6 months apart, 10 months cycle) inside
    t = np.arange(120)
    x = np.sin(2 * np.pi * t / 40) * 10
    x[55:61] += np.array([0, 1.5, 3, 3, 1.5, 0])  # a small bump on the way down after the peak at 50
    tp = turning_points(_monthly(x))
    cycles = [b.ordinal - a.ordinal for a, b in zip(tp["period"], tp["period"][2:], strict=False)]
    assert all(c >= 15 for c in cycles)


def test_latest_signal_reads_a_recent_peak_and_the_phase():
    t = np.arange(80)
    x = 100 + np.sin(2 * np.pi * (t - 57) / 40)  # peak at month 67, 12 months before the end
    s = _monthly(x)
    signal = latest_signal(s, confirm=3)
    assert signal["kind"] == "peak" and signal["months_ago"] == 12
    assert signal["phase"] == "slowdown"  # below 100 and falling at the end


def test_leading_indicator_finds_a_planted_lead():
    rng = np.random.default_rng(7)
    n = 240
    cycle = np.sin(2 * np.pi * np.arange(n + 6) / 50) * 3
    reference = _monthly(6 + cycle[:-6] + rng.normal(0, 0.4, n))
    comps = pd.DataFrame({"leads": 50 + cycle[6:] + rng.normal(0, 0.3, n),
                          "inverted": 50 - cycle[6:] + rng.normal(0, 0.3, n),
                          "noise": 50 + rng.normal(0, 1, n)}, index=reference.index)
    res = composite_leading_indicator(comps, reference, min_lead=1, max_lead=12, min_corr=0.5)
    assert set(res.components.index[res.components["selected"]]) == {"leads", "inverted"}
    assert res.components.loc["inverted", "sign"] == -1
    assert 4 <= res.lead <= 8 and res.correlation > 0.8
    assert abs(res.cli.mean() - 100) < 1e-6
    match = turning_point_match(turning_points(res.cli), turning_points(res.reference_cycle))
    assert match["hit_rate"] >= 0.8 and match["median_lead"] > 0


def test_refusals():
    with pytest.raises(ForecastingError, match="at least 48"):
        growth_cycle(_monthly(np.arange(20.0)))
    with pytest.raises(ForecastingError, match="PeriodIndex"):
        growth_cycle(pd.Series(np.arange(60.0)))
    ref = _monthly(np.sin(np.arange(120) / 5))
    with pytest.raises(ForecastingError, match="no component leads"):
        composite_leading_indicator(pd.DataFrame({"x": np.random.default_rng(1).normal(size=120)}, index=ref.index),
                                    ref, min_corr=0.9)


def test_national_pmi_components_lead_national_industry_value_added():
    """Real data: the NBS PMI components against national industry value added growth (quarterly, NBS)."""
    table = read_official_table(DATA / "official" / "nbs_pmi_original_export.csv").tables["official_statistic"]
    pmi = table.pivot(index="period", columns="series", values="value")
    pmi.index = pd.PeriodIndex(pmi.index, freq="M")
    comps = pmi[[f"nbs/pmi/{k}" for k in ("new_orders", "new_export_orders", "purchase_quantity", "production")]]
    raw = pd.read_csv(DATA / "national" / "nbs_gdp_quarterly_original_export.csv", encoding="gbk", skiprows=2)
    row = raw[raw.iloc[:, 0].astype(str).str.startswith("Value-added of Industry Current Quarter")].iloc[0, 1:]
    q = pd.Series(pd.to_numeric(row.to_numpy(), errors="coerce"),
                  index=pd.PeriodIndex([f"{c.split()[1]}Q{c.split()[0][0]}" for c in row.index], freq="Q"))
    q = q.dropna().sort_index()
    growth = (q / q.shift(4) - 1) * 100
    growth.index = pd.PeriodIndex([p.asfreq("M", "start") + 1 for p in growth.index], freq="M")
    ref = growth.reindex(pd.period_range(growth.index[0], growth.index[-1], freq="M")).interpolate()
    ref = ref.loc["2006-01":]
    ref = ref.where((ref.index.year != 2020) & ~((ref.index.year == 2021) & (ref.index.month <= 6)))
    ref = ref.interpolate(limit_area="inside")
    res = composite_leading_indicator(comps.loc["2005-01":], ref, min_lead=1, max_lead=12, min_corr=0.3)
    assert res.lead >= 1 and res.correlation > 0.6
    match = turning_point_match(turning_points(res.cli), turning_points(growth_cycle(ref)))
    assert match["hit_rate"] >= 0.6
