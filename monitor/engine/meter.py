"""The per-partition work of the electricity archive: what a Dask worker imports to sum its readings.

Kept apart from :mod:`monitor.engine.electricity` and :mod:`monitor.indicators.electricity` on purpose: this
module imports numpy, pandas and pyarrow only.  A worker that unpickles a task imports the module of its
function; the other two bring SQLAlchemy, SciPy and statsmodels (through :mod:`forecasting`), several seconds
of CPU per worker process that do not shrink with more workers and weighed on every run of a cluster started
on demand (issue 20, ``benchmarks/README.md``).  The Spring Festival days come in as an argument, computed once
on the client.

:func:`sum_days` is the single implementation of the enterprise-month sums: the single-machine path
(:func:`monitor.indicators.meter_rows`) calls it too, so both give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["METER_META", "read_meter", "sum_days"]

_COLUMNS = ["enterprise_id", "day", "kwh"]


def _meter_meta() -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "period": pd.Series(dtype=object),
                         "kwh": pd.Series(dtype=float), "days": pd.Series(dtype=np.int64),
                         "kwh_x": pd.Series(dtype=float), "days_x": pd.Series(dtype=np.int64)})


#: The empty enterprise-month frame (the columns and dtypes of every partition).
METER_META = _meter_meta()


def sum_days(enterprise_id: np.ndarray, day: np.ndarray, kwh: np.ndarray, outside: np.ndarray) -> pd.DataFrame:
    """Daily readings summed per enterprise and month.

    Parameters
    ----------
    enterprise_id
        int64 ids, one per reading.
    day
        Days since 1970-01-01 (int64).
    kwh
        The readings (float; NaN allowed).
    outside
        Whether each reading is outside the Spring Festival window (counted in ``kwh_x`` / ``days_x``).

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id``, ``period`` (``YYYY-MM`` text), ``kwh``, ``days``, ``kwh_x``, ``days_x``, sorted by
        enterprise and month.
    """
    if not len(day):
        return _meter_meta()
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    # one int64 key per (enterprise, month), in the same order: a one-key group-by costs a fifth of a two-key
    # one, and the sums are the same (the same rows in the same order in every group)
    first = int(month.min())
    span = int(month.max()) - first + 1
    ids = np.asarray(enterprise_id, dtype=np.int64)
    frame = pd.DataFrame({"key": ids * span + (month - first), "kwh": kwh, "days": np.ones(len(kwh), dtype=np.int64),
                          "kwh_x": np.where(outside, kwh, 0.0), "days_x": outside.astype(np.int64)})
    sums = frame.groupby("key", sort=True).sum()
    key = sums.index.to_numpy(np.int64)
    period = np.datetime_as_string((key % span + first).astype("datetime64[M]"), unit="M")
    return pd.DataFrame({"enterprise_id": key // span, "period": period.astype(object),
                         "kwh": sums["kwh"].to_numpy(float), "days": sums["days"].to_numpy(np.int64),
                         "kwh_x": sums["kwh_x"].to_numpy(float), "days_x": sums["days_x"].to_numpy(np.int64)})


def read_meter(files: list[str], festival: np.ndarray | None) -> pd.DataFrame:
    """One partition: read whole (month, region) folders of the archive and sum them by enterprise-month.

    Parameters
    ----------
    files
        Parquet files (``enterprise_id``, ``day``, ``kwh``).
    festival
        The days (since 1970-01-01, int64) left out of ``kwh_x`` / ``days_x``; None leaves out none.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not files:
        return _meter_meta()
    # File by file, decoded in this thread: a worker is one core.  (``pyarrow.parquet.read_table`` goes through
    # the dataset scanner, which decodes on Arrow's thread pool while this thread reads -- more than one core
    # per worker even with use_threads=False, and three times the CPU of this reader.)
    table = pa.concat_tables([pq.ParquetFile(f, pre_buffer=False).read(columns=_COLUMNS, use_threads=False)
                              for f in files])
    if not table.num_rows:
        return _meter_meta()
    day = table.column("day").to_numpy().astype("datetime64[D]").astype(np.int64)
    kwh = table.column("kwh").to_numpy().astype(float)
    outside = (~np.isin(day, festival) if festival is not None and len(festival)
               else np.ones(len(day), dtype=bool))
    return sum_days(table.column("enterprise_id").to_numpy().astype(np.int64), day, kwh, outside)
