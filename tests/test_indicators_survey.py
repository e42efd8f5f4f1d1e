"""Survey indices: weights, non-response, diffusion indices, composite PMI, standard errors, series keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.calendar import spring_festival_dates
from monitor.demo.generator import generate_demo
from monitor.demo.survey import festival_share
from monitor.indicators import (
    SurveyDataError,
    composite_pmi,
    diffusion_indices,
    problem_shares,
    respondent_weights,
    sample_weights,
    series_rows,
)
from monitor.reference import HEADLINE_WEIGHTS, QUESTIONS

#: Headline weights with the sign they take in the linearisation (supplier delivery time is inverted).
A_K = {q.code: (-q.headline_weight if q.inverted else q.headline_weight) for q in QUESTIONS if q.headline_weight}


# --------------------------------------------------------------------------------------------- golden vectors
#: METHODOLOGY 1.5: NBS seasonally adjusted components and the published headline.
NBS_MONTHS = [
    # month,     P,    NO,   RMI,  EMP,  SDT, published
    ("2016-02", 50.2, 48.6, 48.0, 47.6, 49.8, 49.0),
    ("2016-08", 52.6, 51.3, 47.6, 48.4, 50.6, 50.4),
    ("2017-02", 53.7, 53.0, 48.6, 49.7, 50.5, 51.6),
    ("2017-09", 54.7, 54.8, 48.9, 49.0, 49.3, 52.4),
    ("2018-05", 54.1, 53.8, 49.6, 49.1, 50.1, 51.9),
    ("2025-03", 52.6, 51.8, 47.2, 48.2, 50.3, 50.5),
]


def test_composite_reproduces_the_six_published_nbs_months():
    codes = ["production", "new_orders", "raw_materials_inventory", "employment", "supplier_delivery_time"]
    rows = [{"period": pd.Period(month, "M"), "question": code, "di": value, "basis": "sa"}
            for month, *values, _ in NBS_MONTHS for code, value in zip(codes, values, strict=True)]
    out = composite_pmi(pd.DataFrame(rows)).set_index("period")
    published = pd.Series({pd.Period(m, "M"): pub for m, *_, pub in NBS_MONTHS})
    gap = (out["di"] - published).abs()
    assert gap.max() <= 0.05 + 1e-9, gap
    assert (out["basis"] == "sa").all() and out["se"].isna().all()  # published components carry no microdata
    assert out.loc[pd.Period("2017-09", "M"), "di"] == pytest.approx(52.41, abs=1e-9)


def test_composite_refuses_mixed_bases_and_flags_missing_components():
    base = [{"period": pd.Period("2017-01", "M"), "question": q, "di": 50.0, "basis": "raw"} for q in HEADLINE_WEIGHTS]
    mixed = pd.DataFrame(base[:-1] + [dict(base[-1], basis="sa")])
    with pytest.raises(SurveyDataError, match="share one basis"):
        composite_pmi(mixed)
    assert np.isnan(composite_pmi(pd.DataFrame(base[:-1]))["di"].iloc[0])
    assert composite_pmi(pd.DataFrame(base))["di"].iloc[0] == pytest.approx(50.0)


# --------------------------------------------------------------------------------------------- a panel by hand
def hand_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eight firms of division 36 in two districts and two sizes, one month (2017-01).

    ==  ========  =====  ======  =======  ==========  ==========
    id  district  size   weight  revenue  production  new_orders
    ==  ========  =====  ======  =======  ==========  ==========
    1   440103    large  1       100      +1          +1
    2   440103    large  1       300       0          +1
    3   440106    large  1       200      -1           0
    4   440106    large  1       400      (did not respond)
    5   440103    small  4        10      +1          -1
    6   440103    small  4        30      +1           0
    7   440106    small  4        20       0          +1
    8   440106    small  4        40      -1          (skipped)
    ==  ========  =====  ======  =======  ==========  ==========
    """
    ent = pd.DataFrame({
        "id": range(1, 9),
        "district_code": ["440103", "440103", "440106", "440106"] * 2,
        "industry_code": "36",
        "size_class": ["large"] * 4 + ["small"] * 4,
        "sample_weight": [1.0] * 4 + [4.0] * 4,
        "revenue": [100.0, 300.0, 200.0, 400.0, 10.0, 30.0, 20.0, 40.0],
        "panel_start": "2016-01",
        "panel_end": None,
    })
    answers = {"production": {1: 1, 2: 0, 3: -1, 5: 1, 6: 1, 7: 0, 8: -1},
               "new_orders": {1: 1, 2: 1, 3: 0, 5: -1, 6: 0, 7: 1}}
    resp = pd.DataFrame([{"enterprise_id": i, "period": "2017-01", "question": q, "answer": a}
                         for q, by_firm in answers.items() for i, a in by_firm.items()])
    return ent, resp


