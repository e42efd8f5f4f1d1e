"""The Dask workers' per-partition electricity work (issue 20): light to import, one thread, the same sums."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from monitor.indicators.electricity import festival_ordinals, meter_rows
from monitor.indicators.meter import sum_days

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")


def test_the_workers_task_module_imports_no_heavy_package():
    """A new worker imports the task's module: SciPy, statsmodels, SQLAlchemy or forecasting there cost seconds of
    CPU per worker process that more workers do not shrink."""
    code = ("import sys, monitor.engine.meter; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'statsmodels', 'sqlalchemy', 'forecasting', 'matplotlib'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def _two_keys(eid: np.ndarray, day: np.ndarray, kwh: np.ndarray, outside: np.ndarray) -> pd.DataFrame:
    """The earlier implementation: a group-by on (enterprise, month)."""
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    frame = pd.DataFrame({"enterprise_id": eid, "month": month, "kwh": kwh, "days": np.ones(len(kwh), np.int64),
                          "kwh_x": np.where(outside, kwh, 0.0), "days_x": outside.astype(np.int64)})
    sums = frame.groupby(["enterprise_id", "month"], sort=True).sum().reset_index()
    period = np.datetime_as_string(sums["month"].to_numpy().astype("datetime64[M]"), unit="M")
    return pd.DataFrame({"enterprise_id": sums["enterprise_id"].to_numpy(np.int64), "period": period.astype(object),
                         "kwh": sums["kwh"].to_numpy(float), "days": sums["days"].to_numpy(np.int64),
                         "kwh_x": sums["kwh_x"].to_numpy(float), "days_x": sums["days_x"].to_numpy(np.int64)})


def _running_sums(eid: np.ndarray, day: np.ndarray, kwh: np.ndarray, outside: np.ndarray) -> pd.DataFrame:
    """The definition, one reading at a time: each enterprise-month's kWh added in the readings' order."""
    month = day.astype("datetime64[D]").astype("datetime64[M]")
    sums: dict[tuple[int, str], list] = {}
    for e, m, v, o in zip(eid.tolist(), np.datetime_as_string(month, unit="M").tolist(), kwh.tolist(),
                          outside.tolist()):
        row = sums.setdefault((e, m), [0.0, 0, 0.0, 0])
        row[1] += 1
        row[3] += o
        if v == v:  # not NaN
            row[0] += v
            if o:
                row[2] += v
    keys = sorted(sums)
    return pd.DataFrame({"enterprise_id": np.array([k[0] for k in keys], np.int64),
                         "period": np.array([k[1] for k in keys], dtype=object),
                         "kwh": np.array([sums[k][0] for k in keys]), "days": np.array([sums[k][1] for k in keys]),
                         "kwh_x": np.array([sums[k][2] for k in keys]),
                         "days_x": np.array([sums[k][3] for k in keys])})


def test_the_sums_are_running_sums_in_the_readings_order_and_equal_the_group_by():
    """Bit for bit the plain sums in the readings' order (numpy.bincount); pandas' group-by (the earlier
    implementation, which adds with Kahan compensation) within a few units in the last place."""
    rng = np.random.default_rng(7)
    n = 50_000
    eid = rng.integers(-3, 2_000, n)
    day = rng.integers(-800, 80_000, n)  # 1967..2189: keys too sparse for dense bins, days too many for a table
    kwh = rng.lognormal(4, 2, n)
    kwh[::53] = np.nan
    outside = rng.random(n) < 0.85
    got = sum_days(eid, day, kwh, outside)
    assert got.equals(_running_sums(eid, day, kwh, outside))
    want = _two_keys(eid, day, kwh, outside)
    assert got[["enterprise_id", "period", "days", "days_x"]].equals(want[["enterprise_id", "period", "days", "days_x"]])
    for col in ("kwh", "kwh_x"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-14, atol=0)
    dense = rng.integers(0, 1_000, n)  # two months of a region: dense bins, each day's month from a table
    within = rng.integers(19_700, 19_760, n)
    assert sum_days(dense, within, kwh, outside).equals(_running_sums(dense, within, kwh, outside))


def test_a_partition_read_on_a_worker_equals_meter_rows(tmp_path):
    from monitor.engine.meter import read_meter

    rng = np.random.default_rng(3)
    days = pd.date_range("2019-12-01", "2020-03-31").to_numpy().astype("datetime64[ms]")
    frames = []
    for k in range(3):  # three files of one partition, e.g. three regions
        ids = np.repeat(np.arange(10 * k, 10 * k + 10), len(days))
        frame = pd.DataFrame({"enterprise_id": ids, "day": np.tile(days, 10), "kwh": rng.lognormal(6, 1, len(ids))})
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"part-{k}.parquet")
        frames.append(frame)
    whole = pd.concat(frames, ignore_index=True)
    got = read_meter([str(tmp_path / f"part-{k}.parquet") for k in range(3)], festival_ordinals((-7, 15)))
    assert got.equals(meter_rows(whole, (-7, 15)))
    assert (got["days_x"] < got["days"]).any()  # the Spring Festival of 2020-01-25 is left out of the _x sums


def _feed(users: int, regions: int, seed: int = 5) -> pd.DataFrame:
    """Daily readings of a national feed: users spread over regions at random, rows by user then day."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", "2024-02-29").to_numpy()
    region = rng.integers(0, regions, users).astype(str)
    return pd.DataFrame({"enterprise_id": np.repeat(np.arange(1, users + 1), len(days)),
                         "day": np.tile(days, users), "kwh": np.round(rng.lognormal(5, 1, users * len(days)), 1),
                         "region": np.repeat(region, len(days))})


def test_a_written_partition_is_one_row_group_and_reads_back_file_by_file(tmp_path):
    """The national feed's regions interleave: without a minimum the dataset writer cut a row group per region
    per input batch (about 1,000 rows each), and the partitions read back at twice the CPU."""
    from monitor.engine.meter import read_meter
    from monitor.store.archive import write_readings

    feed = _feed(users=6_000, regions=31)
    write_readings(feed, tmp_path)
    files = sorted(tmp_path.rglob("*.parquet"))
    assert len(files) == 2 * 31
    assert {pq.ParquetFile(f).metadata.num_row_groups for f in files} == {1}
    got = read_meter([str(f) for f in files], festival_ordinals((-7, 15)))
    want = meter_rows(pd.concat([pd.read_parquet(f, columns=["enterprise_id", "day", "kwh"]) for f in files],
                                ignore_index=True), (-7, 15))
    assert got.equals(want)  # the files added one by one: the sums of all their rows in one array, to the bit
    assert len(got) == 6_000 * 2


def test_the_workers_run_read_meter_and_nothing_of_dask_dataframe(tmp_path):
    """Dask's conversion of text columns to Arrow strings adds a task per partition whose function lives in
    dask.dataframe, which every worker would import (0.65 s of CPU per worker process)."""
    import dask

    from monitor.engine.electricity import meter_frame
    from monitor.store.archive import write_readings

    write_readings(_feed(users=300, regions=4), tmp_path)
    lazy = meter_frame(tmp_path)
    (optimised,) = dask.optimize(lazy)
    functions = {task.func for task in dict(optimised.__dask_graph__()).values() if hasattr(task, "func")}
    from monitor.engine.meter import read_meter

    assert functions == {read_meter}
    assert lazy.npartitions == 8  # a small archive: each month-and-region folder a partition
