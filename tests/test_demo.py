"""The demo panel generator: deterministic, and realistic where later stages depend on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collectors.uscc import is_valid_uscc
from monitor.calendar import spring_festival_dates
from monitor.demo.cycle import headline_from_components, national_indices
from monitor.demo.generator import generate_demo
from monitor.demo.survey import festival_share, raw_truth
from monitor.exceptions import DemoError
from monitor.indicators import composite_pmi, diffusion_indices
from monitor.reference import QUESTIONS


def _di(responses: pd.DataFrame) -> pd.DataFrame:
    """Unweighted diffusion index per month and question (the NBS count formula)."""
    g = responses.assign(p=responses["answer"].eq(1), e=responses["answer"].eq(0))
    g = g.groupby(["period", "question"])[["p", "e"]].mean()
    di = (100 * (g["p"] + 0.5 * g["e"])).unstack()
    di.index = pd.PeriodIndex(di.index, freq="M")
    return di


def test_same_seed_same_panel_other_seed_other_panel():
    kw = dict(enterprises=40, start=pd.Period("2019-01", "M"), end=pd.Period("2020-03", "M"))
    a, b, c = generate_demo(seed=3, **kw), generate_demo(seed=3, **kw), generate_demo(seed=4, **kw)
    for name in ("enterprises", "responses", "history", "problems", "electricity", "monthly", "official", "targets"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    pd.testing.assert_frame_equal(a.cycle, b.cycle)
    assert not a.responses["answer"].equals(c.responses["answer"])


def test_calibration_data_reproduce_the_published_headline():
    nat = national_indices()
    gap = (headline_from_components(nat) - nat["headline"]).abs()
    assert gap.max() <= 0.07 + 1e-9 and (gap <= 0.05 + 1e-9).mean() > 0.99  # METHODOLOGY 1.5, the golden check on real data


def test_full_size_panel_covers_the_issue_minimum(full_demo):
    ent, resp = full_demo.enterprises, full_demo.responses
    assert len(ent) >= 1200
    assert resp["period"].nunique() >= 168
    assert ent["uscc"].map(is_valid_uscc).all() and ent["uscc"].is_unique
    active = [((ent["panel_start"] <= p) & (ent["panel_end"].fillna("9999") >= p)).sum()
              for p in resp["period"].unique()]
    assert min(active) >= 0.95 * 1200 and max(active) == 1200
    assert len(ent) > 1.5 * 1200  # rotation: replacements joined over 15 years


def test_panel_proportions_look_like_guangzhou(full_demo):
    ent = full_demo.enterprises
    by_div = ent["industry_code"].value_counts()
    assert set(by_div.index[:2]) == {"36", "39"}  # autos and electronics lead
    by_dist = ent["district_code"].value_counts()
    assert by_dist.index[0] == "440112" and by_dist["440104"] < by_dist["440114"]
    large = ent[ent["size_class"] == "large"]
    assert large["industry_code"].isin(["36", "39"]).mean() > ent["industry_code"].isin(["36", "39"]).mean()
    weights = ent.groupby("size_class")["sample_weight"].median()
    assert weights["micro"] > weights["small"] > weights["medium"] >= weights["large"] == 1.0


def test_panel_is_drawn_pps_by_revenue_within_divisions_with_sizes_by_value_added(full_demo):
    """METHODOLOGY 1.3 / 7.2: pi_i = n_h x_i / X_h, so x_i / pi_i is one number per stratum (bar certainty
    firms), and n_h follows the stratum's value added: the count formula is self-weighting for size."""
    ent = full_demo.enterprises
    month = "2016-06"
    now = ent[(ent["panel_start"] <= month) & (ent["panel_end"].fillna("9999") >= month)]
    assert len(now) == 1200
    sampled = now[now["sample_weight"] > 1.0]
    per_stratum = (sampled["sample_weight"] * sampled["revenue"]).groupby(sampled["industry_code"])
    spread = per_stratum.max() / per_stratum.min()
    assert spread.max() < 1.01, spread.sort_values().tail()  # x / pi constant within a division
    # Certainty firms: every one is at least as large as its stratum's threshold X_h / n_h.
    certain = now[now["sample_weight"] == 1.0]
    threshold = per_stratum.first().reindex(certain["industry_code"]).to_numpy()
    assert (certain["revenue"].to_numpy() >= 0.99 * threshold[~np.isnan(threshold)].min()).all()
    assert 0.1 < len(certain) / len(now) < 0.5
    # Rotation: about 8 % of the sample leaves each January (certainty firms stay).
    for year in (2015, 2020):
        dec, jan = f"{year - 1}-12", f"{year}-01"
        before = set(ent.loc[(ent["panel_start"] <= dec) & (ent["panel_end"].fillna("9999") >= dec), "id"])
        after = set(ent.loc[(ent["panel_start"] <= jan) & (ent["panel_end"].fillna("9999") >= jan), "id"])
        assert 0.02 < len(before - after) / len(before) < 0.12


