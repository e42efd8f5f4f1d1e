"""The Dask engine (issue 20): the same results as the local engine on a 2-worker ``distributed.LocalCluster``.

One cluster for the module (2 worker processes, one thread each); tiny data.  Electricity indicators from the
Parquet archive with dask.dataframe against the store's query path (within 1e-9), a batch of seasonal
adjustments and a batch of forecasts against the local process pool, and a worker killed mid-run: its tasks
are retried elsewhere, the result is complete and the same, and nothing is written twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import sys

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
pytest.importorskip("pyarrow")

from monitor.adjust import adjust_series  # noqa: E402
from monitor.compute_monitoring import HISTORY_MONTHS, monitoring_series, monthly_meter  # noqa: E402
from monitor.demo.load import load_demo  # noqa: E402
from monitor.engine import ItemError, open_engine  # noqa: E402
from monitor.engine.dask import DaskEngine  # noqa: E402
from monitor.engine.electricity import archive_meter, firm_status, meter_frame, sync_archive  # noqa: E402
from monitor.engine.local import LocalEngine  # noqa: E402
from monitor.forecasts import forecast_series  # noqa: E402
from monitor.indicators import electricity_indicators  # noqa: E402
from monitor.results import read_series, write_series  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store import models as m  # noqa: E402
from monitor.store import survey as survey_q  # noqa: E402
from monitor.store.archive import archive_months, export_readings  # noqa: E402

# the helpers below run on the workers: ship them by value (the workers cannot import the tests folder)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _settings(tmp_path, **overrides):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path),
                                                **{k.replace("__", "."): v for k, v in overrides.items()}})


# ------------------------------------------------------------------------------------------------- the engine
def _square(x: int) -> int:
    if x == 3:
        raise ValueError("three is refused")
    return x * x


def _refused(item: int, exc: BaseException) -> str:
    return f"{item}: {exc}"


def test_map_isolates_items_and_keeps_their_order(client):
    items = list(range(10))
    local = LocalEngine(1).map(_square, items, on_error=_refused)
    dask = DaskEngine(client, batch=3).map(_square, items, on_error=_refused)
    assert dask == local == [0, 1, 4, "3: three is refused", 16, 25, 36, 49, 64, 81]
    with pytest.raises(ItemError, match="three is refused"):
        DaskEngine(client, batch=4).map(_square, items)


def test_open_engine_follows_the_setting(tmp_path, client):
    with open_engine(_settings(tmp_path)) as engine:
        assert engine.name == "local"
    address = client.scheduler.address
    with open_engine(_settings(tmp_path, compute__engine="dask", dask__address=address)) as engine:
        assert engine.name == "dask" and engine.workers == 2
        assert engine.map(_square, [1, 2]) == [1, 4]
    assert client.status == "running"  # the engine closes only what it opened


# ------------------------------------------------------------------------------------------------- electricity
@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, medium_demo):
    path = tmp_path_factory.mktemp("elec") / "store.sqlite"
    store = Store.open(f"sqlite:///{path}")
    load_demo(store, medium_demo)
    yield store
    store.close()


@pytest.fixture(scope="module")
def archive(demo_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("archive") / "electricity"
    rows = export_readings(demo_store, root)
    assert rows == int(demo_store.read_records("SELECT COUNT(*) AS n FROM electricity_reading")["n"].iloc[0])
    return root


def test_archive_aggregates_equal_the_store_query(demo_store, archive, client):
    root = archive
    files = sorted(root.rglob("*.parquet"))
    assert len(files) == len(list(root.glob("month=*/region=*")))
    assert export_readings(demo_store, root, first="2020-08") > 0  # idempotent: partitions replaced, not added
    assert sorted(root.rglob("*.parquet")) == files
    first = dt.date(2018, 1, 1)
    local = monthly_meter(demo_store, first).sort_values(["enterprise_id", "period"]).reset_index(drop=True)
    dask = archive_meter(root, first, client=client)
    assert len(dask) == len(local)
    assert (dask[["enterprise_id", "period", "days", "days_x"]].astype(str).to_numpy()
            == local[["enterprise_id", "period", "days", "days_x"]].astype(str).to_numpy()).all()
    np.testing.assert_allclose(dask[["kwh", "kwh_x"]].to_numpy(float), local[["kwh", "kwh_x"]].to_numpy(float),
                               rtol=1e-12, atol=0)


def test_electricity_indicators_local_equal_dask(demo_store, archive, tmp_path, client):
    months = [str(p) for p in pd.period_range("2019-11", "2020-03", freq="M")]
    local = monitoring_series(demo_store, _settings(tmp_path), months)
    dask_settings = _settings(tmp_path, compute__engine="dask", dask__address=client.scheduler.address,
                              electricity__archive=str(archive))
    dask = monitoring_series(demo_store, dask_settings, months)  # brings the archive up to the store first
    assert archive_months(archive)[-1] == "2020-09"
    assert sync_archive(demo_store, archive) > 0  # the last month is refreshed, the rest is kept
    assert list(dask["series_key"]) == list(local["series_key"]) and list(dask["period"]) == list(local["period"])
    assert any(k.startswith("electricity/yoy/") for k in local["series_key"])
    assert any(k.startswith("status/inferred_stopped") for k in local["series_key"])
    np.testing.assert_allclose(dask["raw"].to_numpy(float), local["raw"].to_numpy(float), rtol=1e-9, atol=1e-9)
    assert (dask["n"].fillna(-1).to_numpy() == local["n"].fillna(-1).to_numpy()).all()


def test_baselines_and_status_on_the_workers(demo_store, archive, client):
    root = archive
    months = ["2019-12", "2020-01", "2020-02"]
    first = pd.Period(months[0], "M") - HISTORY_MONTHS
    enterprises = survey_q.enterprise_records(demo_store, ["id", "district_code", "industry_code", "size_class"])
    whole = electricity_indicators(monthly_meter(demo_store, first.start_time.date()), enterprises, months).firms
    lazy = firm_status(meter_frame(root, str(first)), enterprises, months, shards=3)
    sharded = client.compute(lazy).result().sort_values(["period", "enterprise_id"]).reset_index(drop=True)
    assert len(sharded) == len(whole)
    assert list(sharded["inferred_status"].fillna("-")) == list(whole["inferred_status"].astype(object).fillna("-"))
    np.testing.assert_allclose(sharded[["baseline", "ratio"]].to_numpy(float),
                               whole[["baseline", "ratio"]].to_numpy(float), rtol=1e-9, equal_nan=True)


def test_province_demo_archives_feeds_and_stores_only_aggregates(tmp_path, client):
    from monitor.demo.province import ProvinceParams, run_province

    settings = _settings(tmp_path, compute__engine="dask", dask__address=client.scheduler.address)
    params = ProvinceParams(seed=5, enterprises=20, start="2023-01", end="2025-02", feed_users=40, cities=2)
    run = run_province(settings, params)
    root = tmp_path / "province"
    assert run.built and run.readings["cities"] > 0 and run.readings["national"] == 40 * 790  # users x days
    assert archive_months(root / "archive" / "national")[0] == "2023-01"
    assert {p.name for p in (root / "archive" / "cities" / "month=2024-06").iterdir()} == {"region=4401",
                                                                                            "region=4402"}
    with Store.open(run.store_url) as store:
        city = read_series(store, "province/electricity/yoy/city")
        parts = [read_series(store, f"province/electricity/contribution/region/{c}")["raw"] for c in ("4401", "4402")]
        national = read_series(store, "national/status/inferred_stopped_count/city")
        assert store.read_records("SELECT COUNT(*) AS n FROM electricity_reading")["n"].iloc[0] == 0
    assert list(city.index.astype(str))[-1] == "2025-02" and len(national) == 12
    np.testing.assert_allclose(city["raw"].to_numpy(float), (parts[0] + parts[1]).to_numpy(float), rtol=1e-9)
    again = run_province(settings, params)
    assert not again.built and again.written["series values"] == 0  # the same build: reused, nothing new


# ------------------------------------------------------------------------------------------------- series
def _synthetic(start: str, months: int, *, seed: int) -> pd.DataFrame:
    idx = pd.period_range(start, periods=months, freq="M")
    rng = np.random.default_rng(seed)
    seasonal = np.array([-1.5, -4.0, 4.5, 1.0, 0.5, -0.5, -1.0, -0.5, 1.5, -0.5, 0.5, 0.0])[idx.month - 1]
    values = 50 + 2.0 * np.sin(np.arange(months) / 9.0) + seasonal + rng.normal(0, 0.4, months)
    return pd.DataFrame({"period": idx.astype(str), "raw": values})


KEYS = [f"pmi/new_orders/district/44010{i}" for i in range(1, 7)]
BAD = "electricity/total/district/440111"  # zeros in a log-adjusted level: fails, the others go on


def _series_store(path) -> Store:
    store = Store.open(f"sqlite:///{path}")
    with store.begin() as conn:
        for i, key in enumerate(KEYS):
            write_series(conn, _synthetic("2014-01", 72, seed=i).assign(series_key=key), vintage=dt.date(2019, 12, 31),
                         columns=("raw",))
        write_series(conn, _synthetic("2014-01", 72, seed=9).assign(series_key=BAD, raw=0.0),
                     vintage=dt.date(2019, 12, 31), columns=("raw",))
    return store


def _adjusted(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    sa = pd.concat({k: read_series(store, k)["sa"] for k in KEYS})
    rows = store.read_frame(select(m.SeriesAdjustment.__table__)).set_index("series_key").sort_index()
    return sa, rows


@pytest.mark.x13
def test_adjustment_batch_on_dask_equals_the_local_pool(tmp_path, client):
    settings = _settings(tmp_path)
    vintage = dt.datetime(2020, 1, 31, 8)
    with _series_store(tmp_path / "local.sqlite") as local_store:
        local = adjust_series(local_store, settings, pattern="*", vintage=vintage, engine=LocalEngine(2))
        local_sa, local_rows = _adjusted(local_store)
    with _series_store(tmp_path / "dask.sqlite") as dask_store:
        dask = adjust_series(dask_store, settings, pattern="*", vintage=vintage, engine=DaskEngine(client, batch=2))
        dask_sa, dask_rows = _adjusted(dask_store)
    assert sorted(dask.adjusted) == sorted(local.adjusted) == KEYS
    assert list(dask.failed) == list(local.failed) == [BAD]
    pd.testing.assert_series_equal(dask_sa, local_sa, rtol=1e-12)
    same = ["status", "model", "light", "m7", "q", "fingerprint", "error"]
    pd.testing.assert_frame_equal(dask_rows[same], local_rows[same])


def test_forecast_batch_on_dask_equals_the_local_pool(tmp_path, client):
    settings = _settings(tmp_path, forecast__models="theta,snaive", forecast__horizon=3)
    origin = pd.Period("2019-12", "M")
    out = {}
    for name, engine in (("local", None), ("dask", DaskEngine(client, batch=2))):
        with _series_store(tmp_path / f"f{name}.sqlite") as store:
            report = forecast_series(store, settings, origin, keys=KEYS, workers=2, engine=engine)
            assert sorted(report.stored) == KEYS and not report.failed
            out[name] = store.read_frame(select(m.Forecast.__table__)).drop(columns=["created_at", "id"],
                                                                             errors="ignore")
    cols = ["series_key", "period"]
    local = out["local"].sort_values(cols).reset_index(drop=True)
    dask = out["dask"].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(dask, local, rtol=1e-12)


def test_track_record_on_dask_equals_the_local_pool(tmp_path, client):
    from monitor.track_record import fill_past_origins

    settings = _settings(tmp_path, forecast__models="theta,snaive", forecast__horizon=2, forecast__workers=2,
                         forecast__series=",".join(KEYS[:3]), forecast__key_series="", forecast__track_months=3)
    out = {}
    for name, engine in (("local", None), ("dask", DaskEngine(client, batch=2))):
        with _series_store(tmp_path / f"t{name}.sqlite") as store:
            report = fill_past_origins(store, settings, pd.Period("2019-12", "M"), nowcasts=False, engine=engine)
            assert report.forecasts == 3 * 3 * 2 and not report.failed  # series x origins x horizon
            out[name] = store.read_frame(select(m.Forecast.__table__)).drop(columns=["created_at"])
    cols = ["series_key", "origin", "period"]
    pd.testing.assert_frame_equal(out["dask"].sort_values(cols).reset_index(drop=True),
                                  out["local"].sort_values(cols).reset_index(drop=True), rtol=1e-12)


# ------------------------------------------------------------------------------------------------- a lost worker
def _kill_once(fn, marker: str, item):
    """Run ``fn``; the first call anywhere kills its own worker process first (SIGKILL: no clean-up)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return fn(item)
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


