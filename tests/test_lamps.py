"""Signal lamps and the composite warning index (METHODOLOGY 6.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.indicators.lamps import (
    COMPOSITE_BANDS,
    DEFAULT_LAMPS,
    LampConfigError,
    LampIndicator,
    composite_colour,
    composite_index,
    lamp_inputs,
    lamp_scores,
    percentile_cutoffs,
    signal_lamps,
)
from monitor.indicators.monitoring import monitoring_rows

M = pd.Period


def _frame(values: dict[str, list[float]], start: str = "2020-01") -> pd.DataFrame:
    n = len(next(iter(values.values())))
    return pd.DataFrame(values, index=pd.period_range(start, periods=n, freq="M"))


def _one(higher: str, cutoffs=(45.0, 49.0, 51.0, 55.0), code: str = "x") -> LampIndicator:
    return LampIndicator(code, code, code, f"test/{code}", "index", higher, (("2005-01", cutoffs),))  # type: ignore[arg-type]


def test_lamp_edges_when_higher_is_hotter():
    values = [44.9, 45.0, 45.01, 49.0, 50.0, 51.0, 51.01, 55.0, 55.01]
    scores = lamp_scores(_frame({"x": values}), [_one("hotter")])
    assert scores["score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert scores["colour"].tolist()[::2] == ["blue", "light_blue", "green", "yellow", "red"]


def test_lamp_edges_when_higher_is_colder():
    cut = (0.5, 1.0, 3.0, 6.0)
    values = [7.0, 6.0, 5.99, 3.0, 2.0, 1.0, 0.99, 0.5, 0.49, 0.0]
    scores = lamp_scores(_frame({"s": values}), [_one("colder", cut, "s")])
    assert scores["score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Off the edges, "colder" mirrors "hotter".
    off = [7.0, 5.0, 2.0, 0.7, 0.1]
    hot = lamp_scores(_frame({"s": off}), [_one("hotter", cut, "s")])["score"].to_numpy()
    cold = lamp_scores(_frame({"s": off}), [_one("colder", cut, "s")])["score"].to_numpy()
    np.testing.assert_array_equal(cold, 6 - hot)


def test_dated_critical_values_switch_at_valid_from():
    ind = LampIndicator("g", "g", "g", "test/g", "%", "hotter",
                        (("2019-01", (0.0, 1.0, 2.0, 3.0)), ("2020-01", (10.0, 11.0, 12.0, 13.0))))
    scores = lamp_scores(_frame({"g": [5.0, 5.0, 5.0, 5.0]}, start="2018-11"), [ind])
    assert scores["period"].astype(str).tolist() == ["2019-01", "2019-02"]
    by = scores.set_index(scores["period"].astype(str))
    assert "2018-11" not in by.index and "2018-12" not in by.index  # before the first row: no lamp
    assert by.loc["2019-01", "score"] == 5 and by.loc["2019-01", "c4"] == 3.0
    assert str(by.loc["2019-01", "valid_from"]) == "2019-01"
    assert by.loc["2019-02", "score"] == 5
    scores = lamp_scores(_frame({"g": [5.0, 5.0]}, start="2019-12"), [ind])
    assert scores["score"].tolist() == [5, 1]
    assert scores["valid_from"].astype(str).tolist() == ["2019-01", "2020-01"]


def _composite(out: pd.DataFrame) -> pd.DataFrame:
    comp = out[out["series_key"] == "lamps/composite"]
    return comp.set_index(comp["period"].astype(str))


def _identity(code: str) -> LampIndicator:
    """A lamp whose score equals its (integer) value."""
    return LampIndicator(code, code, code, f"test/{code}", "points", "hotter", (("2005-01", (1.5, 2.5, 3.5, 4.5)),))


@pytest.mark.parametrize(("scores", "w", "colour"), [
    ([3, 3, 3, 3], 100.0, "green"),
    ([2, 2, 2, 2], 200 / 3, "blue"),  # average 2.0: the blue band's upper edge
    ([2, 2, 3, 2], 75.0, "light_blue"),
    ([2, 3, 2, 3], 250 / 3, "light_blue"),  # average 2.5: edge, colder colour
    ([3, 3, 2, 3], 275 / 3, "green"),
    ([3, 4, 3, 4], 350 / 3, "green"),  # average 3.5
    ([4, 4, 3, 4], 125.0, "yellow"),
    ([4, 4, 4, 4], 400 / 3, "yellow"),  # average 4.0
    ([4, 5, 4, 4], 425 / 3, "red"),
    ([1, 1, 1, 1], 100 / 3, "blue"),
    ([5, 5, 5, 5], 500 / 3, "red"),
])
def test_composite_index_and_bands(scores, w, colour):
    inds = [_identity(f"i{k}") for k in range(4)]
    values = _frame({f"i{k}": [float(s)] for k, s in enumerate(scores)})
    out = signal_lamps(values, inds)
    comp = out[out["series_key"] == "lamps/composite"].iloc[0]
    assert comp["value"] == pytest.approx(w, abs=1e-9)
    assert comp["n"] == 4 and comp["colour"] == colour
    assert composite_colour(w)[0] == colour


def test_composite_colour_of_floats_and_published_values():
    assert list(composite_colour([66.66, 66.7, 83.3, 83.34, 116.7, 133.3, 133.34, np.nan])) == \
        ["blue", "light_blue", "light_blue", "green", "yellow", "yellow", "red", None]
    # The published CEMAC values of METHODOLOGY 6.3 fall in their published colours.
    assert list(composite_colour([121.3, 117.3, 113.3, 113.2, 110.7, 85.3, 78.7])) == \
        ["yellow", "yellow", "green", "green", "green", "green", "light_blue"]
    assert COMPOSITE_BANDS == pytest.approx((66.67, 83.33, 116.67, 133.33), abs=0.005)


def test_missing_indicators_and_minimum():
    inds = [_identity(f"i{k}") for k in range(4)]
    values = _frame({"i0": [3.0, 5.0, 5.0], "i1": [3.0, np.nan, np.nan], "i2": [5.0, 5.0, np.nan],
                     "i3": [np.nan, np.nan, np.nan]})
    out = signal_lamps(values, inds)
    comp = _composite(out)
    assert comp.loc["2020-01", "value"] == pytest.approx(100 * 11 / 9) and comp.loc["2020-01", "n"] == 3
    # Default minimum: more than half of 4 indicators = 3; February has 2, March 1.
    assert list(comp.index) == ["2020-01"]
    loose = signal_lamps(values, inds, min_indicators=1)
    comp = _composite(loose)
    assert comp["n"].tolist() == [3, 2, 1]
    assert comp.loc["2020-03", "value"] == pytest.approx(500 / 3) and comp.loc["2020-03", "colour"] == "red"
    # An indicator absent from the frame is simply not lit.
    partial = signal_lamps(values[["i0"]], inds, min_indicators=1)
    assert set(partial["series_key"]) == {"lamps/composite", "lamps/i0"}


def test_composite_index_direct():
    scores = pd.DataFrame({"period": pd.PeriodIndex(["2020-01"] * 3, freq="M"), "indicator": ["a", "b", "c"],
                           "score": [1, 2, 3]})
    comp = composite_index(scores, n_indicators=3)
    assert comp["composite"].tolist() == pytest.approx([100 * 6 / 9]) and comp["colour"].tolist() == ["blue"]


def test_default_table_is_sane_and_documented():
    codes = [i.code for i in DEFAULT_LAMPS]
    assert codes == ["pmi_headline", "new_orders", "electricity_yoy", "iva_yoy", "finished_goods_inventory",
                     "price_scissors", "stopped_share"]
    higher = {i.code: i.higher for i in DEFAULT_LAMPS}
    assert higher["stopped_share"] == "colder" and higher["price_scissors"] == "colder"
    assert higher["pmi_headline"] == "hotter" and higher["electricity_yoy"] == "hotter"
    assert all(len(i.basis) > 40 for i in DEFAULT_LAMPS)
    pmi = _frame({"pmi_headline": [44.0, 48.0, 50.0, 52.0, 56.0]})
    assert lamp_scores(pmi)["score"].tolist() == [1, 2, 3, 4, 5]
    stopped = _frame({"stopped_share": [12.0, 4.0, 2.0, 0.8, 0.2]})
    assert lamp_scores(stopped)["colour"].tolist() == ["blue", "light_blue", "green", "yellow", "red"]


def test_table_errors_state_the_rule():
    with pytest.raises(LampConfigError, match="four increasing finite cut-offs"):
        LampIndicator("x", "x", "x", "s", "%", "hotter", (("2005-01", (1.0, 3.0, 2.0, 4.0)),))
    with pytest.raises(LampConfigError, match="valid_from months must increase"):
        LampIndicator("x", "x", "x", "s", "%", "hotter",
                      (("2020-01", (1.0, 2.0, 3.0, 4.0)), ("2019-01", (1.0, 2.0, 3.0, 4.0))))
    with pytest.raises(LampConfigError, match="'hotter' or 'colder'"):
        LampIndicator("x", "x", "x", "s", "%", "up", (("2005-01", (1.0, 2.0, 3.0, 4.0)),))  # type: ignore[arg-type]
    with pytest.raises(LampConfigError, match="repeat"):
        lamp_scores(_frame({"x": [1.0]}), [_one("hotter"), _one("colder")])
    with pytest.raises(LampConfigError, match="monthly PeriodIndex"):
        lamp_scores(pd.DataFrame({"x": [1.0]}), [_one("hotter")])


def test_lamp_inputs_from_tidy_frames_and_rows():
    tidy = pd.DataFrame({"series_key": ["electricity/yoy/city", "electricity/yoy/city", "status/stopped_share/city",
                                        "electricity/yoy/district/440106"],
                         "period": pd.PeriodIndex(["2020-01", "2020-03", "2020-03", "2020-03"], freq="M"),
                         "value": [4.0, -20.0, 7.0, 1.0]})
    rows = pd.DataFrame({"series_key": ["pmi/headline"], "period": ["2020-03"], "raw": [35.7]})
    wide = lamp_inputs(tidy, rows, extra=_frame({"iva_yoy": [1.0]}, start="2020-02"))
    assert list(wide.columns) == ["pmi_headline", "electricity_yoy", "iva_yoy", "stopped_share"]
    assert [str(p) for p in wide.index] == ["2020-01", "2020-02", "2020-03"]
    assert wide.loc[M("2020-03", "M"), "electricity_yoy"] == -20.0
    out = signal_lamps(wide, min_indicators=1)
    comp = _composite(out)
    assert comp.loc["2020-03", "colour"] == "blue" and comp.loc["2020-03", "n"] == 3
    assert comp.loc["2020-03", "value"] == pytest.approx(100.0 / 3)
    rows_out = monitoring_rows(out)
    assert {"lamps/composite", "lamps/pmi_headline", "lamps/electricity_yoy"} <= set(rows_out["series_key"])
    with pytest.raises(LampConfigError, match="once a month"):
        lamp_inputs(tidy, tidy)


def test_percentile_cutoffs():
    assert percentile_cutoffs(pd.Series(np.arange(1.0, 101.0)), decimals=2) == (10.9, 25.75, 75.25, 90.1)
    with pytest.raises(LampConfigError, match="at least 24 months"):
        percentile_cutoffs([1.0, 2.0])
    with pytest.raises(LampConfigError, match="do not increase"):
        percentile_cutoffs(np.ones(30))
