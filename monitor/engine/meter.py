"""The per-partition work of the electricity archive: what a Dask worker imports to sum its readings.

Kept apart from :mod:`monitor.engine.electricity` and :mod:`monitor.indicators.electricity` on purpose: this
module imports numpy, pandas and pyarrow only.  A worker that unpickles a task imports the module of its
function; the other two bring SQLAlchemy, SciPy and statsmodels (through :mod:`forecasting`), several seconds
of CPU per worker process that do not shrink with more workers and weighed on every run of a cluster started
on demand (issue 20, ``benchmarks/README.md``).  The Spring Festival days come in as an argument, computed once
on the client.

The sums are :class:`monitor.indicators.meter.MonthSums`, file by file, which the single-machine path
(:func:`monitor.indicators.meter_rows`, through :func:`~monitor.indicators.meter.sum_days`) uses too, so both
give the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..indicators.meter import METER_META, MonthSums, dense_enough, sum_days

__all__ = ["METER_META", "read_meter"]

_COLUMNS = ["enterprise_id", "day", "kwh"]
_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def read_meter(files: list[str], festival: np.ndarray | None) -> pd.DataFrame:
    """One partition: read whole (month, region) folders of the archive and sum them by enterprise-month.

    Parameters
    ----------
    files
        Parquet files (``enterprise_id``, ``day``, ``kwh``).
    festival
        The days (since 1970-01-01, int64) left out of ``kwh_x`` / ``days_x``; None leaves out none.
    """
    import pyarrow.parquet as pq

    # File by file, decoded in this thread: a worker is one core.  (``pyarrow.parquet.read_table`` goes through
    # the dataset scanner, which decodes on Arrow's thread pool while this thread reads -- more than one core
    # per worker even with use_threads=False, and three times the CPU of this reader.)
    sources = [pq.ParquetFile(f, pre_buffer=False) for f in files]
    try:
        return _sum_files([s for s in sources if s.metadata.num_rows], festival)
    finally:
        for source in sources:
            source.close()


def _sum_files(sources: list[Any], festival: np.ndarray | None) -> pd.DataFrame:
    """The sums of these ``pyarrow.parquet.ParquetFile`` s, one file at a time when their statistics give the
    ranges of ids and days up front: :class:`MonthSums` takes numpy views of Arrow's buffers, and its buffers of
    one file's size serve every file, so the task touches little fresh memory (on a worker each new page is
    zeroed by the kernel: with two workers on one machine that weighed more than the sums, benchmarks/README.md).
    Without statistics (or with ids too far apart for dense bins) the files are read whole and summed by
    :func:`sum_days`: the same sums."""
    import pyarrow as pa

    if not sources:
        return METER_META.copy()
    ranges = [_ranges(s) for s in sources]
    if all(r is not None for r in ranges):
        id_range = (min(r[0] for r in ranges), max(r[1] for r in ranges))  # type: ignore[index]
        day_range = (min(r[2] for r in ranges), max(r[3] for r in ranges))  # type: ignore[index]
        rows = [s.metadata.num_rows for s in sources]
        if dense_enough(MonthSums.size(id_range, day_range), sum(rows)):
            sums = MonthSums(id_range, day_range, max(rows), festival)
            days = np.empty(max(rows), dtype=np.int64)
            for source, n in zip(sources, rows):
                table = _read(source)
                sums.add(table.column("enterprise_id").to_numpy(), _days(table, out=days[:n]),
                         table.column("kwh").to_numpy().astype(float, copy=False))
                del table
            return sums.frame()
    whole = pa.concat_tables([_read(s) for s in sources])
    day = _days(whole)
    return sum_days(whole.column("enterprise_id").to_numpy(), day, whole.column("kwh").to_numpy(),
                    ~np.isin(day, festival) if festival is not None else np.ones(len(day), dtype=bool))


def _read(source: Any) -> Any:
    table = source.read(columns=_COLUMNS, use_threads=False)
    return table if all(c.num_chunks <= 1 for c in table.columns) else table.combine_chunks()


def _per_day(arrow_type: Any) -> int:
    """The units of a day of an Arrow date or timestamp type (as numbers: days of date32, else ``unit``)."""
    import pyarrow as pa

    return 1 if pa.types.is_date32(arrow_type) else _PER_DAY[arrow_type.unit]


def _days(table: Any, out: np.ndarray | None = None) -> np.ndarray:
    """Days since 1970-01-01 (int64) of ``table``'s ``day`` column (dates or timestamps), rounded down as numpy
    does, into ``out`` when given."""
    import pyarrow as pa

    column = table.column("day")
    raw = column.cast(pa.int32() if pa.types.is_date32(column.type) else pa.int64()).to_numpy()
    return np.floor_divide(raw, _per_day(column.type), out=out, dtype=np.int64)


def _ranges(source: Any) -> tuple[int, int, int, int] | None:
    """(first id, last id, first day, last day) of a Parquet file from its row groups' statistics; None when
    a row group has none."""
    meta = source.metadata
    names = [meta.schema.column(j).name for j in range(meta.num_columns)]
    per_day = _per_day(source.schema_arrow.field("day").type)
    bounds: list[tuple[int, int, int, int]] = []
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if not group.num_rows:
            continue
        ids, day = group.column(names.index("enterprise_id")).statistics, group.column(names.index("day")).statistics
        if ids is None or day is None or not (ids.has_min_max and day.has_min_max):
            return None
        bounds.append((int(ids.min_raw), int(ids.max_raw), int(day.min_raw) // per_day, int(day.max_raw) // per_day))
    if not bounds:
        return None
    return (min(b[0] for b in bounds), max(b[1] for b in bounds), min(b[2] for b in bounds),
            max(b[3] for b in bounds))