class _KillingEngine(DaskEngine):
    def __init__(self, client, marker: str) -> None:
        super().__init__(client, batch=2)
        self.marker = marker

    def map(self, fn, items, **kw):
        return super().map(functools.partial(_kill_once, fn, self.marker), items, **kw)


def _vintage_rows(store: Store, vintage: dt.datetime) -> int:
    frame = store.read_frame(select(func.count()).select_from(m.SeriesValue).where(m.SeriesValue.vintage == vintage))
    return int(frame.iloc[0, 0])


@pytest.mark.x13
def test_a_worker_killed_mid_run_changes_nothing(tmp_path, client):
    settings = _settings(tmp_path)
    vintage = dt.datetime(2020, 1, 31, 8)
    with _series_store(tmp_path / "local.sqlite") as store:
        adjust_series(store, settings, pattern="*", vintage=vintage, engine=LocalEngine(1))
        local_sa, local_rows = _adjusted(store)
        local_values = _vintage_rows(store, vintage)
    marker = tmp_path / "killed"
    with _series_store(tmp_path / "killed.sqlite") as store:
        report = adjust_series(store, settings, pattern="*", vintage=vintage,
                               engine=_KillingEngine(client, str(marker)))
        assert marker.exists()  # a worker did die
        sa, rows = _adjusted(store)
        counts = store.read_frame(select(m.SeriesAdjustment.series_key, func.count()).group_by(
            m.SeriesAdjustment.series_key))
        values = _vintage_rows(store, vintage)
    assert sorted(report.adjusted) == KEYS and list(report.failed) == [BAD]
    assert (counts.iloc[:, 1] == 1).all() and len(counts) == len(KEYS) + 1  # one diagnostics row per series
    assert values == local_values > 0  # the adjusted values written once
    pd.testing.assert_series_equal(sa, local_sa, rtol=1e-12)
    pd.testing.assert_frame_equal(rows[["status", "model", "fingerprint"]], local_rows[["status", "model",
                                                                                        "fingerprint"]])
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker
