"""The bridge nowcast chosen out of sample (forecasting.bridge) and the stored nowcast that uses it (issue 15)."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collectors.official import read_official_table
from forecasting import ForecastingError
from forecasting.bridge import SPECS, bridge_features, conformal_quantile, huber_fit, recent_scale, select_nowcast
from forecasting.calendar import working_days

DATA = Path(__file__).parent / "data"
DAYS = working_days(pd.period_range("1999-01", "2024-12", freq="M"), warn=False)


def _official(file: str, name: str) -> pd.Series:
    table = read_official_table(DATA / "official" / file).tables["official_statistic"]
    rows = table[table["series"] == name]
    return pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()


@pytest.fixture(scope="module")
def national():
    """National industrial electricity output growth (NBS; January and February unpublished) and the PMI."""
    nat = pd.read_csv(DATA / "national" / "nbs_electricity_output_2000_2023_tidy.csv")
    y = pd.Series(nat.iloc[:, 3].astype(float).to_numpy(), index=pd.PeriodIndex(nat["month"], freq="M"))
    y[y.index.month <= 2] = np.nan
    pmi = pd.DataFrame({k: _official("nbs_pmi_original_export.csv", f"nbs/pmi/{k}") - 50
                        for k in ("headline", "production", "new_orders")})
    return y, pmi


def _known(y: pd.Series, pmi: pd.DataFrame, origin: pd.Period) -> tuple[pd.Series, pd.DataFrame]:
    """The release calendar: the target to the month before the origin, the PMI to the origin."""
    return y.loc[: origin - 1], pmi.loc[:origin]


def test_selected_nowcast_beats_the_naive_on_real_ordinary_months(national):
    """Pseudo-real time on the national series, 2013-2019 (every third ordinary origin): better than the last
    published value, with honest intervals."""
    y, pmi = national
    origins = [p for p in pd.period_range("2013-04", "2019-12", freq="M")
               if p.month not in (1, 2, 3) and np.isfinite(y[p]) and np.isfinite(y[p - 1])][::3]
    errors, naive, inside = [], [], []
    for origin in origins:
        r = select_nowcast(*_known(y, pmi, origin), origin, working_days=DAYS)
        assert r.kind == "ordinary" and r.last_published == origin - 1 and len(r.members) == 3
        assert set(r.record) <= set(SPECS) and r.scored >= 24
        errors.append(abs(r.mean - y[origin]))
        naive.append(abs(y[origin - 1] - y[origin]))
        inside.append(r.lo[80.0] <= y[origin] <= r.hi[80.0])
    assert np.mean(errors) < 0.9 * np.mean(naive)
    assert 0.6 <= np.mean(inside) <= 0.95


def test_the_release_calendar_is_respected(national):
    """Values the origin could not know (later PMI, later official figures) change nothing."""
    y, pmi = national
    origin = pd.Period("2018-06", "M")
    first = select_nowcast(*_known(y, pmi, origin), origin, working_days=DAYS)
    later_y = y.loc[: origin - 1].copy()
    later_pmi = pmi.loc[:origin].copy()
    future = pd.period_range(origin + 1, origin + 6, freq="M")
    later_y = pd.concat([later_y, pd.Series(99.0, index=future)])
    later_pmi = pd.concat([later_pmi, pd.DataFrame(30.0, index=future, columns=pmi.columns)])
    again = select_nowcast(later_y, later_pmi, origin, working_days=DAYS)
    assert again.mean == pytest.approx(first.mean) and again.members == first.members
    assert again.lo == pytest.approx(first.lo) and again.record == pytest.approx(first.record)
    # the PMI of the origin month does count (it is out on the last day of the month)
    moved = pmi.loc[:origin].copy()
    moved.loc[origin] += 5
    assert select_nowcast(y.loc[: origin - 1], moved, origin, working_days=DAYS).candidates["bridge"] != \
        pytest.approx(first.candidates["bridge"])
    with pytest.raises(ForecastingError, match="already published"):
        select_nowcast(y.loc[:origin], pmi, origin)


def test_an_indicator_enters_with_its_lag_at_the_origin(national):
    """Electricity known only to the month before: the equations use e(t-1) in estimation too, so a value of
    the origin month that does not exist cannot be asked for, and a later value cannot leak in."""
    y, pmi = national
    origin = pd.Period("2018-06", "M")
    elec = y.shift(1).rename("electricity")  # any monthly series known to origin - 1
    x = pmi.loc[:origin].assign(electricity=elec.loc[: origin - 1])
    base = select_nowcast(y.loc[: origin - 1], x, origin, working_days=DAYS)
    x2 = x.copy()
    x2.loc[origin, "electricity"] = np.nan  # the same thing said explicitly
    assert select_nowcast(y.loc[: origin - 1], x2, origin, working_days=DAYS).mean == pytest.approx(base.mean)


def test_march_origins_are_chosen_on_march_origins(national):
    """At a March origin the last figure is December's; the record is the earlier March origins'."""
    y, pmi = national
    origin = pd.Period("2019-03", "M")
    r = select_nowcast(*_known(y, pmi, origin), origin, working_days=DAYS)
    assert r.kind == "march" and r.last_published == pd.Period("2018-12", "M")
    assert 4 <= r.scored <= 10
    assert np.isfinite(r.mean) and r.lo[80.0] < r.mean < r.hi[80.0]
    # conformal with the 10 March scores: enough for 80 %, too few for 95 % (said in the notes)
    assert r.scored == 10 and any("95 %" in n and "too few" in n for n in r.notes)
    assert not any("80 %" in n for n in r.notes)


def test_the_base_effect_is_found_on_a_synthetic_target():
    """A y/y rate of a level whose momentum is the PMI: its change is this month's momentum minus last year's.
    The candidates with the base effect win the out-of-sample record and beat the naive clearly."""
    rng = np.random.default_rng(3)
    months = pd.period_range("2004-01", "2023-12", freq="M")
    cycle = np.zeros(len(months))
    for i in range(1, len(months)):
        cycle[i] = 0.8 * cycle[i - 1] + rng.normal(0, 1.0)
    pmi = pd.DataFrame({"headline": 2 * cycle + rng.normal(0, 0.3, len(months))}, index=months)
    log_level = np.cumsum(0.5 + 0.8 * cycle) / 100
    level = pd.Series(np.exp(log_level), index=months)
    y = ((level / level.shift(12) - 1) * 100).dropna()
    y[y.index.month <= 2] = np.nan
    errors, naive, members = [], [], []
    for origin in pd.period_range("2018-04", "2019-12", freq="M")[::3]:
        if origin.month <= 3:
            continue
        r = select_nowcast(y.loc[: origin - 1], pmi.loc[:origin], origin, working_days=DAYS)
        errors.append(abs(r.mean - y[origin]))
        naive.append(abs(y[origin - 1] - y[origin]))
        members += list(r.members)
    assert np.mean(errors) < 0.5 * np.mean(naive)
    assert "naive" not in members and any(m.startswith("base") or m == "ecm" for m in members)


def test_bad_input_is_refused_clearly(national):
    y, pmi = national
    with pytest.raises(ForecastingError, match="at least 36 are needed"):
        select_nowcast(y.loc["2010-01":"2011-06"], None, "2011-07")
    with pytest.raises(ForecastingError, match="unknown candidate"):
        select_nowcast(y.loc[:"2018-05"], pmi, "2018-06", specs=("naive", "oracle"))
    with pytest.raises(ForecastingError, match="PeriodIndex"):
        select_nowcast(pd.Series([1.0, 2.0]), None, "2018-06")
    with pytest.raises(ForecastingError, match="estimation must be"):
        select_nowcast(y.loc[:"2018-05"], pmi, "2018-06", estimation="ols")


# ------------------------------------------------------------------------------------------- the stored nowcast
@pytest.fixture(scope="module")
def long_demo():
    from monitor.demo.generator import generate_demo

    return generate_demo(seed=17, enterprises=60, start=pd.Period("2013-01", "M"), end=pd.Period("2019-12", "M"))


def test_the_stored_nowcast_is_the_bridge_chosen_out_of_sample(store, long_demo, tmp_path):
    from monitor.compute import compute_range
    from monitor.demo.load import load_demo
    from monitor.nowcasts import nowcast_target, read_nowcasts
    from monitor.reference import CITY_CODE
    from monitor.settings import load_settings

    load_demo(store, long_demo)
    settings = load_settings(environ={}, overrides={
        "data_dir": str(tmp_path), "nowcast.inputs": "pmi/headline,pmi/production,pmi/new_orders"})
    assert settings["nowcast.method"] == "bridge"
    compute_range(store, settings, pd.Period("2013-01", "M"), pd.Period("2019-12", "M"), vintage=dt.date(2020, 1, 5),
                  families=("survey",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no EM, no convergence warning
        report = nowcast_target(store, settings, pd.Period("2019-10", "M"))
    assert not report.failed and set(report.stored) == {CITY_CODE}, report.summary()
    rows = read_nowcasts(store, "2019-10")
    # the origin month only (its official figure is not yet published at the origin)
    assert list(rows["period"]) == ["2019-10"]
    row = rows.iloc[0]
    assert row["model"].startswith("bridge:") and all(p in SPECS for p in row["model"][7:].split("+"))
    assert row["lower_95"] <= row["lower_80"] < row["mean"] < row["upper_80"] <= row["upper_95"]
    news = json.loads(row["news"])
    assert news and all("impact" in n and n["series"] for n in news)
    # the official October figure, in the store already, is not used: changing it changes nothing
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE official_statistic SET value = value + 40 WHERE series = 'iva/yoy' "
                             "AND period >= '2019-10'")
    nowcast_target(store, settings, pd.Period("2019-10", "M"))
    assert read_nowcasts(store, "2019-10")["mean"].iloc[0] == pytest.approx(row["mean"])


# ------------------------------------------------------------------------- peers, Huber estimation, intervals
def test_a_peer_gap_never_reads_past_the_release_calendar():
    """The peer candidates' gap (peer growth minus target growth) is taken in the latest month known of both:
    the target's last published month, or earlier when the peer is released later; never the origin month."""
    months = pd.period_range("2010-01", "2019-06", freq="M")
    rng = np.random.default_rng(5)
    y = pd.Series(rng.normal(6, 1, len(months)), index=months)
    peer = pd.Series(rng.normal(5, 2, len(months)), index=months)
    t = len(months) - 1  # the origin, 2019-06: the target known to 2019-05
    published = y.iloc[:-1]
    # the peer known to 2019-05 (lag 1): the gap of 2019-05
    f = bridge_features(published, peer.iloc[:-1].to_frame("e"), months, {"e": 1}, None, peers=("e",))
    assert f.names["peer"] == ["gap:e"]
    assert f.groups["peer"][0][t] == pytest.approx(peer.iloc[-2] - y.iloc[-2])
    # the peer known only to 2019-04 (lag 2): the gap of 2019-04; what the peer would say for 2019-05 is not read
    f2 = bridge_features(published, peer.iloc[:-2].to_frame("e"), months, {"e": 2}, None, peers=("e",))
    assert f2.groups["peer"][0][t] == pytest.approx(peer.iloc[-3] - y.iloc[-3])
    # a March origin: the target's last month is December, January and February unpublished
    march = months.get_loc(pd.Period("2019-03", "M"))
    gappy = published.copy()
    gappy[gappy.index.month <= 2] = np.nan
    f3 = bridge_features(gappy.loc[:"2018-12"], peer.loc[:"2019-02"].to_frame("e"), months[: march + 1],
                         {"e": 1}, None, peers=("e",))
    assert f3.groups["peer"][0][march] == pytest.approx(peer["2018-12"] - y["2018-12"])
    # through select_nowcast: values after the origin change nothing, the peer's last released value does count
    origin = months[-1]
    x = pd.DataFrame({"e": peer.iloc[:-1]})
    first = select_nowcast(published, x, origin, peers=("e",), specs=("naive", "base", "peer_gap"))
    assert "peer_gap" in first.candidates
    future = pd.period_range(origin + 1, origin + 4, freq="M")
    later = select_nowcast(pd.concat([published, pd.Series(50.0, index=future)]),
                           pd.concat([x, pd.DataFrame({"e": 80.0}, index=future)]), origin, peers=("e",),
                           specs=("naive", "base", "peer_gap"))
    assert later.candidates == pytest.approx(first.candidates) and later.lo == pytest.approx(first.lo)
    moved = x.copy()
    moved.iloc[-1, 0] += 10
    assert select_nowcast(published, moved, origin, peers=("e",), specs=("naive", "base", "peer_gap")
                          ).candidates["peer_gap"] != pytest.approx(first.candidates["peer_gap"])
    # without peers the peer candidates are not run
    assert "peer_gap" not in select_nowcast(published, x, origin, specs=("naive", "base", "peer_gap")).candidates


