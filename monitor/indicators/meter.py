"""The enterprise-month sums of daily readings: the one implementation the store-free paths share.

:func:`monitor.indicators.meter_rows` (the single-machine path on a frame) calls :func:`sum_days`; the Dask
workers' partitions of the Parquet archive (:func:`monitor.engine.meter.read_meter`) add their files one by one
into the :class:`MonthSums` that :func:`sum_days` uses, so both give the same rows (each enterprise-month's kWh
added in the readings' order).  Pure numpy and pandas, nothing else imported: a Dask worker imports this module to run its task (the
rest of :mod:`monitor.indicators` brings :mod:`forecasting`, and with it SciPy and statsmodels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["METER_META", "MonthSums", "dense_enough", "sum_days"]


def _meter_meta() -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "period": pd.Series(dtype=object),
                         "kwh": pd.Series(dtype=float), "days": pd.Series(dtype=np.int64),
                         "kwh_x": pd.Series(dtype=float), "days_x": pd.Series(dtype=np.int64)})


#: The empty enterprise-month frame (the columns and dtypes of every partition).
METER_META = _meter_meta()


def _month(day: int) -> int:
    """Months since 1970-01 of a day since 1970-01-01."""
    return int(np.datetime64(day, "D").astype("datetime64[M]").astype(np.int64))


class MonthSums:
    """Daily readings added up per enterprise and month, chunk by chunk, into dense bins.

    The ids and days of every chunk to come must lie in ``ids`` and ``days`` (inclusive ranges).  Each chunk's
    readings are added in their order (``numpy.add.at``: a plain running sum per enterprise-month), so the
    sums of a partition added file by file are those of the partition's rows in one array, to the bit.  The
    per-reading arrays are buffers of ``rows`` readings allocated once and reused for every chunk, so a chunk
    allocates nothing: on a Dask worker every large temporary is fresh memory the kernel has to zero page by
    page, which costs more than the sums themselves and slows two workers on one machine more than one
    (``benchmarks/README.md``, issue 20).

    Parameters
    ----------
    ids
        The smallest and largest enterprise id.
    days
        The first and last day (days since 1970-01-01).
    rows
        The most readings one chunk will have.
    festival
        The days (since 1970-01-01) left out of ``kwh_x`` / ``days_x`` when :meth:`add` is given no
        ``outside`` flags.
    """

    def __init__(self, ids: tuple[int, int], days: tuple[int, int], rows: int,
                 festival: np.ndarray | None = None) -> None:
        self.id0, self.lo = int(ids[0]), int(days[0])
        self.first = _month(days[0])
        self.span = _month(days[1]) - self.first + 1
        self.bins = self.size(ids, days)
        self._month_of: np.ndarray | None = None  # the month (from ``first``) of each day from ``lo`` on
        if days[1] - days[0] < max(rows, 1 << 16):
            self._month_of = np.arange(days[0], days[1] + 1).astype("datetime64[D]").astype("datetime64[M]").astype(
                np.int64) - self.first
        self.kwh = np.zeros(self.bins)
        self.kwh_x = np.zeros(self.bins)
        self.days = np.zeros(self.bins, dtype=np.int64)
        self.days_x = np.zeros(self.bins)  # counted as floats (exact to 2**53): one add.at loop for all three
        rows = max(1, int(rows))
        self._key = np.empty(rows, dtype=np.int64)
        self._index = np.empty(rows, dtype=np.int64)
        self._month = np.empty(rows, dtype=np.int64)
        self._clean = np.empty(rows)
        self._weight = np.empty(rows)
        self._flag = np.empty(rows, dtype=bool)
        self._festival = festival
        self._outside = np.empty(rows, dtype=bool)
        self._outside_of: np.ndarray | None = None  # whether each day from ``lo`` on is outside the festival
        if self._month_of is not None:
            self._outside_of = (~np.isin(np.arange(days[0], days[1] + 1), festival) if festival is not None
                                else np.ones(len(self._month_of), dtype=bool))

    @staticmethod
    def size(ids: tuple[int, int], days: tuple[int, int]) -> int:
        """The bins (enterprise-months) of these ranges."""
        return (int(ids[1]) - int(ids[0]) + 1) * (_month(days[1]) - _month(days[0]) + 1)

    def add(self, enterprise_id: np.ndarray, day: np.ndarray, kwh: np.ndarray,
            outside: np.ndarray | None = None) -> None:
        """Add a chunk of readings (the arguments of :func:`sum_days`; at most ``rows`` of them; without
        ``outside``, the days not in the constructor's ``festival``)."""
        m = len(day)
        key, index, weight, flag = self._key[:m], self._index[:m], self._weight[:m], self._flag[:m]
        np.subtract(enterprise_id, self.id0, out=key)  # key = (id - id0) * span + month
        key *= self.span
        if self._month_of is not None and self._outside_of is not None:
            np.subtract(day, self.lo, out=index)
            if outside is None:  # mode="clip": the indices are in range, and "raise" copies ``out`` first
                outside = np.take(self._outside_of, index, out=self._outside[:m], mode="clip")
            np.take(self._month_of, index, out=self._month[:m], mode="clip")
            index = self._month[:m]
        else:  # days spread over more than a table would hold
            index[:] = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            index -= self.first
            if outside is None:
                outside = (~np.isin(day, self._festival) if self._festival is not None
                           else np.ones(m, dtype=bool))
        key += index
        np.isnan(kwh, out=flag)
        if flag.any():  # NaN: no kWh, the day still counted
            clean = self._clean[:m]
            np.copyto(clean, kwh)
            np.copyto(clean, 0.0, where=flag)
            kwh = clean
        np.add.at(self.kwh, key, kwh)
        np.add.at(self.days, key, 1)
        weight[:] = 0.0
        np.copyto(weight, kwh, where=outside)
        np.add.at(self.kwh_x, key, weight)
        np.copyto(weight, outside)
        np.add.at(self.days_x, key, weight)

    def frame(self) -> pd.DataFrame:
        """The enterprise-months with at least one reading (the frame :func:`sum_days` returns)."""
        present = np.flatnonzero(self.days)
        return _frame(present, self.span, self.first, self.id0, self.kwh[present], self.days[present],
                      self.kwh_x[present], self.days_x[present])


def _frame(key: np.ndarray, span: int, first: int, id0: int, kwh: np.ndarray, days: np.ndarray, kwh_x: np.ndarray,
           days_x: np.ndarray) -> pd.DataFrame:
    labels = np.datetime_as_string(np.arange(first, first + span).astype("datetime64[M]"), unit="M").astype(object)
    return pd.DataFrame({"enterprise_id": key // span + id0, "period": labels[key % span], "kwh": kwh,
                         "days": days.astype(np.int64), "kwh_x": kwh_x, "days_x": days_x.astype(np.int64)})


def dense_enough(bins: int, rows: int) -> bool:
    """Whether ``bins`` enterprise-month bins are few enough for ``rows`` readings (else keys are numbered)."""
    return bins <= max(2 * rows, 1 << 20)


def sum_days(enterprise_id: np.ndarray, day: np.ndarray, kwh: np.ndarray, outside: np.ndarray) -> pd.DataFrame:
    """Daily readings summed per enterprise and month.

    Parameters
    ----------
    enterprise_id
        int64 ids, one per reading.
    day
        Days since 1970-01-01 (int64).
    kwh
        The readings (float; NaN allowed: no kWh, the day still counted in ``days``).
    outside
        Whether each reading is outside the Spring Festival window (counted in ``kwh_x`` / ``days_x``).

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id``, ``period`` (``YYYY-MM`` text), ``kwh``, ``days``, ``kwh_x``, ``days_x``, sorted by
        enterprise and month.

    Notes
    -----
    :class:`MonthSums` over the readings' id and day ranges: one int64 key per (enterprise, month), in that
    order, and running sums in the readings' order into dense bins -- about a third of the CPU and of the
    memory touched of a pandas group-by (hash table, sort, a frame of five columns copied into blocks).  Keys
    too sparse for dense bins (ids far apart over many months) are numbered first (``pandas.factorize``).
    """
    n = len(day)
    if not n:
        return _meter_meta()
    ids = np.asarray(enterprise_id, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    kwh = np.asarray(kwh, dtype=float)
    outside = np.asarray(outside, dtype=bool)
    id_range, day_range = (int(ids.min()), int(ids.max())), (int(day.min()), int(day.max()))
    if dense_enough(MonthSums.size(id_range, day_range), n):
        sums = MonthSums(id_range, day_range, n)
        sums.add(ids, day, kwh, outside)
        return sums.frame()
    # sparse: the keys present numbered in order, then the same running sums over those numbers
    first = _month(day_range[0])
    span = _month(day_range[1]) - first + 1
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - first
    codes, uniques = pd.factorize((ids - id_range[0]) * span + month, sort=True)
    clean = np.where(np.isnan(kwh), 0.0, kwh)
    bins = len(uniques)
    total, total_x = np.zeros(bins), np.zeros(bins)
    np.add.at(total, codes, clean)
    np.add.at(total_x, codes, np.where(outside, clean, 0.0))
    return _frame(np.asarray(uniques, dtype=np.int64), span, first, id_range[0], total,
                  np.bincount(codes, minlength=bins), total_x, np.bincount(codes[outside], minlength=bins))