def _row(frame: pd.DataFrame, question: str, breakdown: str, code: str) -> pd.Series:
    sel = frame[(frame["question"] == question) & (frame["breakdown"] == breakdown) & (frame["code"] == code)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_hand_panel_design_weights_with_cell_reweighting():
    ent, resp = hand_panel()
    di = diffusion_indices(resp, ent, weighting="design")
    # Cells (division x size): large weights 1 x 4 firms = 4, small 4 x 4 = 16.
    # Production: 3 of 4 large firms answered -> each carries 4/3; all small firms answered -> 4 each; W = 20.
    #   P = (4/3 [1] + 4 [5] + 4 [6]) / 20 = 28/60, E = (4/3 [2] + 4 [7]) / 20 = 16/60, N = (4/3 [3] + 4 [8]) / 20
    #   DI = 100 (28/60 + 8/60) = 60, balance = 100 (28 - 16)/60 = 20.
    city = _row(di, "production", "city", "440100")
    assert (city["P"], city["E"], city["N"]) == pytest.approx((28 / 60, 16 / 60, 16 / 60))
    assert (city["di"], city["balance"]) == pytest.approx((60.0, 20.0))
    assert (city["n_respondents"], city["n_sample"], city["response_rate"]) == (7, 8, pytest.approx(7 / 8))
    # New orders: firm 8 skipped it, so the small cell's 16 go to firms 5, 6, 7 (16/3 each); large as above.
    #   P = (4/3 [1] + 4/3 [2] + 16/3 [7]) / 20 = 0.4, E = (4/3 [3] + 16/3 [6]) / 20 = 1/3, N = 16/3 / 20 = 4/15
    #   DI = 100 (0.4 + 1/6) = 56.667, balance = 100 (0.4 - 4/15) = 13.333.  "Same" is never imputed for firm 8.
    orders = _row(di, "new_orders", "city", "440100")
    assert (orders["P"], orders["E"], orders["N"]) == pytest.approx((0.4, 1 / 3, 4 / 15))
    assert (orders["di"], orders["balance"]) == pytest.approx((100 * (0.4 + 1 / 6), 100 * (0.4 - 4 / 15)))
    assert orders["n_respondents"] == 6
    # District 440103, production: 1 (+, 4/3), 2 (0, 4/3), 5 (+, 4), 6 (+, 4): W = 32/3, P = 28/32, E = 4/32.
    a = _row(di, "production", "district", "440103")
    assert a["di"] == pytest.approx(100 * (28 / 32 + 2 / 32))
    # District 440106, production: 3 (-, 4/3), 7 (0, 4), 8 (-, 4): W = 28/3, P = 0, E = 12/28, N = 16/28.
    b = _row(di, "production", "district", "440106")
    assert (b["di"], b["balance"]) == pytest.approx((100 * 6 / 28, -100 * 16 / 28))
    assert (b["n_respondents"], b["n_sample"]) == (3, 4)
    # Large firms alone: +, 0, - with equal weights -> 50.
    assert _row(di, "production", "size", "large")["di"] == pytest.approx(50.0)
    # Both districts are far below 30 respondents.
    assert di.loc[di["breakdown"] == "district", "low_n"].all()


def test_hand_panel_size_weights_and_nbs_count_formula():
    ent, resp = hand_panel()
    # Size weighting: w = design weight x revenue.  Large cell: 100, 300, 200, 400 (total 1000); the
    # respondents 1, 2, 3 (600) are scaled by 1000/600: 166.67, 500, 333.33.  Small cell: 40, 120, 80, 160.
    # Production: W = 1400, P = (166.67 + 40 + 120)/1400, E = (500 + 80)/1400 -> DI = 44.048.
    di = diffusion_indices(resp, ent, breakdowns=("city",), weighting="size")
    p, e = (500 / 3 + 160) / 1400, 580 / 1400
    assert _row(di, "production", "city", "440100")["di"] == pytest.approx(100 * (p + e / 2))
    w = respondent_weights(resp, ent, weighting="size").set_index(["question", "enterprise_id"])["weight"]
    assert w[("production", 2)] == pytest.approx(500.0) and w[("production", 8)] == pytest.approx(160.0)
    # New orders: the small cell's 400 go to firms 5, 6, 7 (240 at base) -> x 5/3.
    assert w[("new_orders", 6)] == pytest.approx(200.0)
    assert w.groupby(level="question").sum().to_dict() == pytest.approx({"production": 1400.0, "new_orders": 1400.0})
    # The NBS count formula: unweighted, no reweighting: 3 up, 2 same, 2 down out of 7.
    nbs = diffusion_indices(resp, ent, breakdowns=("city",), weighting="unweighted", nonresponse="none")
    assert _row(nbs, "production", "city", "440100")["di"] == pytest.approx(100 * (3 / 7 + 1 / 7))
    # The full-sample weights before non-response: each cell carries its size total.
    base = sample_weights(ent, "2017-01", weighting="size")
    assert base["weight"].tolist() == pytest.approx([100, 300, 200, 400, 40, 120, 80, 160])
    # The default is the NBS count formula (with the non-response reweighting inside cells).
    default = diffusion_indices(resp, ent, breakdowns=("city",))
    counted = diffusion_indices(resp, ent, breakdowns=("city",), weighting="unweighted")
    pd.testing.assert_series_equal(default["di"], counted["di"])


def test_size_weights_are_trimmed_at_k_times_the_cell_median():
    ent, resp = hand_panel()
    ent.loc[ent["id"] == 4, "revenue"] = 5000.0  # one giant in the large cell: 100, 300, 200, 5000
    # Cell median 250: with trim 3 the giant counts as 750; the cell keeps its total 5600, spread over
    # 100, 300, 200, 750 (1350) -> x 5600/1350.
    w = sample_weights(ent, "2017-01", weighting="size", trim=3.0).set_index("enterprise_id")["weight"]
    scale = 5600 / 1350
    assert w[[1, 2, 3, 4]].tolist() == pytest.approx([100 * scale, 300 * scale, 200 * scale, 750 * scale])
    assert w[[1, 2, 3, 4]].sum() == pytest.approx(5600.0)
    untrimmed = sample_weights(ent, "2017-01", weighting="size", trim=None).set_index("enterprise_id")["weight"]
    assert untrimmed[4] == pytest.approx(5000.0)
    with pytest.raises(SurveyDataError, match="trim must be at least 1"):
        sample_weights(ent, "2017-01", weighting="size", trim=0.5)


def test_a_cell_without_respondents_falls_back_to_its_size_class():
    ent = pd.DataFrame({"id": [1, 2, 3], "district_code": "440112", "industry_code": ["36", "36", "39"],
                        "size_class": "large", "sample_weight": [1.0, 1.0, 2.0], "revenue": 1.0})
    resp = pd.DataFrame({"enterprise_id": [1, 2], "period": "2017-01", "question": "production", "answer": [1, -1]})
    w = respondent_weights(resp, ent, weighting="design")
    # Cell 36/large (weight 2) answers for itself; cell 39/large (weight 2, nobody answered) goes to the same size
    # class: firms 1 and 2 carry 4 between them.
    assert w["weight"].tolist() == pytest.approx([2.0, 2.0])


# --------------------------------------------------------------------------------------------- explicit formulas
def _strata_var(z: np.ndarray, strata: np.ndarray) -> float:
    """sum_h n_h/(n_h - 1) sum_{i in h} (z_i - mean_h z)^2, written out (METHODOLOGY 7.3)."""
    total = 0.0
    for h in np.unique(strata):
        zh = z[strata == h]
        if len(zh) > 1:
            total += len(zh) / (len(zh) - 1) * ((zh - zh.mean()) ** 2).sum()
    return total


@pytest.fixture(scope="module")
def two_years():
    return generate_demo(seed=2017, enterprises=1200, start=pd.Period("2015-01", "M"), end=pd.Period("2016-12", "M"))


def test_standard_errors_match_the_formulas_written_out_firm_by_firm(two_years):
    ent, resp = two_years.enterprises, two_years.responses
    months = ["2016-05", "2016-06"]
    di = diffusion_indices(resp, ent, periods=months[1], breakdowns=("city", "district", "key_sector"))
    rw = respondent_weights(resp, ent, periods=months).merge(
        ent[["id", "district_code", "industry_code"]].rename(columns={"id": "enterprise_id"}))
    now = rw[rw["period"] == pd.Period(months[1], "M")]
    for breakdown, code, inside in [("city", "440100", lambda f: np.ones(len(f), bool)),
                                    ("district", "440111", lambda f: (f["district_code"] == "440111").to_numpy()),
                                    ("key_sector", "high_tech",
                                     lambda f: f["industry_code"].isin(["27", "37", "39", "40"]).to_numpy())]:
        # One question: z_i = w_i (r_i - R) / W inside the domain, 0 outside; strata over all respondents.
        sub = now[now["question"] == "new_orders"]
        w, r, d = sub["weight"].to_numpy(), sub["answer"].to_numpy(), inside(sub)
        R = (w * r)[d].sum() / w[d].sum()
        z = np.where(d, w * (r - R), 0.0) / w[d].sum()
        expected = 50 * np.sqrt(_strata_var(z, sub["stratum"].to_numpy()))
        assert _row(di, "new_orders", breakdown, code)["se"] == pytest.approx(expected, rel=1e-9)
        # The composite: zeta_i = sum_k a_k z_i^(k), firm by firm (answers correlated across questions).
        head = now[now["question"].isin(list(A_K))]
        firms = head.drop_duplicates("enterprise_id").set_index("enterprise_id")
        zeta = pd.Series(0.0, index=firms.index)
        for q, a in A_K.items():
            s = head[head["question"] == q]
            w, r, d = s["weight"].to_numpy(), s["answer"].to_numpy(), inside(s)
            R = (w * r)[d].sum() / w[d].sum()
            zeta = zeta.add(pd.Series(a * np.where(d, w * (r - R), 0.0) / w[d].sum(), index=s["enterprise_id"]),
                            fill_value=0.0)
        strata = firms["stratum"].reindex(zeta.index).to_numpy()  # .add sorted the firms
        expected_pmi = 50 * np.sqrt(_strata_var(zeta.to_numpy(), strata))
        assert _row(di, "new_orders", breakdown, code)["pmi_se"] == pytest.approx(expected_pmi, rel=1e-9)
        naive = np.sqrt(sum((a * _row(di, q, breakdown, code)["se"]) ** 2 for q, a in A_K.items()))
        assert abs(expected_pmi - naive) > 0.01 * naive  # adding component variances would be wrong

    # Change: z_t - z_{t-1} over firms answering in either month (0 in a month without an answer).
    both = rw[rw["question"] == "new_orders"]
    zs = []
    for month in months:
        s = both[both["period"] == pd.Period(month, "M")]
        w, r = s["weight"].to_numpy(), s["answer"].to_numpy()
        zs.append(pd.Series(w * (r - (w * r).sum() / w.sum()) / w.sum(), index=s["enterprise_id"]))
    delta = zs[1].sub(zs[0], fill_value=0.0)
    strata = both.drop_duplicates("enterprise_id").set_index("enterprise_id")["stratum"].reindex(delta.index)
    city = _row(di, "new_orders", "city", "440100")
    assert city["se_change"] == pytest.approx(50 * np.sqrt(_strata_var(delta.to_numpy(), strata.to_numpy())), rel=1e-9)
    independent = np.hypot(city["se"], _row(diffusion_indices(resp, ent, periods=months[0], breakdowns=("city",)),
                                            "new_orders", "city", "440100")["se"])
    assert city["se_change"] < 0.95 * independent  # the overlap of the panel reduces the variance of change


# --------------------------------------------------------------------------------------------- bootstrap
def _rescaled_bootstrap(strata: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Rao-Wu weight multipliers: draw n_h - 1 of a stratum's n_h units with replacement, scale by n_h/(n_h - 1)."""
    codes, _ = pd.factorize(strata)
    n_h = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    start = np.r_[0, np.cumsum(n_h)[:-1]]
    draws = np.repeat(np.arange(len(n_h)), np.maximum(n_h - 1, 0))
    picks = order[start[draws] + (rng.random((replicates, len(draws))) * n_h[draws]).astype(np.int64)]
    counts = np.zeros((replicates, len(codes)))
    np.add.at(counts, (np.repeat(np.arange(replicates), len(draws)), picks.ravel()), 1.0)
    lone = n_h[codes] == 1  # a lone unit keeps its weight (and adds no variance, as in the analytic formula)
    return np.where(lone, 1.0, counts * (n_h / np.maximum(n_h - 1, 1))[codes])


def test_analytic_standard_errors_agree_with_a_stratified_bootstrap(two_years):
    ent, resp = two_years.enterprises, two_years.responses
    months = [pd.Period("2016-05", "M"), pd.Period("2016-06", "M")]
    di = diffusion_indices(resp, ent, periods=months[1], breakdowns=("city", "size"))
    rw = respondent_weights(resp, ent, periods=months)
    rng = np.random.default_rng(20170601)
    B = 500
    wide = rw.pivot_table(index=["enterprise_id", "stratum"], columns=["period", "question"],
                          values=["weight", "answer"], fill_value=0)
    units = wide.index.to_frame(index=False)
    size = units.merge(ent[["id", "size_class"]], left_on="enterprise_id", right_on="id")["size_class"].to_numpy()
    M = _rescaled_bootstrap(units["stratum"].to_numpy(), B, rng)  # firms (answering either month) within strata

    def replicate_r(month: pd.Period, question: str, inside: np.ndarray) -> np.ndarray:
        w = wide[("weight", month, question)].to_numpy() * inside
        return (M @ (w * wide[("answer", month, question)].to_numpy())) / (M @ w)

    checks = []
    for domain, inside in [("440100", np.ones(len(units), bool)), ("small", np.isin(size, ["small", "micro"]))]:
        kind = "city" if domain == "440100" else "size"
        for q in ("new_orders", "production", "employment"):
            checks.append((f"{q}/{domain}", _row(di, q, kind, domain)["se"],
                           (50 * replicate_r(months[1], q, inside)).std(ddof=1)))
        pmi = sum(a * 50 * replicate_r(months[1], q, inside) for q, a in A_K.items())
        checks.append((f"headline/{domain}", _row(di, "new_orders", kind, domain)["pmi_se"], pmi.std(ddof=1)))
    change = 50 * (replicate_r(months[1], "new_orders", np.ones(len(units), bool))
                   - replicate_r(months[0], "new_orders", np.ones(len(units), bool)))
    checks.append(("change new_orders", _row(di, "new_orders", "city", "440100")["se_change"], change.std(ddof=1)))
    for name, analytic, boot in checks:
        assert analytic == pytest.approx(boot, rel=0.10), (name, analytic, boot)


# --------------------------------------------------------------------------------------------- the demo
def test_city_headline_tracks_the_latent_cycle(full_demo):
    di = diffusion_indices(full_demo.responses, full_demo.enterprises, breakdowns=("city",))
    head = composite_pmi(di).set_index("period")["di"]
    truth = full_demo.cycle["headline"]
    assert head.index.equals(truth.index)
    share = festival_share(head.index, spring_festival_dates())
    x = np.column_stack([pd.get_dummies(head.index.month).to_numpy(float), share - np.r_[share[0], share[:-1]]])
    beta, *_ = np.linalg.lstsq(x, head.to_numpy(), rcond=None)
    # Size weights let a few large firms dominate, so the weighted index is noisier than the count.
    assert np.corrcoef(head.to_numpy() - x @ beta, truth)[0, 1] > 0.65
    assert np.corrcoef(head, truth)[0, 1] > 0.6


def test_small_districts_are_flagged_low_n(two_years):
    di = diffusion_indices(two_years.responses, two_years.enterprises, periods="2016-03",
                           breakdowns=("district",))
    by_code = di[di["question"] == "production"].set_index("code")
    assert by_code.loc["440104", "low_n"] and by_code.loc["440104", "n_respondents"] < 30  # Yuexiu: few plants
    assert not by_code.loc["440112", "low_n"] and by_code.loc["440112", "n_respondents"] > 200  # Huangpu
    assert (by_code["low_n"] == (by_code["n_respondents"] < 30)).all()
    assert by_code.loc["440104", "se"] > by_code.loc["440112", "se"]
    head = composite_pmi(di).set_index("code")
    assert head.loc["440104", "low_n"] and not head.loc["440112", "low_n"]


def test_breakdowns_cover_the_panel(two_years):
    ent, resp = two_years.enterprises, two_years.responses
    di = diffusion_indices(resp, ent, periods=["2016-06"])
    prod = di[di["question"] == "production"]
    assert set(prod["breakdown"]) == {"city", "district", "size", "industry", "key_sector"}
    sizes = prod[prod["breakdown"] == "size"].set_index("code")
    assert list(sizes.index) == ["large", "medium", "small"]  # micro is counted with small
    assert sizes["n_sample"].sum() == prod[prod["breakdown"] == "city"]["n_sample"].iloc[0]
    # Key sectors overlap: a pharmaceutical firm is in biomedicine and high-tech.
    sectors = prod[prod["breakdown"] == "key_sector"].set_index("code")
    assert sectors["n_sample"].sum() > prod[prod["breakdown"] == "city"]["n_sample"].iloc[0] * 0.8
    active = ((ent["panel_start"] <= "2016-06") & (ent["panel_end"].fillna("9999") >= "2016-06")).sum()
    assert prod[prod["breakdown"] == "city"]["n_sample"].iloc[0] == active
    first = diffusion_indices(resp, ent, periods="2015-01", breakdowns=("city",))
    assert first["change"].isna().all() and first["pmi_se_change"].isna().all()  # no month before the data


def test_series_rows_follow_the_naming_scheme(two_years):
    ent, resp = two_years.enterprises, two_years.responses
    di = diffusion_indices(resp, ent, periods="2016-06")
    rows = series_rows(pd.concat([di, composite_pmi(di)], ignore_index=True)).set_index("series_key")
    for key in ("pmi/headline", "pmi/new_orders", "pmi/new_orders/district/440106", "pmi/headline/size/large",
                "pmi/production/industry/36", "pmi/headline/key_sector/autos"):
        assert key in rows.index, key
    assert (rows["period"] == "2016-06").all()
    city = _row(di, "new_orders", "city", "440100")
    assert rows.loc["pmi/new_orders", "raw"] == city["di"] and rows.loc["pmi/new_orders", "n"] == city["n_respondents"]
    assert list(rows.reset_index().columns) == ["series_key", "period", "raw", "se", "n"]
    shares = series_rows(problem_shares(two_years.problems, resp, ent, periods="2016-06"))
    assert "problems/insufficient_demand" in set(shares["series_key"])
    assert "problems/tight_funding/district/440112" in set(shares["series_key"])


def test_problem_shares_count_respondents_who_ticked(two_years):
    ent, resp, probs = two_years.enterprises, two_years.responses, two_years.problems
    out = problem_shares(probs, resp, ent, periods="2016-06", breakdowns=("city",),
                         weighting="unweighted", nonresponse="none").set_index("problem")
    respondents = resp.loc[resp["period"] == "2016-06", "enterprise_id"].nunique()
    ticked = probs[probs["period"] == "2016-06"].groupby("problem")["enterprise_id"].nunique()
    assert out.loc["insufficient_demand", "share"] == pytest.approx(100 * ticked["insufficient_demand"] / respondents)
    assert (out["n_respondents"] == respondents).all()
    weighted = problem_shares(probs, resp, ent, periods="2016-06", breakdowns=("city",))
    assert weighted["share"].between(0, 100).all() and (weighted["se"] > 0).all()


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.assign(question=r["question"].where(r.index > 0, "output")), "question must be one of"),
    (lambda r: pd.concat([r, r.iloc[:1]]), "at most once a month"),
    (lambda r: r.assign(answer=r["answer"].where(r.index > 0, 2)), r"answers must be -1, 0 or 1; got \[2\]"),
    (lambda r: r.assign(enterprise_id=r["enterprise_id"].where(r.index > 0, 99)), r"unknown ids \[99\]"),
])
def test_bad_input_is_refused_with_the_rule_and_the_value(change, message):
    ent, resp = hand_panel()
    with pytest.raises(SurveyDataError, match=message):
        diffusion_indices(change(resp), ent)