def test_count_formula_tracks_the_truth_at_least_as_well_as_any_weighting(full_demo):
    """The default estimator (NBS count formula) against the demo's latent truth (its raw, seasonal form)."""
    truth = raw_truth(full_demo.cycle, festival_share(full_demo.cycle.index, spring_festival_dates()))
    rmse = {}
    for weighting in ("unweighted", "size", "design"):
        di = diffusion_indices(full_demo.responses, full_demo.enterprises, breakdowns=("city",), weighting=weighting)
        head = composite_pmi(di).set_index("period")["di"]
        head.index = pd.PeriodIndex(head.index, freq="M")
        rmse[weighting] = float(np.sqrt(((head - truth["headline"]) ** 2).mean()))
    assert rmse["unweighted"] <= min(rmse["size"], rmse["design"]), rmse
    assert rmse["unweighted"] < 1.5, rmse
    assert rmse["design"] > 1.5 * rmse["unweighted"], rmse  # a share of firms misses the size-weighted truth


def test_headline_diffusion_index_tracks_the_latent_cycle(full_demo):
    di = _di(full_demo.responses)
    head = headline_from_components(di)
    truth = full_demo.cycle["headline"]
    # Remove raw seasonality the way an analyst would: month dummies and the festival-share change.
    share = festival_share(di.index, spring_festival_dates())
    x = np.column_stack([pd.get_dummies(di.index.month).to_numpy(float), share - np.r_[share[0], share[:-1]]])
    beta, *_ = np.linalg.lstsq(x, head.to_numpy(), rcond=None)
    adjusted = head.to_numpy() - x @ beta
    assert np.corrcoef(adjusted, truth)[0, 1] > 0.9
    assert np.corrcoef(head, truth)[0, 1] > 0.6  # raw, seasonality and all


def test_raw_answers_show_the_moving_spring_festival_dip(full_demo):
    prod = _di(full_demo.responses)["production"]
    share = pd.Series(festival_share(prod.index, spring_festival_dates()), index=prod.index)
    arrival = share.diff()  # how much of the festival window a month adds: where the dip falls
    dips = {1: 0, 2: 0}
    for year in range(2013, 2027):
        if year == 2020:
            continue  # February 2020 is the COVID-19 shutdown, not the festival
        jan, feb, mar = (pd.Period(f"{year}-{m:02d}", "M") for m in (1, 2, 3))
        dip = jan if arrival[jan] > arrival[feb] else feb
        assert prod[dip] < 50 and prod[mar] - prod[dip] > 10, (year, prod[jan], prod[feb], prod[mar])
        if abs(arrival[jan] - arrival[feb]) > 0.2:  # where the festival straddles the two months, it is a toss-up
            assert prod[dip] == min(prod[jan], prod[feb]), year
        dips[dip.month] += 1
    assert dips[1] >= 3 and dips[2] >= 3  # the dip moves between January and February with the festival
    typical = prod[(prod.index.month >= 4) & (prod.index.month <= 12)].mean()
    assert prod[prod.index.month == 2].mean() < typical - 5


def test_non_response_late_and_corrected_submissions(full_demo):
    ent, resp = full_demo.enterprises, full_demo.responses
    returned = resp.groupby("period")["enterprise_id"].nunique()
    sample = pd.Series({p: ((ent["panel_start"] <= p) & (ent["panel_end"].fillna("9999") >= p)).sum()
                        for p in returned.index})
    rate = returned / sample
    assert 0.90 <= rate.median() <= 0.95 and rate.min() > 0.6
    first = resp.groupby(["period", "enterprise_id"])["submitted_at"].min().reset_index()
    deadline = pd.PeriodIndex(first["period"], freq="M").start_time + pd.Timedelta(days=25)
    late = (first["submitted_at"] >= deadline).mean()
    assert 0.02 < late < 0.15
    hist = full_demo.history
    assert 0.0005 < len(hist) / len(resp) < 0.01
    merged = hist.merge(resp, on=["enterprise_id", "period", "question"], suffixes=("_old", ""))
    assert (merged["revision"] == 2).all() and (merged["answer_old"] != merged["answer"]).all()
    assert (merged["submitted_at"] > merged["submitted_at_old"]).all()
    assert set(resp["question"]) == {q.code for q in QUESTIONS}


