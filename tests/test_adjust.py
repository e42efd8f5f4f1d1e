"""Seasonal adjustment of the stored series: policy, sa vintages, diagnostics rows, failures, the annual review."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from monitor.adjust import adjust_series, adjustment_policy
from monitor.adjust_review import review_year
from monitor.compute import compute_range
from monitor.demo.generator import generate_demo
from monitor.demo.load import load_demo
from monitor.exceptions import ConfigError
from monitor.results import read_series, write_series
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

COMPONENTS = ["pmi/new_orders", "pmi/production", "pmi/employment", "pmi/supplier_delivery_time",
              "pmi/raw_materials_inventory"]


@pytest.fixture
def settings(tmp_path):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path)})


def _adjustments(store: Store) -> pd.DataFrame:
    return store.read_frame(select(m.SeriesAdjustment.__table__)).set_index("series_key")


def _synthetic(start: str, months: int, *, seed: int, level: float = 50.0) -> pd.DataFrame:
    """A diffusion index with a fixed seasonal pattern, a slow cycle and noise."""
    idx = pd.period_range(start, periods=months, freq="M")
    rng = np.random.default_rng(seed)
    seasonal = np.array([-1.5, -4.0, 4.5, 1.0, 0.5, -0.5, -1.0, -0.5, 1.5, -0.5, 0.5, 0.0])[idx.month - 1]
    cycle = 2.0 * np.sin(np.arange(months) / 9.0)
    values = level + cycle + seasonal + rng.normal(0, 0.4, months)
    return pd.DataFrame({"period": idx.astype(str), "raw": values})


def _put(store: Store, key: str, frame: pd.DataFrame, vintage: dt.date = dt.date(2019, 1, 31)) -> None:
    with store.begin() as conn:
        write_series(conn, frame.assign(series_key=key), vintage=vintage, columns=("raw",))


def test_policy_follows_methodology_section_8():
    assert adjustment_policy("pmi/new_orders").treatment == "logit-additive"
    assert adjustment_policy("pmi/employment/key_sector/autos").treatment == "logit-additive"
    assert adjustment_policy("pmi/new_orders/industry/36").treatment is None  # too few respondents
    assert adjustment_policy("pmi/headline").treatment == "rebuilt"
    assert adjustment_policy("pmi/headline/district/440106").treatment == "rebuilt"
    assert adjustment_policy("pmi/headline/industry/36").treatment is None
    assert adjustment_policy("pmi/new_orders/district+size/440106.large").treatment is None
    assert adjustment_policy("pmi/headline/district+size/440106.large").treatment is None
    assert adjustment_policy("electricity/total/district/440106").treatment == "log-additive"
    for key in ("electricity/yoy/city", "costs/total_yoy/city", "balance/new_orders", "pmi_change/production",
                "response_rate", "problems/tight_funding", "lamps/composite", "demo/truth/pmi/headline"):
        assert adjustment_policy(key).treatment is None, key


def test_model_setting_is_checked(store, settings):
    bad = settings.with_overrides(adjust__model="airline")
    with pytest.raises(ConfigError, match=r"adjust.model.*'airline'.*\(0 1 1\)\(0 1 1\)"):
        adjust_series(store, bad)


@pytest.mark.x13
def test_model_search_setting_identifies_each_series_model(store, settings):
    """adjust.model = search: the model identified in Python, X-13 run with it fixed, both recorded."""
    _put(store, "pmi/new_orders", _synthetic("2012-01", 84, seed=1))
    _put(store, "pmi/production", _synthetic("2012-01", 84, seed=6))
    report = adjust_series(store, settings.with_overrides(adjust__model="search"), vintage=dt.date(2019, 2, 1),
                           processes=1)
    assert {"pmi/new_orders", "pmi/production"} <= set(report.adjusted)
    rows = _adjustments(store)
    for key in ("pmi/new_orders", "pmi/production"):
        row = rows.loc[key]
        assert row["status"] == "ok" and row["model"].startswith("("), row["model"]
        assert "model identified in Python" in row["notes"]
        assert f"model = {row['model']}" in row["spec"] and "automdl" not in row["spec"]


@pytest.mark.x13
def test_failures_are_isolated_and_recorded(store, settings):
    """Both back-ends: a good series, a log-adjusted level of zeros (fails), a short one (skipped)."""
    _put(store, "pmi/new_orders", _synthetic("2012-01", 84, seed=1))
    _put(store, "electricity/total/district/440106", _synthetic("2012-01", 84, seed=2).assign(raw=0.0))
    _put(store, "pmi/production/district/440106", _synthetic("2017-01", 24, seed=3))
    _put(store, "electricity/yoy/city", _synthetic("2012-01", 84, seed=4))
    _put(store, "pmi/headline", _synthetic("2012-01", 84, seed=5))
    report = adjust_series(store, settings, vintage=dt.date(2019, 2, 1), processes=2)
    assert set(report.adjusted) == {"pmi/new_orders"}
    assert "electricity/total/district/440106" in report.failed
    assert "positive" in report.failed["electricity/total/district/440106"]
    assert "36 monthly observations" in report.skipped["pmi/production/district/440106"]
    assert "pmi/headline" in report.failed and "pmi/employment" in report.failed["pmi/headline"]
    assert "electricity/yoy/city" in report.not_adjusted
    rows = _adjustments(store)
    assert rows.loc["pmi/new_orders", "status"] == "ok"
    assert rows.loc["pmi/new_orders", "model"] == "(0 1 1)(0 1 1)"
    assert rows.loc["electricity/total/district/440106", "status"] == "failed"
    assert rows.loc["pmi/production/district/440106", "status"] == "skipped"
    good = read_series(store, "pmi/new_orders")
    assert good["sa"].notna().all()
    # the seasonal pattern is gone: the adjusted February/March jump is far smaller than the raw one
    raw_jump = (good["raw"].diff()[good.index.month == 3]).mean()
    sa_jump = (good["sa"].diff()[good.index.month == 3]).mean()
    assert raw_jump > 6 and abs(sa_jump) < 2
    assert read_series(store, "electricity/yoy/city")["sa"].isna().all()
    again = adjust_series(store, settings, vintage=dt.date(2019, 2, 2))
    assert again.written == 0 and not again.adjusted and "pmi/new_orders" in again.unchanged
    assert len(_adjustments(store)) == len(rows)


@pytest.fixture(scope="module")
def demo_store_file(tmp_path_factory):
    """A demo city of 300 enterprises, 2014-01..2020-12, survey indices computed (SQLite file, built once)."""
    path = tmp_path_factory.mktemp("adjust") / "demo.sqlite"
    store = Store.open(f"sqlite:///{path}")
    load_demo(store, generate_demo(seed=5, enterprises=300, start=pd.Period("2014-01", "M"),
                                   end=pd.Period("2020-12", "M")))
    settings = load_settings(environ={}, overrides={"data_dir": str(path.parent)})
    report = compute_range(store, settings, pd.Period("2014-01", "M"), pd.Period("2020-12", "M"),
                           vintage=dt.date(2021, 1, 31), families=("survey",))
    assert not report.failed
    store.close()
    return path


@pytest.fixture
def demo_store(demo_store_file, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_store_file, path)
    store = Store.open(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.mark.x13
def test_adjusted_city_pmi_tracks_the_latent_cycle(demo_store, settings):
    districts = [f"pmi/{q.split('/')[1]}/district/440106" for q in COMPONENTS]
    report = adjust_series(demo_store, settings, pattern=[*COMPONENTS, *districts], vintage=dt.date(2021, 2, 1))
    assert report.ok and set(report.adjusted) == {*COMPONENTS, *districts}
    assert set(report.rebuilt) == {"pmi/headline", "pmi/headline/district/440106"}
    truth = read_series(demo_store, "demo/truth/pmi/headline")["sa"]
    head = read_series(demo_store, "pmi/headline")
    assert head["sa"].notna().all() and len(head) == 84
    gain = head["sa"].corr(truth) - head["raw"].corr(truth)
    assert gain > 0.03, f"correlation with the latent cycle: raw {head['raw'].corr(truth):.3f}, sa gain {gain:.3f}"
    # the February 2020 collapse stays in the adjusted series (a fixed outlier, not a seasonal effect)
    assert head.loc["2020-02", "sa"] < head.loc["2019-11", "sa"] - 10
    # the headline is the weighted sum of the adjusted components
    comp = {k: read_series(demo_store, k)["sa"] for k in COMPONENTS}
    rebuilt = (0.30 * comp["pmi/new_orders"] + 0.25 * comp["pmi/production"] + 0.20 * comp["pmi/employment"]
               + 0.15 * (100 - comp["pmi/supplier_delivery_time"]) + 0.10 * comp["pmi/raw_materials_inventory"])
    np.testing.assert_allclose(head["sa"].to_numpy(), rebuilt.to_numpy(), rtol=1e-9)
    rows = _adjustments(demo_store)
    assert (rows.loc[COMPONENTS, "method_used"] == "x13-x11").all()
    assert rows.loc[COMPONENTS, "festival_t"].notna().all() and rows.loc[COMPONENTS, "working_day_t"].notna().all()
    assert rows.loc[COMPONENTS, "light"].isin(["green", "amber", "red"]).all()
    assert (rows.loc[COMPONENTS, "n_outliers"] >= 1).all()  # at least the fixed February 2020 outlier
    assert "ao2020.feb" in rows.loc["pmi/new_orders", "spec"]
    assert rows.loc["pmi/headline", "method_used"] == "indirect" and rows.loc["pmi/headline", "qs_p"] >= 0
    # re-running with the same data writes no new vintage of sa and no new diagnostics row
    again = adjust_series(demo_store, settings, pattern=[*COMPONENTS, *districts], vintage=dt.date(2021, 2, 2))
    assert again.written == 0 and not again.adjusted and not again.rebuilt
    assert demo_store.count(m.SeriesAdjustment) == len(rows)
    assert read_series(demo_store, "pmi/headline")["vintage"].max() == dt.datetime(2021, 2, 1)


@pytest.mark.x13
def test_annual_review_projects_factors_and_reports_revisions(store, settings):
    """Both back-ends: review 2019 with data to 2018-12; project; the monthly run uses the stored factors."""
    frame = _synthetic("2012-01", 96, seed=7)  # 2012-01..2019-12
    _put(store, "pmi/new_orders", frame.iloc[:84])  # known to 2018-12
    adjust_series(store, settings, vintage=dt.date(2019, 1, 31))
    _put(store, "pmi/new_orders", frame, vintage=dt.date(2019, 3, 1))  # 2019 arrives
    review = review_year(store, settings, 2019, vintage=dt.date(2019, 3, 2))
    assert review.report.ok and set(review.report.adjusted) == {"pmi/new_orders"}
    rev = review.revisions
    assert list(rev.columns) == ["series", "period", "old_sa", "new_sa", "revision", "unit", "relative"]
    assert (rev["unit"] == "points").all()
    assert rev["period"].min() == pd.Period("2012-01", "M") and rev["period"].max() == pd.Period("2019-12", "M")
    assert rev.loc[rev["period"] <= pd.Period("2018-12", "M"), "old_sa"].notna().all()
    assert rev.loc[rev["period"] > pd.Period("2018-12", "M"), "old_sa"].isna().all()  # never adjusted before
    rows = _adjustments(store)
    row = rows[rows["kind"] == "review"].loc["pmi/new_orders"]
    assert row["vintage"] == dt.datetime(2019, 3, 2) and row["last_period"] == "2018-12"
    factors = pd.Series(json.loads(row["factors"]))
    assert list(factors.index) == [str(p) for p in pd.period_range("2019-01", "2019-12", freq="M")]
    # factors on the logit scale (diffusion indices are adjusted there): March high, February low
    assert factors["2019-03"] > 2 and factors["2019-02"] < -2
    stored = read_series(store, "pmi/new_orders")
    raw = stored.loc["2019-01":, "raw"].to_numpy()
    logit = 25 * np.log(raw / (100 - raw))
    np.testing.assert_allclose(stored.loc["2019-01":, "sa"], 100 / (1 + np.exp(-(logit - factors.to_numpy()) / 25)))
    # the projected policy publishes raw - factor without re-estimating; no factors after 2019 yet
    _put(store, "pmi/new_orders", pd.concat([frame, _synthetic("2020-01", 1, seed=8)]), vintage=dt.date(2020, 2, 1))
    projected = adjust_series(store, settings.with_overrides(adjust__policy="projected"), vintage=dt.date(2020, 2, 2))
    assert projected.kind == "projected" and projected.ok and projected.written == 0
    assert "2020-01" in projected.notes["pmi/new_orders"]
    assert np.isnan(read_series(store, "pmi/new_orders").loc["2020-01", "sa"])
    dry = review_year(store, settings, 2020, write=False)
    assert dry.revisions["period"].max() == pd.Period("2020-01", "M")
    assert np.isnan(read_series(store, "pmi/new_orders").loc["2020-01", "sa"])  # nothing written


@pytest.mark.x13
def test_adjusted_diffusion_indices_never_leave_0_to_100(store, settings):
    """A small district's index near the floor with a strong seasonal swing: additively adjusted it went below
    0 (-13.3 on the demo); on the logit scale it stays inside the bounds."""
    idx = pd.period_range("2014-01", periods=84, freq="M")
    level = np.linspace(30, 2, 84)  # a small district sliding towards the floor; seasonality on the logit scale
    season = np.array([-0.4, -1.0, 1.0, 0.3, 0.1, -0.1, -0.2, -0.1, 0.4, -0.1, 0.1, 0.0])[idx.month - 1]
    logit = np.log(level / (100 - level)) + season + np.random.default_rng(3).normal(0, 0.05, 84)
    frame = pd.DataFrame({"period": idx.astype(str), "raw": 100 / (1 + np.exp(-logit))})  # additively: min -1.6
    _put(store, "pmi/new_orders/district/440104", frame)
    high = _synthetic("2014-01", 84, seed=4, level=94.0)
    _put(store, "pmi/input_prices/district/440104", high.assign(raw=high["raw"].clip(0.5, 99.5)))
    report = adjust_series(store, settings, vintage=dt.date(2021, 2, 1))
    assert report.ok, report.failed
    for key in ("pmi/new_orders/district/440104", "pmi/input_prices/district/440104"):
        sa = read_series(store, key)["sa"]
        assert len(sa) == 84 and sa.notna().all() and ((sa > 0) & (sa < 100)).all(), (key, sa.min(), sa.max())
    rows = _adjustments(store)
    assert (rows.loc[rows.index.str.startswith("pmi/"), "mode"] == "logit-additive").all(), rows[["mode"]]


@pytest.mark.x13
def test_annual_review_rebuilds_headlines_and_reports_revisions_per_unit(store, settings):
    """`imon adjust --review` on a fresh store: every headline rebuild failed with "no adjusted values
    stored" right after its components were adjusted, and the summary averaged kWh with index points."""
    for i, key in enumerate(COMPONENTS):
        _put(store, key, _synthetic("2004-01", 192, seed=20 + i))
    head = _synthetic("2004-01", 192, seed=40)
    _put(store, "pmi/headline", head)
    idx = pd.period_range("2004-01", periods=192, freq="M")
    kwh = 1e9 * np.exp(0.003 * np.arange(192) + 0.1 * np.sin(2 * np.pi * (idx.month - 1) / 12)
                       + np.random.default_rng(9).normal(0, 0.02, 192))
    _put(store, "electricity/total/city", pd.DataFrame({"period": idx.astype(str), "raw": kwh}))
    adjust_series(store, settings, vintage=dt.date(2019, 1, 31))
    review = review_year(store, settings, 2019, vintage=dt.date(2019, 3, 2))
    assert review.report.ok, review.report.failed
    assert set(review.report.rebuilt) == {"pmi/headline"}
    rev = review.revisions
    assert set(rev.loc[rev["series"] == "electricity/total/city", "unit"]) == {"percent"}
    assert set(rev.loc[rev["series"].str.startswith("pmi/"), "unit"]) == {"points"}
    by_unit = review.revisions_by_unit().set_index("unit")
    assert set(by_unit.index) == {"points", "percent"}
    assert by_unit.loc["percent", "max_abs"] < 20  # percent of a level of ~1e9 kWh, not kWh
    lines = review.summary_lines()
    assert any(line.startswith("revisions in points") for line in lines)
    assert any(line.startswith("revisions in % of the level") for line in lines)
    # fifteen years of data: the review ran the sliding spans and reads them back (0 % when nothing is flagged,
    # which the reader missed: X-13 then writes only the breakdown lines)
    spans = review.sliding_spans.set_index("series")
    assert set(spans.index) >= set(COMPONENTS) and spans["a_pct"].notna().all()
    assert any(line.startswith("sliding spans:") for line in lines)