# --------------------------------------------------------------------------------------------- properties
ANY_ANSWER = st.sampled_from([-1, 0, 1])


@st.composite
def panels(draw, *, answers=ANY_ANSWER, equal_weights: bool = False, full_response: bool = False):
    n = draw(st.integers(2, 24))
    ent = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "district_code": draw(st.lists(st.sampled_from(["440103", "440112"]), min_size=n, max_size=n)),
        "industry_code": draw(st.lists(st.sampled_from(["27", "36"]), min_size=n, max_size=n)),
        "size_class": draw(st.lists(st.sampled_from(["large", "medium", "small", "micro"]), min_size=n, max_size=n)),
        "sample_weight": 1.0 if equal_weights else draw(st.lists(st.floats(0.5, 50), min_size=n, max_size=n)),
        "revenue": 1.0 if equal_weights else draw(st.lists(st.floats(1, 1e6), min_size=n, max_size=n)),
    })
    rows = []
    for month in ("2017-01", "2017-02"):
        for i in range(1, n + 1):
            for q in ("production", "new_orders", "employment", "supplier_delivery_time", "raw_materials_inventory"):
                if full_response or (i, q) == (1, "production") or draw(st.integers(0, 9)) > 0:
                    rows.append((i, month, q, draw(answers)))
    resp = pd.DataFrame(rows, columns=["enterprise_id", "period", "question", "answer"])
    return ent, resp


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(panels())
def test_every_index_lies_between_0_and_100(panel):
    ent, resp = panel
    di = diffusion_indices(resp, ent)
    ok = di["n_respondents"] > 0
    assert di.loc[ok, "di"].between(0, 100).all() and di.loc[~ok, "di"].isna().all()
    assert np.allclose(di.loc[ok, ["P", "E", "N"]].sum(axis=1), 1.0)
    assert (di.loc[ok, "se"] >= 0).all() and (di.loc[ok, "ci_low"] <= di.loc[ok, "di"]).all()
    head = composite_pmi(di)
    assert head["di"].dropna().between(0, 100).all()


