"""Statistics live in one place: the headline PMI formula, and the projected seasonal factors of an adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import ForecastingError, SeasonalAdjuster
from monitor.adjust import _compose
from monitor.indicators.survey import SurveyDataError, composite_pmi, headline_pmi

QUESTIONS = ["new_orders", "production", "employment", "supplier_delivery_time", "raw_materials_inventory"]


def _components(seed: int = 3) -> dict[str, pd.Series]:
    idx = pd.period_range("2020-01", periods=6, freq="M")
    rng = np.random.default_rng(seed)
    return {q: pd.Series(rng.uniform(40, 60, len(idx)), index=idx) for q in QUESTIONS}


def test_headline_formula_matches_the_published_weights():
    c = _components()
    expected = (0.30 * c["new_orders"] + 0.25 * c["production"] + 0.20 * c["employment"]
                + 0.15 * (100 - c["supplier_delivery_time"]) + 0.10 * c["raw_materials_inventory"])
    pd.testing.assert_series_equal(headline_pmi(c), expected.rename("headline"), rtol=1e-12)


def test_the_composite_of_the_survey_and_the_rebuilt_adjusted_headline_are_one_formula():
    c = _components()
    tidy = pd.concat([pd.DataFrame({"period": s.index, "question": q, "di": s.to_numpy()}) for q, s in c.items()])
    composite = composite_pmi(tidy).set_index("period")["di"]
    pd.testing.assert_series_equal(composite, headline_pmi(c), check_names=False, rtol=1e-12)
    rebuilt = _compose({f"pmi/{q}/district/440106": s for q, s in c.items()})
    pd.testing.assert_series_equal(rebuilt, headline_pmi(c), rtol=1e-12)
    gap = dict(c, production=c["production"].drop(c["production"].index[2]))
    assert headline_pmi(gap).isna().sum() == 1  # NaN where a component is missing
    with pytest.raises(SurveyDataError, match=r"\['employment'\] missing"):
        headline_pmi({q: s for q, s in c.items() if q != "employment"})


def test_projected_factors_come_from_the_adjustment_result_and_need_x13_x11():
    idx = pd.period_range("2015-01", periods=72, freq="M")
    y = pd.Series(50 + 3 * np.sin(2 * np.pi * idx.month / 12) + np.random.default_rng(1).normal(0, 0.3, 72), index=idx)
    result = SeasonalAdjuster(method="stl").fit(y)
    with pytest.raises(ForecastingError, match="projected factors need X-13 with the X-11 decomposition"):
        result.projected_factors(2021)
