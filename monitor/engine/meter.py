"""The per-partition work of the electricity archive: what a Dask worker imports to sum its readings.

Kept apart from :mod:`monitor.engine.electricity` and :mod:`monitor.indicators.electricity` on purpose: this
module imports numpy, pandas and pyarrow only.  A worker that unpickles a task imports the module of its
function; the other two bring SQLAlchemy, SciPy and statsmodels (through :mod:`forecasting`), several seconds
of CPU per worker process that do not shrink with more workers and weighed on every run of a cluster started
on demand (issue 20, ``benchmarks/README.md``).  The Spring Festival days come in as an argument, computed once
on the client.

The sums are :func:`monitor.indicators.meter.sum_days`, which the single-machine path
(:func:`monitor.indicators.meter_rows`) calls too, so both give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..indicators.meter import METER_META, sum_days

__all__ = ["METER_META", "read_meter"]

_COLUMNS = ["enterprise_id", "day", "kwh"]


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
        return METER_META.copy()
    # File by file, decoded in this thread: a worker is one core.  (``pyarrow.parquet.read_table`` goes through
    # the dataset scanner, which decodes on Arrow's thread pool while this thread reads -- more than one core
    # per worker even with use_threads=False, and three times the CPU of this reader.)
    table = pa.concat_tables([pq.ParquetFile(f, pre_buffer=False).read(columns=_COLUMNS, use_threads=False)
                              for f in files])
    if not table.num_rows:
        return METER_META.copy()
    day = table.column("day").to_numpy().astype("datetime64[D]").astype(np.int64)
    kwh = table.column("kwh").to_numpy().astype(float)
    outside = (~np.isin(day, festival) if festival is not None and len(festival)
               else np.ones(len(day), dtype=bool))
    return sum_days(table.column("enterprise_id").to_numpy().astype(np.int64), day, kwh, outside)