@PROPERTY
@given(panels(answers=st.just(0)))
def test_everyone_answering_same_gives_50_with_no_error(panel):
    ent, resp = panel
    di = diffusion_indices(resp, ent)
    ok = di["n_respondents"] > 0
    assert np.allclose(di.loc[ok, "di"], 50.0) and np.allclose(di.loc[ok, "se"], 0.0)
    assert np.allclose(di.loc[ok, "change"].dropna(), 0.0) and np.allclose(di.loc[ok, "se_change"].dropna(), 0.0)
    assert np.allclose(composite_pmi(di)["se"].dropna(), 0.0)


def _count_di(resp: pd.DataFrame, ent: pd.DataFrame) -> pd.Series:
    """The NBS count formula per month, question and district."""
    g = resp.merge(ent, left_on="enterprise_id", right_on="id")
    g = g.assign(p=g["answer"].eq(1), e=g["answer"].eq(0)).groupby(["period", "question", "district_code"])
    return 100 * (g["p"].mean() + g["e"].mean() / 2)


@PROPERTY
@given(panels(equal_weights=True))
def test_equal_weights_give_the_count_formula(panel):
    ent, resp = panel
    expected = _count_di(resp, ent)
    for weighting in ("size", "design", "unweighted"):
        di = diffusion_indices(resp, ent, breakdowns=("district",), weighting=weighting, nonresponse="none")
        got = di.assign(period=di["period"].astype(str)).set_index(["period", "question", "code"])["di"].dropna()
        got.index.names = expected.index.names
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, atol=1e-9)


@PROPERTY
@given(panels(equal_weights=True, full_response=True))
def test_with_full_response_the_reweighting_changes_nothing(panel):
    ent, resp = panel
    a = diffusion_indices(resp, ent, nonresponse="cell")
    b = diffusion_indices(resp, ent, nonresponse="none")
    assert np.allclose(a["di"], b["di"], equal_nan=True) and np.allclose(a["se"], b["se"], equal_nan=True)