def test_stopped_enterprises_draw_under_ten_percent_of_their_baseline(full_demo):
    elec, monthly = full_demo.electricity, full_demo.monthly
    per_month = elec.assign(period=elec["day"].dt.to_period("M").astype(str)).groupby(
        ["enterprise_id", "period"])["kwh"].mean().rename("daily").reset_index()
    per_month = per_month.merge(monthly[["enterprise_id", "period", "production_status"]], how="inner")
    per_month = per_month.sort_values(["enterprise_id", "period"])
    normal = per_month["daily"].where(per_month["production_status"] == "normal")
    per_month["baseline"] = normal.groupby(per_month["enterprise_id"]).transform(
        lambda s: s.shift(1).rolling(12, min_periods=3).median()).groupby(per_month["enterprise_id"]).ffill()
    stopped = per_month[(per_month["production_status"] == "stopped") & per_month["baseline"].notna()]
    assert len(stopped) > 100
    assert (stopped["daily"] < 0.10 * stopped["baseline"]).all()
    semi = per_month[(per_month["production_status"] == "semi_stopped") & per_month["baseline"].notna()]
    ratio = semi["daily"] / semi["baseline"]
    assert ratio.median() < 0.6 and (ratio > 0.1).mean() > 0.95


def test_electricity_follows_the_calendar(full_demo):
    elec = full_demo.electricity
    by_day = elec.groupby("day")["kwh"].sum()
    weekday = by_day[by_day.index.day_of_week < 5]["2019-03":"2019-06"].median()
    sunday = by_day[by_day.index.day_of_week == 6]["2019-03":"2019-06"].median()
    festival = by_day["2019-02-05":"2019-02-10"].mean()  # Spring Festival 2019-02-05
    assert sunday < 0.8 * weekday
    assert festival < 0.6 * weekday


def test_official_statistics_and_targets(full_demo):
    off, targets = full_demo.official, full_demo.targets
    city = off[(off["region"] == "440100") & (off["series"] == "iva/ytd_yoy")]
    assert not city["period"].str.endswith("-01").any()  # January alone is never published
    assert city["value"].between(-40, 60).all()
    assert off.loc[off["series"] == "iva/yoy", "period"].str[5:].astype(int).min() == 3
    plan = targets[(targets["year"] == 2017) & (targets["region"] == "440100")].set_index("indicator")
    assert plan.loc["iva/ytd_yoy", "value"] == 6.5 and plan.loc["investment/tech_transformation/ytd_yoy", "value"] == 20
    assert plan.loc["energy_intensity/change", "comparison"] == "<="
    assert targets["region"].nunique() == 12


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(start=pd.Period("2004-01", "M")), "no earlier than 2005-01"),
    (dict(enterprises=5), "at least 20"),
    (dict(end=pd.Period("2019-06", "M")), "at least 13 months"),
])
def test_impossible_builds_are_refused(kwargs, message):
    args = dict(seed=1, enterprises=40, start=pd.Period("2019-01", "M"), end=pd.Period("2020-06", "M"))
    args.update(kwargs)
    with pytest.raises(DemoError, match=message):
        generate_demo(**args)


def test_monthly_reports_are_a_plausible_part_of_the_city_guangzhou_2016(full_demo):
    """Issue 13: the sample's output exceeded the whole city's and raw-material cost was 2.8 x output. Anchor:
    Guangzhou 2016, output above designated size 19,556 亿元, value added 4,878 亿元, both +6.5 %."""
    monthly = full_demo.monthly.assign(year=full_demo.monthly["period"].str[:4])
    year = monthly.groupby("year")[["output_value", "raw_material_cost", "labour_cost", "energy_cost",
                                    "other_cost", "electricity_kwh"]].sum()
    official = full_demo.official.set_index(["series", "region", "period"])["value"]
    city_output = official[("output/ytd", "440100", "2016-12")]
    city_va = official[("iva/ytd", "440100", "2016-12")]
    assert 0.9 * 19_556 < city_output < 1.1 * 19_556 and 0.85 * 4_878 < city_va < 1.15 * 4_878
    share = year.loc["2016", "output_value"] / 1e4 / city_output  # 10k yuan -> 亿元
    assert 0.5 < share < 0.95, share  # the monitored key enterprises: most, never more than all, of the city
    assert 3.5 < official[("iva/ytd_yoy", "440100", "2016-12")] < 9.5
    costs = year[["raw_material_cost", "labour_cost", "energy_cost", "other_cost"]].sum(axis=1)
    assert (costs / year["output_value"]).between(0.6, 0.95).all(), costs / year["output_value"]
    assert (year["raw_material_cost"] / year["output_value"]).max() < 0.75
    kwh_per_10k = year["electricity_kwh"] / year["output_value"]
    assert kwh_per_10k.between(100, 400).all(), kwh_per_10k  # Guangzhou's industry: about 200 kWh / 10,000 yuan
