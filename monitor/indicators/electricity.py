"""Electricity indicators and stopped / semi-stopped enterprises (METHODOLOGY 6.1 and 6.2).

Pure functions from pandas frames (the ``enterprise``, ``electricity_reading`` and ``enterprise_month``
tables) to tidy pandas frames; no database, no I/O.  Growth rates follow the matched-sample and
January-February rules of :mod:`monitor.indicators.monitoring`, and the frames have its tidy layout.

Electricity
    Each enterprise's month is the sum of its daily readings (``kwh``) over the days with a reading
    (``days``).  ``electricity/total/...`` is the month's total over every firm with a reading (kWh; the
    panel rotates, so compare totals over time with care: the growth rates are the comparable measure);
    ``electricity/yoy/...`` is the matched-sample growth on the same month a year before (in February the
    January-February cumulative, no January row); ``electricity/contribution/...`` is a domain's part of the
    city's growth in percentage points (its matched firms' change over the city's matched total a year
    before), so the districts' (or industries') contributions add up to the city's growth.

Baseline and ratio (METHODOLOGY 6.2, 8 item 4)
    An enterprise's *baseline* for month *t* is the median of its average daily consumption in the same
    calendar month of the previous ``baseline_years`` years (those of them with readings; none gives no
    baseline).  For January and February the yearly value is the average daily consumption over January
    and February together, so the baseline does not depend on the month the Spring Festival fell in.  The
    *ratio* is the month's own average daily consumption over the baseline.  Average daily figures remove
    the length of the month (31-day January against a 28-day February, leap years) and days without a
    reading.

    The pooled January-February baseline alone still leaves the festival in the current month: a plant
    that shuts for two weeks reads at about 55 % of normal in its festival month, and the pooled baseline
    is itself about 25 % below a normal month, so a semi-stopped plant's other month could read above 50 %.
    So the averages (current month and baseline years alike) also leave out the days of
    ``festival_window`` (default 7 days before to 15 days after 正月初一, the usual shutdown and the
    return of migrant workers by 元宵); ``festival_window=None`` gives the plain rule.  The window can
    reach into March; every month is treated the same way.  ``kwh`` and ``days`` in ``firms`` and every
    total and growth rate use all days.

Inferred status
    ``ratio < stop_threshold`` (default 0.10) is *stopped*, ``ratio < semi_threshold`` (0.50)
    *semi-stopped*, anything else *normal*; a firm-month without a ratio has no inferred status.  The
    methodology also counts a firm reporting zero output as stopped and one reporting a capacity
    utilisation below 50 % as semi-stopped: those are the firms' own reports, counted here as the
    *reported* status (``production_status`` of ``enterprise_month``), side by side with the inferred one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..calendar import spring_festival_dates
from .meter import sum_days
from .monitoring import (
    BREAKDOWNS,
    Breakdown,
    MonitoringDataError,
    MonthsArg,
    _concat,
    _Domains,
    _enterprise_table,
    _firm_positions,
    _Grid,
    _lag,
    _matched_growth,
    _matrix,
    _month_ordinals,
    _require,
    _tidy,
    _wanted,
    _window,
    _window_mask,
)

__all__ = [
    "METER_COLUMNS",
    "festival_days",
    "meter_rows",
    "STATUSES",
    "ElectricityResult",
    "electricity_indicators",
    "infer_status",
    "production_status_indicators",
    "status_enterprises",
]

#: Production statuses, in order of severity (codes 0, 1, 2).
STATUSES: tuple[str, ...] = ("normal", "semi_stopped", "stopped")


@dataclass(frozen=True)
class ElectricityResult:
    """What :func:`electricity_indicators` returns.

    Attributes
    ----------
    series : pandas.DataFrame
        Tidy frame (module docstring of :mod:`~monitor.indicators.monitoring`) with the measures ``total``
        (kWh, ``n`` = firms with readings) and ``yoy`` (percent, ``n`` = matched firms); keys
        ``electricity/total/city``, ``electricity/yoy/district/440106``, ``electricity/yoy/industry/36`` ...
    firms : pandas.DataFrame
        One row per enterprise and requested month with readings: ``enterprise_id``, ``period``, ``kwh``,
        ``days`` (days with a reading), ``kwh_per_day``, ``baseline`` (kWh per day; NaN without history),
        ``ratio`` and ``inferred_status`` (``normal`` / ``semi_stopped`` / ``stopped``, missing without a
        ratio).  Pass it (or the result) to :func:`production_status_indicators`.
    """

    series: pd.DataFrame
    firms: pd.DataFrame


def _check_thresholds(stop_threshold: float, semi_threshold: float) -> None:
    if not 0 < stop_threshold <= semi_threshold:
        raise MonitoringDataError(f"the thresholds must satisfy 0 < stop_threshold <= semi_threshold (ratios to the "
                                  f"baseline); got stop_threshold={stop_threshold}, semi_threshold={semi_threshold}")


def infer_status(ratio: pd.Series | np.ndarray, *, stop_threshold: float = 0.10,
                 semi_threshold: float = 0.50) -> np.ndarray:
    """Production status inferred from the ratio of electricity use to the enterprise's baseline.

    Parameters
    ----------
    ratio
        Ratios to the baseline (NaN where unknown).
    stop_threshold, semi_threshold
        ``ratio < stop_threshold`` is ``stopped``, ``ratio < semi_threshold`` ``semi_stopped``.

    Returns
    -------
    numpy.ndarray
        Object array of ``normal`` / ``semi_stopped`` / ``stopped``, ``None`` where the ratio is NaN.
    """
    _check_thresholds(stop_threshold, semi_threshold)
    code = _status_codes(np.asarray(ratio, dtype=float), stop_threshold, semi_threshold)
    return np.array([*STATUSES, None], dtype=object)[code]


def _status_codes(ratio: np.ndarray, stop: float, semi: float) -> np.ndarray:
    """0 normal, 1 semi-stopped, 2 stopped, -1 unknown."""
    code = np.where(ratio < stop, 2, np.where(ratio < semi, 1, 0))
    return np.where(np.isnan(ratio), -1, code)


def _days(days: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of a column of dates (datetime64, date objects or ``YYYY-MM-DD`` text)."""
    arr = days.to_numpy()
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise MonitoringDataError(f"day must be given on every reading; {int(np.isnat(arr).sum())} are empty")
        return arr.astype("datetime64[D]").astype(np.int64)
    codes, uniques = pd.factorize(days, use_na_sentinel=True)  # date objects or text: convert the few uniques
    if (codes < 0).any():
        raise MonitoringDataError(f"day must be given on every reading; {int((codes < 0).sum())} are empty")
    try:
        parsed = pd.to_datetime(pd.Index(uniques).astype(str), format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise MonitoringDataError(f"day must be a date (YYYY-MM-DD); got values like {list(uniques[:3])}") from exc
    return np.asarray(parsed.to_numpy().astype("datetime64[D]").astype(np.int64))[codes]


def _festival_days(day: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """Whether each day (days since 1970-01-01) is within ``window`` days of a Spring Festival."""
    lo, hi = int(day.min()), int(day.max())
    sf = spring_festival_dates().to_numpy().astype("datetime64[D]").astype(np.int64)
    idx = (sf[:, None] + np.arange(window[0], window[1] + 1)[None, :]).ravel() - lo
    flags = np.zeros(hi - lo + 1, dtype=bool)
    flags[idx[(idx >= 0) & (idx <= hi - lo)]] = True
    return flags[day - lo]


#: Columns of pre-aggregated monthly meter data (what a database can sum for :func:`electricity_indicators`).
METER_COLUMNS = ("enterprise_id", "period", "kwh", "days", "kwh_x", "days_x")


def festival_days(first: str | pd.Timestamp, last: str | pd.Timestamp,
                  window: tuple[int, int] = (-7, 15)) -> pd.DatetimeIndex:
    """The days from ``first`` to ``last`` within ``window`` days of a Spring Festival.

    A database can leave these out when it sums readings into :data:`METER_COLUMNS`
    (``kwh_x``/``days_x``), so the electricity indicators need not read every day.
    """
    days = pd.date_range(first, last, freq="D")
    if not len(days):
        return days
    ordinals = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days[_festival_days(ordinals, window)]


def meter_rows(readings: pd.DataFrame, window: tuple[int, int] | None = (-7, 15)) -> pd.DataFrame:
    """Daily readings summed per enterprise and month into :data:`METER_COLUMNS` rows.

    What the store's query (:func:`monitor.store.monitoring.monthly_meter`) sums in the database, done on a
    frame: the scale-out engine runs it on every partition of the Parquet archive (each partition holds whole
    enterprise-months; the sums are additive, so partial sums of a split month add up to the same rows).

    Parameters
    ----------
    readings
        ``enterprise_id``, ``day`` (dates), ``kwh`` (one row per enterprise and day).
    window
        Days around each Spring Festival left out of ``kwh_x`` / ``days_x`` (None: none).

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id, period`` (``YYYY-MM`` text), ``kwh``, ``days``, ``kwh_x``, ``days_x``, sorted by
        enterprise and month.
    """
    _require(readings, ["enterprise_id", "day", "kwh"], "readings")
    if not len(readings):
        return sum_days(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    day = _days(readings["day"])
    kwh = pd.to_numeric(readings["kwh"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    outside = ~_festival_days(day, window) if window is not None else np.ones(len(kwh), dtype=bool)
    return sum_days(readings["enterprise_id"].to_numpy(np.int64), day, kwh, outside)


def festival_ordinals(window: tuple[int, int] | None) -> np.ndarray | None:
    """The days (since 1970-01-01, int64, sorted) within ``window`` days of a Spring Festival (None: None): what
    :func:`monitor.engine.meter.read_meter` leaves out of ``kwh_x`` / ``days_x``, as :func:`meter_rows` does."""
    if window is None:
        return None
    sf = spring_festival_dates().to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.unique((sf[:, None] + np.arange(window[0], window[1] + 1)[None, :]).ravel())


@dataclass(frozen=True)
class _Meter:
    grid: _Grid
    kwh: np.ndarray  # firm x month totals
    days: np.ndarray  # days with a reading
    kwh_x: np.ndarray  # the same outside the Spring Festival window
    days_x: np.ndarray
    wanted: np.ndarray  # requested month ordinals


def _on_grid(f: np.ndarray, t_ord: np.ndarray, values: dict[str, np.ndarray], ids: np.ndarray,
             wanted_arg: MonthsArg, back: int) -> _Meter:
    """Sum per-row ``kwh``, ``days``, ``kwh_x``, ``days_x`` into firm x month matrices on a month grid."""
    span = np.array([t_ord.min(), t_ord.max()]) if len(t_ord) else np.zeros(0, dtype=np.int64)
    requested = _wanted(wanted_arg, span) if wanted_arg is not None else None
    grid = _Grid.covering(span, requested if requested is not None else span, back=back)
    F, T = len(ids), grid.T
    flat = f * np.int64(T) + grid.positions(t_ord)
    sums = {c: np.bincount(flat, weights=v, minlength=F * T).reshape(F, T) for c, v in values.items()}
    days, days_x = sums["days"].astype(np.int64), sums["days_x"].astype(np.int64)
    if requested is None:
        requested = grid.ordinals[(days > 0).any(axis=0)]
    return _Meter(grid, sums["kwh"], days, sums["kwh_x"], days_x, requested)


def _monthly_electricity(readings: pd.DataFrame, ids: np.ndarray, wanted_arg: MonthsArg, back: int,
                         window: tuple[int, int] | None) -> _Meter:
    """Firm x month sums of daily readings (or of :data:`METER_COLUMNS` rows), all days and outside the
    Spring Festival window."""
    if "period" in readings.columns and "days" in readings.columns:
        return _monthly_from_meter(readings, ids, wanted_arg, back)
    _require(readings, ["enterprise_id", "day", "kwh"], "readings")
    day = _days(readings["day"])
    t_ord = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    kwh = pd.to_numeric(readings["kwh"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~(kwh >= 0)
    if bad.any():
        raise MonitoringDataError(f"kwh must be a non-negative number; {int(bad.sum())} readings are negative or "
                                  f"empty (e.g. {readings.loc[bad, 'kwh'].head(3).tolist()}): fix or drop them")
    f = _firm_positions(ids, readings["enterprise_id"], "the readings frame")
    ones = np.ones(len(kwh))
    outside = ~_festival_days(day, window) if window is not None and len(day) else np.ones(len(kwh), dtype=bool)
    meter = _on_grid(f, t_ord, {"kwh": kwh, "days": ones, "kwh_x": np.where(outside, kwh, 0.0),
                                "days_x": outside.astype(float)}, ids, wanted_arg, back)
    month_days = pd.PeriodIndex.from_ordinals(meter.grid.ordinals, freq="M").days_in_month.to_numpy()
    over = meter.days > month_days[None, :]
    if over.any():
        fi, ti = np.nonzero(over)
        raise MonitoringDataError(f"each enterprise has one reading a day; enterprise {ids[fi[0]]} has "
                                  f"{meter.days[fi[0], ti[0]]} readings in "
                                  f"{pd.PeriodIndex.from_ordinals([int(meter.grid.ordinals[ti[0]])], freq='M')[0]} "
                                  f"({int(over.sum())} firm-months repeat days): sum meters per day before passing them")
    return meter


def _monthly_from_meter(meter: pd.DataFrame, ids: np.ndarray, wanted_arg: MonthsArg, back: int) -> _Meter:
    """The same firm x month sums from pre-aggregated :data:`METER_COLUMNS` rows."""
    _require(meter, list(METER_COLUMNS), "monthly meter data")
    t_ord = _month_ordinals(meter["period"], "monthly meter data")
    f = _firm_positions(ids, meter["enterprise_id"], "the monthly meter data")
    values = {c: pd.to_numeric(meter[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
              for c in ("kwh", "days", "kwh_x", "days_x")}
    if not all((v >= 0).all() for v in values.values()):
        raise MonitoringDataError("monthly meter data must hold non-negative kWh and day counts; fix the query "
                                  "that summed them")
    return _on_grid(f, t_ord, values, ids, wanted_arg, back)


def _baseline(kwh: np.ndarray, days: np.ndarray, grid: _Grid, years: int) -> tuple[np.ndarray, np.ndarray]:
    """Average daily kWh per firm-month and its baseline (module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_day = np.where(days > 0, kwh / days, np.nan)
    moy = grid.month_of_year
    # January-February pooled daily average, placed on both months of each year.
    partner = np.arange(grid.T) + np.where(moy == 1, 1, np.where(moy == 2, -1, 0))
    has_partner = (partner >= 0) & (partner < grid.T)
    partner = np.clip(partner, 0, max(grid.T - 1, 0))
    pk = np.where(has_partner[None, :], kwh[:, partner], 0.0)
    pdays = np.where(has_partner[None, :], days[:, partner], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.where(days + pdays > 0, (kwh + pk) / (days + pdays), np.nan)
    basis = np.where(((moy == 1) | (moy == 2))[None, :], pooled, per_day)
    lags = np.sort(np.stack([_lag(basis, 12 * y, np.nan) for y in range(1, years + 1)]), axis=0)  # NaN last
    k = (~np.isnan(lags)).sum(axis=0)  # years with history
    lo = np.take_along_axis(lags, np.maximum((k - 1) // 2, 0)[None], axis=0)[0]  # the middle one or two
    hi = np.take_along_axis(lags, np.minimum(k // 2, years - 1)[None], axis=0)[0]
    return per_day, np.where(k > 0, (lo + hi) / 2, np.nan)


def electricity_indicators(
    readings: pd.DataFrame,
    enterprises: pd.DataFrame,
    months: MonthsArg = None,
    *,
    baseline_years: int = 2,
    stop_threshold: float = 0.10,
    semi_threshold: float = 0.50,
    breakdowns: Sequence[Breakdown] = BREAKDOWNS,
    combine_jan_feb: bool = True,
    festival_window: tuple[int, int] | None = (-7, 15),
) -> ElectricityResult:
    """Monthly electricity totals, matched-sample growth and each enterprise's ratio to its baseline.

    Parameters
    ----------
    readings
        The ``electricity_reading`` table: ``enterprise_id``, ``day`` (date), ``kwh`` (one row per
        enterprise and day, meters already summed).  It must reach back ``baseline_years`` years (and one
        year for growth rates) before the first requested month.
    enterprises
        The ``enterprise`` table: ``id``, ``district_code``, ``industry_code``, ``size_class``.
    months
        Months to report (``YYYY-MM`` or ``Period``); default every month with readings.
    baseline_years
        Years of history behind the baseline (METHODOLOGY 6.2: 2).
    stop_threshold, semi_threshold
        Ratios below which a firm-month is inferred stopped / semi-stopped (``firms.inferred_status``).
    breakdowns
        Among :data:`~monitor.indicators.monitoring.BREAKDOWNS`.
    combine_jan_feb
        January-February rule for the growth rates (no January growth; see the module docstring of
        :mod:`~monitor.indicators.monitoring`).
    festival_window
        Days ``(first, last)`` around each Spring Festival (day 0) left out of the average daily
        consumption behind the baseline and the ratio (module docstring); None keeps every day.

    Returns
    -------
    ElectricityResult
        ``series`` (tidy) and ``firms`` (enterprise-months with baseline, ratio and inferred status).

    Raises
    ------
    MonitoringDataError
        Missing columns, unknown enterprise ids, negative or empty kWh, repeated days, bad thresholds.
    """
    _check_thresholds(stop_threshold, semi_threshold)
    if baseline_years < 1:
        raise MonitoringDataError(f"baseline_years must be at least 1; got {baseline_years}")
    if festival_window is not None and not festival_window[0] <= 0 <= festival_window[1]:
        raise MonitoringDataError(f"festival_window must be (days before, days after) the Spring Festival around day 0, "
                                  f"e.g. (-7, 15); got {festival_window}: or None to keep every day")
    ent = _enterprise_table(enterprises)
    ids = ent["id"].to_numpy(np.int64)
    meter = _monthly_electricity(readings, ids, months, max(13, 12 * baseline_years), festival_window)
    grid, kwh, days, wanted = meter.grid, meter.kwh, meter.days, meter.wanted
    present = days > 0
    domains = _Domains.build(ent, breakdowns)

    wmask = _window_mask(present, grid, combine=combine_jan_feb)
    matched = wmask & _lag(wmask, 12, False)
    xw = _window(kwh, grid, combine=combine_jan_feb)
    (yoy,) = _matched_growth(domains, [xw], matched)
    all_cols = grid.selected(wanted)
    growth_cols = grid.selected(wanted, drop_january=combine_jan_feb)
    series = _concat([
        _tidy("electricity", "total", domains, grid, all_cols,
              np.where(domains.sum(present) > 0, domains.sum(kwh), np.nan), domains.sum(present)),
        _tidy("electricity", "yoy", domains, grid, growth_cols, yoy, domains.sum(matched)),
        _tidy("electricity", "contribution", domains, grid, growth_cols, _contributions(domains, xw, matched),
              domains.sum(matched)),
    ])

    per_day, baseline = _baseline(meter.kwh_x, meter.days_x, grid, baseline_years)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(baseline > 0, per_day / baseline, np.nan)
    fi, ci = np.nonzero(present[:, all_cols])
    ti = all_cols[ci]
    r = ratio[fi, ti]
    firms = pd.DataFrame({
        "enterprise_id": ids[fi],
        "period": pd.PeriodIndex.from_ordinals(grid.ordinals[ti], freq="M"),
        "kwh": kwh[fi, ti],
        "days": days[fi, ti].astype(np.int64),
        "kwh_per_day": per_day[fi, ti],
        "baseline": baseline[fi, ti],
        "ratio": r,
        "inferred_status": pd.Categorical.from_codes(_status_codes(r, stop_threshold, semi_threshold),
                                                     categories=list(STATUSES)),
    }).sort_values(["period", "enterprise_id"], kind="stable").reset_index(drop=True)
    return ElectricityResult(series, firms)


def _contributions(domains: _Domains, xw: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """Each domain's contribution to the city's matched-sample growth, in percentage points: its matched
    firms' change on the year over the city's matched total a year earlier.  The domains of one breakdown
    partition the city's firms, so their contributions add up to the city's growth (whose own row is the
    growth itself); a rotating panel's totals (``electricity/total``) would not."""
    num = domains.sum(np.where(matched, xw, 0.0))
    den = domains.sum(np.where(matched, _lag(xw, 12, np.nan), 0.0))
    city = den[np.flatnonzero(domains.breakdown == "city")[:1]]
    if city.size == 0:
        return np.full_like(num, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((city > 0) & (den > 0), 100.0 * (num - den) / city, np.nan)


# --------------------------------------------------------------------------------------------- status
def _ratios(electricity: ElectricityResult | pd.DataFrame | None) -> pd.DataFrame | None:
    if electricity is None:
        return None
    frame = electricity.firms if isinstance(electricity, ElectricityResult) else electricity
    _require(frame, ["enterprise_id", "period", "ratio"], "electricity ratios")
    return frame


def _reported_codes(monthly: pd.DataFrame) -> np.ndarray:
    codes, uniques = pd.factorize(monthly["production_status"], use_na_sentinel=True)
    table = pd.Index(list(STATUSES)).get_indexer(pd.Index(uniques).astype(str))
    if (table < 0).any():
        raise MonitoringDataError(f"production_status must be one of {list(STATUSES)}; got "
                                  f"{sorted(str(u) for u, p in zip(uniques, table, strict=True) if p < 0)[:10]}")
    return np.append(table, -1)[codes]


def production_status_indicators(
    monthly: pd.DataFrame,
    enterprises: pd.DataFrame,
    electricity: ElectricityResult | pd.DataFrame | None = None,
    *,
    months: MonthsArg = None,
    stop_threshold: float = 0.10,
    semi_threshold: float = 0.50,
    breakdowns: Sequence[Breakdown] = ("city", "district"),
) -> pd.DataFrame:
    """Counts and shares of stopped and semi-stopped enterprises, reported and inferred from electricity.

    *Reported*: the ``production_status`` of ``enterprise_month``; the share is over the firms that
    reported a status that month.  *Inferred*: from each firm's ratio of electricity use to its baseline
    (module docstring); the share is over the firms with a ratio that month.  Both are unweighted counts
    of sample firms.  :func:`status_enterprises` lists the firms behind every count.

    Parameters
    ----------
    monthly
        The ``enterprise_month`` table: ``enterprise_id``, ``period``, ``production_status``.
    enterprises
        The ``enterprise`` table.
    electricity
        :func:`electricity_indicators`' result or its ``firms`` frame (``enterprise_id``, ``period``,
        ``ratio``); None for the reported counts only.
    months
        Months to report; default every month of ``monthly`` (and of ``electricity``).
    stop_threshold, semi_threshold
        Thresholds on the ratio (the ``inferred_status`` of ``electricity`` is not reused, so these rule).
    breakdowns
        Default city and district.

    Returns
    -------
    pandas.DataFrame
        Tidy frame with the measures ``stopped_count``, ``semi_stopped_count``, ``stopped_share``,
        ``semi_stopped_share`` (percent) and the same prefixed ``inferred_``; ``n`` is the number of firms
        with a (reported or inferred) status; keys ``status/<measure>/...``, e.g.
        ``status/stopped_share/district/440112``.
    """
    _check_thresholds(stop_threshold, semi_threshold)
    _require(monthly, ["enterprise_id", "period", "production_status"], "monthly")
    ent = _enterprise_table(enterprises)
    ids = ent["id"].to_numpy(np.int64)
    ratios = _ratios(electricity)
    m_ord = _month_ordinals(monthly["period"], "period")
    e_ord = _month_ordinals(ratios["period"], "period") if ratios is not None else np.zeros(0, dtype=np.int64)
    wanted = _wanted(months, np.concatenate([m_ord, e_ord]))
    grid = _Grid.covering(m_ord, e_ord, wanted)
    shape = (len(ent), grid.T)
    domains = _Domains.build(ent, breakdowns)
    cols = grid.selected(wanted)
    sources = [("", _matrix(_firm_positions(ids, monthly["enterprise_id"], "the monthly frame"),
                            grid.positions(m_ord), _reported_codes(monthly).astype(float), shape, "the monthly frame"))]
    if ratios is not None:
        r = pd.to_numeric(ratios["ratio"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        codes = _status_codes(r, stop_threshold, semi_threshold).astype(float)
        sources.append(("inferred_", _matrix(_firm_positions(ids, ratios["enterprise_id"], "the electricity frame"),
                                             grid.positions(e_ord), codes, shape, "the electricity frame")))
    frames = []
    for prefix, code in sources:
        n = domains.sum(code >= 0)
        for value, name in ((2, "stopped"), (1, "semi_stopped")):
            count = domains.sum(code == value)
            share = np.where(n > 0, 100.0 * count / np.where(n > 0, n, 1), np.nan)
            frames.append(_tidy("status", f"{prefix}{name}_count", domains, grid, cols,
                                np.where(n > 0, count, np.nan), n))
            frames.append(_tidy("status", f"{prefix}{name}_share", domains, grid, cols, share, n))
    return _concat(frames)


def status_enterprises(
    monthly: pd.DataFrame,
    enterprises: pd.DataFrame,
    electricity: ElectricityResult | pd.DataFrame | None = None,
    *,
    months: MonthsArg = None,
    stop_threshold: float = 0.10,
    semi_threshold: float = 0.50,
    include_normal: bool = False,
) -> pd.DataFrame:
    """The enterprises behind the counts of :func:`production_status_indicators`, for follow-up.

    Parameters
    ----------
    monthly, enterprises, electricity, months, stop_threshold, semi_threshold
        As for :func:`production_status_indicators`.
    include_normal
        Keep the firm-months that are normal both as reported and as inferred (default: left out).

    Returns
    -------
    pandas.DataFrame
        One row per enterprise and month: ``period``, ``enterprise_id``, ``name_zh`` (when the enterprises
        frame has it), ``district_code``, ``industry_code``, ``reported_status``, ``inferred_status``
        (missing where unknown), ``ratio``, ``kwh_per_day`` and ``baseline`` (when given) and ``mismatch``
        (both statuses known and different: a report to check).  Sorted by month, district, then the
        most severe status first and the lowest ratio first.
    """
    _check_thresholds(stop_threshold, semi_threshold)
    _require(monthly, ["enterprise_id", "period", "production_status"], "monthly")
    ent = _enterprise_table(enterprises)
    ids = ent["id"].to_numpy(np.int64)
    rep = pd.DataFrame({
        "enterprise_id": monthly["enterprise_id"].to_numpy(np.int64),
        "period_ord": _month_ordinals(monthly["period"], "period"),
        "reported_code": _reported_codes(monthly),
    })
    _firm_positions(ids, rep["enterprise_id"], "the monthly frame")
    ratios = _ratios(electricity)
    if ratios is not None:
        extra = [c for c in ("kwh_per_day", "baseline") if c in ratios.columns]
        inf = pd.DataFrame({"enterprise_id": ratios["enterprise_id"].to_numpy(np.int64),
                            "period_ord": _month_ordinals(ratios["period"], "period"),
                            "ratio": pd.to_numeric(ratios["ratio"], errors="coerce").to_numpy(float, na_value=np.nan),
                            **{c: ratios[c].to_numpy(float) for c in extra}})
        _firm_positions(ids, inf["enterprise_id"], "the electricity frame")
        both = rep.merge(inf, on=["enterprise_id", "period_ord"], how="outer", validate="one_to_one")
    else:
        both = rep.assign(ratio=np.nan)
    if months is not None:
        both = both[both["period_ord"].isin(_wanted(months, np.zeros(0, dtype=np.int64)))]
    reported = both["reported_code"].fillna(-1).to_numpy(np.int64)
    inferred = _status_codes(both["ratio"].to_numpy(float), stop_threshold, semi_threshold)
    keep = np.ones(len(both), dtype=bool) if include_normal else (reported > 0) | (inferred > 0)
    both = both.loc[keep]
    reported, inferred = reported[keep], inferred[keep]
    pos = _firm_positions(ids, both["enterprise_id"], "the monthly frame")
    info = ["name_zh"] if "name_zh" in ent.columns else []
    out = pd.DataFrame({
        "period": pd.PeriodIndex.from_ordinals(both["period_ord"].to_numpy(np.int64), freq="M"),
        "enterprise_id": both["enterprise_id"].to_numpy(np.int64),
        **{c: ent[c].to_numpy()[pos] for c in info},
        "district_code": ent["district_code"].astype(str).to_numpy()[pos],
        "industry_code": ent["industry_code"].astype(str).to_numpy()[pos],
        "reported_status": pd.Categorical.from_codes(reported, categories=list(STATUSES)),
        "inferred_status": pd.Categorical.from_codes(inferred, categories=list(STATUSES)),
        "ratio": both["ratio"].to_numpy(float),
        **{c: both[c].to_numpy(float) for c in ("kwh_per_day", "baseline") if c in both.columns},
        "mismatch": (reported >= 0) & (inferred >= 0) & (reported != inferred),
        "_severity": -np.maximum(reported, inferred),
    })
    out = out.sort_values(["period", "district_code", "_severity", "ratio", "enterprise_id"], kind="stable",
                          na_position="last")
    return out.drop(columns="_severity").reset_index(drop=True)