def test_huber_estimation_keeps_outlying_months_at_a_small_weight():
    """A 2020-like collapse and rebound do not pull the slope, and no month is dropped."""
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, 120)
    y = 0.5 + 2.0 * x + rng.normal(0, 0.3, 120)
    y[[60, 61, 62]] = [-40.0, 35.0, -25.0]
    X = np.column_stack([np.ones(120), x])
    beta, weights = huber_fit(X, y)
    ols, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert abs(beta[1] - 2.0) < 0.1 and abs(beta[0] - 0.5) < 0.1
    assert abs(ols[1] - 2.0) > abs(beta[1] - 2.0)
    assert (weights[[60, 61, 62]] < 0.05).all() and (weights[[60, 61, 62]] > 0).all()
    assert np.median(weights) == 1.0


def test_the_conformal_quantile_has_the_finite_sample_rank():
    """The ceil((n + 1) level)-th smallest score; the largest when the level asks for more scores than there
    are; none below the minimum sample."""
    scores = np.arange(1.0, 11.0)[::-1]  # 10 scores, unsorted
    assert conformal_quantile(scores, 80) == 9.0  # ceil(11 x 0.8) = 9, not the plain 80 % quantile (8.2)
    assert conformal_quantile(scores, 50) == 6.0  # ceil(5.5) = 6
    assert conformal_quantile(scores, 95) == 10.0  # ceil(10.45) = 11 > 10: the largest
    assert conformal_quantile(np.arange(1.0, 20.0), 95) == 19.0  # n = 19: ceil(19) = 19
    assert conformal_quantile(np.arange(1.0, 10.0), 80) is None  # 9 < the minimum of 10
    assert conformal_quantile(np.r_[np.arange(1.0, 11.0), np.nan], 80) == 9.0  # a missing score is not counted
    # exchangeable scores: the share of new draws at or below the quantile is at least the level on average
    rng = np.random.default_rng(2)
    hits = [rng.exponential() <= conformal_quantile(rng.exponential(size=12), 80) for _ in range(4000)]
    assert 0.79 <= np.mean(hits) <= 0.88


