"""X-13 batches (metafile mode) give the per-series results to the last bit, and isolate failures."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from forecasting import SeasonalAdjuster, X13Error
from forecasting.seasonal import batch_size, fit_many
from forecasting.seasonal._x13 import run_x13, run_x13_batch

pytestmark = [pytest.mark.x13, pytest.mark.filterwarnings(
    "ignore::forecasting.exceptions.X13Warning", "ignore::forecasting.exceptions.CalendarRuleWarning"
)]


#: ``.udg`` lines that stamp when X-13 ran.
_RUN_STAMP = ("date", "time")


def _series(seed: int, n: int = 120, level: float = 50.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = level + 3 * np.sin(2 * np.pi * t / 12 + seed) + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.period_range("2014-01", periods=n, freq="M"))


def _same(a: object, b: object, where: str) -> None:
    if isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            if where.endswith(".udg") and k in _RUN_STAMP:
                continue
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_batch_results_equal_the_per_series_path_and_one_bad_series_loses_nothing():
    airline = SeasonalAdjuster(arima="(0 1 1)(0 1 1)")
    automatic = SeasonalAdjuster()
    logs = SeasonalAdjuster(mode="multiplicative", arima="(0 1 1)(0 1 1)")
    bad = _series(9)
    bad.iloc[40:52] = np.nan  # a whole year missing ...
    broken = SeasonalAdjuster(arima="(0 1 1)(0 1 1)", spec_overrides={"x11": {"seasonalma": "s9x9x9"}})  # X-13 error
    jobs = [
        (airline, _series(1), "a1"),
        (broken, _series(2), "broken"),
        (automatic, _series(3), "auto"),
        (airline, _series(4, n=150), "a2-longer"),
        (logs, _series(5, level=200.0), "levels"),
        (airline, pd.Series(50.0, index=pd.period_range("2015-01", periods=60, freq="M")), "constant"),
        (SeasonalAdjuster("stl"), _series(6), "stl"),
        (airline, bad, "gap"),
        (airline, _series(7).iloc[:20], "short"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = fit_many(jobs, batch_size=4)
        for (adjuster, series, name), got in zip(jobs, batched, strict=True):
            try:
                expected: object = adjuster.fit(series, name=name)
            except Exception as exc:
                expected = exc
            if isinstance(expected, Exception):
                assert type(got) is type(expected) and str(got) == str(expected), name
            else:
                assert not isinstance(got, Exception), (name, got)
                _same(expected, got, name)
    assert isinstance(batched[1], X13Error) and "broken" in str(batched[1])
    assert sum(not isinstance(r, Exception) for r in batched) >= 6


def test_fit_batch_by_name():
    adjuster = SeasonalAdjuster(arima="(0 1 1)(0 1 1)")
    out = adjuster.fit_batch({f"s{i}": _series(i) for i in range(3)})
    assert list(out) == ["s0", "s1", "s2"]
    single = adjuster.fit(_series(1), name="s1")
    _same(single, out["s1"], "s1")


def test_run_x13_batch_reruns_a_failed_spec_alone_for_its_exact_error():
    adjuster = SeasonalAdjuster(arima="(0 1 1)(0 1 1)")
    good = adjuster.spec(_series(1), name="good")
    wrong = good.replace("period = 12", "period = 13")
    runs = run_x13_batch([("good", good), ("wrong", wrong), ("good2", good)])
    assert isinstance(runs[1], X13Error)
    with pytest.raises(X13Error) as alone:
        run_x13(wrong, name="wrong")
    assert str(runs[1]) == str(alone.value)
    for k in (0, 2):
        assert not isinstance(runs[k], Exception)
        reference = run_x13(good, name="good")
        # when X-13 ran differs between two runs a second apart; nothing else may
        assert {key: v for key, v in runs[k].udg.items() if key not in _RUN_STAMP} == \
            {key: v for key, v in reference.udg.items() if key not in _RUN_STAMP}
        for table, frame in runs[k].tables.items():
            pd.testing.assert_frame_equal(frame, reference.tables[table], check_exact=True)


def test_batch_size_gives_every_worker_about_four_batches_of_at_most_largest():
    assert batch_size(96, 2) == 12  # 8 batches: the last ones are small enough to keep both workers busy
    assert batch_size(546, 2) == 32 and batch_size(546, 2, largest=100) == 69 and batch_size(546, 2, largest=64) == 64
    assert batch_size(5, 2) == 1 and batch_size(0, 2) == 1 and batch_size(10, 0) == 3
    for total in (1, 7, 96, 1000):
        size = batch_size(total, 2)
        assert -(-total // size) >= min(total, 8) or size == 32