def test_the_interval_scales_with_the_recent_volatility():
    """The interval is the conformal quantile of past errors over the volatility known at their origin, times the
    volatility now: a target whose last year moved four times as much gets an interval four times as wide."""
    y = np.array([5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, np.nan], float)
    last = np.r_[-1, np.arange(12), 12]
    assert recent_scale(y, last, 13) == pytest.approx(1.0)  # 12 changes of 1
    gappy = y.copy()
    gappy[[1, 2, 3, 4, 5, 6, 7]] = np.nan
    assert np.isnan(recent_scale(gappy, last, 13))  # 4 changes < 6
    months = pd.period_range("2008-01", "2019-06", freq="M")
    rng = np.random.default_rng(8)
    calm = pd.Series(6 + rng.normal(0, 0.5, len(months)), index=months)
    wild = calm.copy()
    wild.loc["2018-06":] = 6 + 4 * (calm.loc["2018-06":] - 6)
    a = select_nowcast(calm.iloc[:-1], None, months[-1], specs=("naive", "base"))
    b = select_nowcast(wild.iloc[:-1], None, months[-1], specs=("naive", "base"))
    width_a, width_b = a.hi[80.0] - a.lo[80.0], b.hi[80.0] - b.lo[80.0]
    assert width_b > 2.5 * width_a
