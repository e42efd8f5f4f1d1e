"""Chinese calendar regressors for monthly series: moving festivals and working days.

Everything here maps a monthly :class:`pandas.PeriodIndex` to a
:class:`pandas.DataFrame` of regressors, ready to be passed to X-13ARIMA-SEATS
as ``user`` variables or to an OLS pre-adjustment.

Data shipped in ``forecasting/data`` (see ``PROVENANCE.txt`` there):

* ``spring_festival_1949_2050.csv`` - Spring Festival (lunar 1/1), Dragon Boat
  (lunar 5/5) and Mid-Autumn (lunar 8/15) dates, generated once by
  ``make_spring_festival.py`` with the ``lunardate`` library;
* ``china_holidays_2007_2027.csv`` - the State Council holiday arrangements
  (days off and make-up working days, 调休) from the ``holiday-cn`` project (MIT).

Moving-holiday regressors follow Census ``genhol`` / R ``seasonal::genhol``:
for a window ``[festival + start, festival + end]`` the raw regressor in month
*t* is the share of the window's days that fall in *t*; ``"calendar"`` centring
subtracts, month by month, the mean of that share over every year of the date
table (1949-2050), so the regressor carries no seasonality of its own.

Working days are Monday-Friday minus official days off plus make-up working
days, from the State Council table.  For a year the table does not cover, the
statutory holidays of the law in force that year are used instead (see
:func:`statutory_holidays`: weekday holidays are days off, there are no make-up
days) and a :class:`~forecasting.exceptions.CalendarRuleWarning` names the years.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from .exceptions import CalendarRuleWarning, ForecastingError

__all__ = [
    "DEFAULT_HOLIDAYS",
    "LUNAR_HOLIDAYS",
    "HolidayWindow",
    "calendar_regressors",
    "festival_dates",
    "genhol",
    "holiday_regressors",
    "official_holidays",
    "statutory_holidays",
    "working_day_regressor",
    "working_days",
]

Festival = Literal["spring_festival", "dragon_boat", "mid_autumn"]
Centre = Literal["calendar", "mean", "none"]
FESTIVALS: tuple[str, ...] = ("spring_festival", "dragon_boat", "mid_autumn")
#: Years whose State Council arrangement is in the shipped table define the centring span of working days.
WORKING_DAY_REFERENCE = (2007, 2026)


@dataclass(frozen=True)
class HolidayWindow:
    """A moving-holiday window ``[festival + start, festival + end]`` (days, inclusive).

    Parameters
    ----------
    name
        Regressor name (letters, digits, ``_``; at most 20 characters, an X-13 limit for user names).
    festival
        ``"spring_festival"`` (春节), ``"dragon_boat"`` (端午) or ``"mid_autumn"`` (中秋).
    start, end
        Window bounds in days relative to the festival day (0); ``start <= end``.
    usertype
        X-13 ``usertype`` of the regressor: ``"holiday"`` (default; the effect leaves the adjusted
        series) or ``"holiday2"`` ... ``"holiday5"`` (separate holiday groups), or ``"user"`` (the effect
        stays in the adjusted series).
    """

    name: str
    festival: str = "spring_festival"
    start: int = 0
    end: int = 6
    usertype: str = "holiday"

    def __post_init__(self) -> None:
        if self.festival not in FESTIVALS:
            raise ForecastingError(
                f"HolidayWindow.festival must be one of {FESTIVALS}; got {self.festival!r}. "
                "Other holidays: build the regressor with genhol(dates, ...) and pass it as a user regressor."
            )
        if self.start > self.end or self.end - self.start > 150:
            raise ForecastingError(
                f"HolidayWindow needs start <= end and a window of at most 151 days; got start={self.start}, "
                f"end={self.end} for {self.name!r}. Swap or shorten the bounds."
            )
        if not (self.name.replace("_", "").isalnum() and self.name.isascii() and len(self.name) <= 20):
            raise ForecastingError(
                f"HolidayWindow.name must be ASCII letters, digits or '_' and at most 20 characters (an X-13 "
                f"limit); got {self.name!r}. Rename it, e.g. 'sf_before'."
            )


#: Spring Festival before / during / after (METHODOLOGY section 8 item 3).
DEFAULT_HOLIDAYS: tuple[HolidayWindow, ...] = (
    HolidayWindow("sf_before", "spring_festival", -20, -1),
    HolidayWindow("sf_during", "spring_festival", 0, 6),
    HolidayWindow("sf_after", "spring_festival", 7, 20),
)
#: Dragon Boat and Mid-Autumn, three days each (the festival day and its neighbours).
LUNAR_HOLIDAYS: tuple[HolidayWindow, ...] = (
    HolidayWindow("dragon_boat", "dragon_boat", -1, 1, "holiday2"),
    HolidayWindow("mid_autumn", "mid_autumn", -1, 1, "holiday3"),
)


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("forecasting").joinpath("data", name).open("rb") as fh:
        return pd.read_csv(fh)


@lru_cache(maxsize=1)
def _festival_table() -> pd.DataFrame:
    frame = _read_csv("spring_festival_1949_2050.csv").set_index("year")
    return frame.apply(pd.to_datetime)


def festival_dates(festival: str = "spring_festival") -> pd.Series:
    """Gregorian dates of a lunar festival, 1949-2050, indexed by year.

    Parameters
    ----------
    festival
        ``"spring_festival"``, ``"dragon_boat"`` or ``"mid_autumn"``.

    Returns
    -------
    pandas.Series
        ``datetime64`` values indexed by the integer Gregorian year.
    """
    if festival not in FESTIVALS:
        raise ForecastingError(f"festival must be one of {FESTIVALS}; got {festival!r}.")
    return _festival_table()[festival].copy()


@lru_cache(maxsize=1)
def official_holidays() -> pd.DataFrame:
    """The State Council arrangements 2007-2026: ``year, date, name, off``.

    ``off`` is False for a make-up working day (调休, usually a weekend day).
    """
    frame = _read_csv("china_holidays_2007_2027.csv")
    return pd.DataFrame({
        "year": frame["year"].astype(int),
        "date": pd.to_datetime(frame["date"]),
        "name": frame["name"].astype(str),
        "off": frame["isOffDay"].astype(str).str.lower().eq("true"),
    })


def _check_index(index: pd.PeriodIndex, what: str) -> pd.PeriodIndex:
    if not isinstance(index, pd.PeriodIndex) or index.freqstr not in ("M", "ME"):
        got = getattr(index, "freqstr", None) or type(index).__name__
        raise ForecastingError(
            f"{what} needs a monthly pandas.PeriodIndex; got {got}. "
            "Convert with series.index.to_period('M') or pd.period_range(start, end, freq='M')."
        )
    return index


# ---------------------------------------------------------------------------------------------------------- genhol
def genhol(
    dates: pd.Series | Sequence[dt.date] | pd.DatetimeIndex,
    start: int = 0,
    end: int = 0,
    *,
    center: Centre = "calendar",
    index: pd.PeriodIndex | None = None,
) -> pd.Series:
    """Monthly moving-holiday regressor with the semantics of Census ``genhol``.

    Parameters
    ----------
    dates
        One date per occurrence of the holiday (e.g. :func:`festival_dates`).
    start, end
        The window is ``[date + start, date + end]`` days, inclusive.
    center
        ``"calendar"``: subtract, for each calendar month, the mean of the share over all years spanned by
        ``dates``; ``"mean"``: subtract the overall mean; ``"none"``: raw shares.
    index
        Months to return; default every month of the years spanned by ``dates``.

    Returns
    -------
    pandas.Series
        Float regressor with a monthly PeriodIndex. Before centring the shares of one occurrence sum to 1.
    """
    if start > end or end - start > 150:
        raise ForecastingError(f"genhol needs start <= end and end - start <= 150; got start={start}, end={end}.")
    if center not in ("calendar", "mean", "none"):
        raise ForecastingError(f"center must be 'calendar', 'mean' or 'none'; got {center!r}.")
    days = pd.DatetimeIndex(pd.to_datetime(list(dates.values if isinstance(dates, pd.Series) else dates)))
    if days.empty:
        raise ForecastingError("genhol needs at least one holiday date; got none.")
    offsets = np.arange(start, end + 1)
    window = (days.values[:, None] + offsets[None, :].astype("timedelta64[D]")).ravel()
    months = pd.DatetimeIndex(window).to_period("M")
    span = pd.period_range(f"{days.year.min()}-01", f"{days.year.max()}-12", freq="M")
    span = span.union(pd.PeriodIndex(months.unique()))
    share = pd.Series(1.0 / len(offsets), index=months).groupby(level=0).sum().reindex(span, fill_value=0.0)
    if center == "calendar":
        inside = share[(share.index.year >= days.year.min()) & (share.index.year <= days.year.max())]
        means = inside.groupby(inside.index.month).mean()
        share = share - means.reindex(share.index.month).to_numpy()
    elif center == "mean":
        inside = share[(share.index.year >= days.year.min()) & (share.index.year <= days.year.max())]
        share = share - inside.mean()
    if index is None:
        return share.rename(None)
    index = _check_index(index, "genhol")
    outside = index.difference(share.index)
    if len(outside):
        raise ForecastingError(
            f"genhol: the holiday dates cover {share.index[0]}..{share.index[-1]} but months "
            f"{outside[0]}..{outside[-1]} were asked for. Supply dates for those years."
        )
    return share.reindex(index).rename(None)


def holiday_regressors(
    index: pd.PeriodIndex,
    holidays: Iterable[HolidayWindow] = DEFAULT_HOLIDAYS,
    *,
    center: Centre = "calendar",
) -> pd.DataFrame:
    """Moving-holiday regressors (one column per :class:`HolidayWindow`) for ``index``.

    Parameters
    ----------
    index
        Monthly PeriodIndex within 1949-01..2050-12 (the shipped festival dates).
    holidays
        Windows; default Spring Festival before [-20, -1], during [0, 6], after [7, 20].
    center
        Centring passed to :func:`genhol` (default ``"calendar"``, as recommended for CNY).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``index``; columns are the window names.
    """
    index = _check_index(index, "holiday_regressors")
    holidays = tuple(holidays)
    names = [h.name for h in holidays]
    if len(set(names)) != len(names):
        raise ForecastingError(f"holiday window names must be unique; got {names}.")
    columns = {h.name: genhol(festival_dates(h.festival), h.start, h.end, center=center, index=index) for h in holidays}
    return pd.DataFrame(columns, index=index)


# ---------------------------------------------------------------------------------------------------- working days
def _qingming(year: int) -> dt.date:
    """Qingming (清明, solar term) by the 21st-century rule of thumb ``[Y*0.2422 + 4.81] - [Y/4]`` (April)."""
    yy = year % 100
    return dt.date(year, 4, int(yy * 0.2422 + 4.81) - yy // 4)


def statutory_holidays(year: int) -> list[dt.date]:
    """Statutory days off of ``year`` under the holiday law in force that year (rule, not the State Council table).

    * up to 2007: New Year's Day; Spring Festival days 1-3; 1-3 May; 1-3 October;
    * 2008-2013: New Year's Day; Spring Festival eve, days 1-2; Qingming; 1 May; Dragon Boat; Mid-Autumn; 1-3 October;
    * 2014-2024: as 2008 but Spring Festival days 1-3 (eve no longer statutory);
    * from 2025: Spring Festival eve and days 1-3; 1-2 May.

    The week-long "golden weeks" come from swapping weekends with make-up working days, which the State
    Council decides year by year; the rule has no make-up days, so a holiday on a weekend costs no working day.
    """
    table = _festival_table()
    if year not in table.index:
        raise ForecastingError(f"No festival dates for {year}; the shipped table covers {table.index[0]}-{table.index[-1]}.")
    sf = table.at[year, "spring_festival"].date()
    days = [dt.date(year, 1, 1)]
    if year <= 2007:
        days += [sf + dt.timedelta(d) for d in (0, 1, 2)] + [dt.date(year, 5, d) for d in (1, 2, 3)]
    else:
        sf_days = (-1, 0, 1) if year <= 2013 else (0, 1, 2) if year <= 2024 else (-1, 0, 1, 2)
        days += [sf + dt.timedelta(d) for d in sf_days]
        days += [_qingming(year)] + [dt.date(year, 5, d) for d in ((1,) if year <= 2024 else (1, 2))]
        days += [table.at[year, "dragon_boat"].date(), table.at[year, "mid_autumn"].date()]
    days += [dt.date(year, 10, d) for d in (1, 2, 3)]
    # the Spring Festival eve or days can fall in the previous/next Gregorian year only in theory; keep the year
    return sorted(d for d in days if d.year == year)


def _daily_workdays(first: pd.Period, last: pd.Period) -> tuple[pd.Series, list[int]]:
    days = pd.date_range(first.start_time, last.end_time.normalize(), freq="D")
    table = official_holidays()
    covered = set(table["year"].unique())
    work = pd.Series(days.day_of_week < 5, index=days)
    rule_years = sorted(set(days.year) - covered)
    for year in rule_years:
        off = pd.DatetimeIndex(statutory_holidays(int(year)))
        work[work.index.isin(off)] = False
    work[work.index.isin(table.loc[table["off"], "date"])] = False
    work[work.index.isin(table.loc[~table["off"], "date"])] = True
    return work, [int(y) for y in rule_years]


def working_days(index: pd.PeriodIndex, *, warn: bool = True) -> pd.Series:
    """Number of working days per month (Mon-Fri, minus days off, plus make-up working days 调休).

    Parameters
    ----------
    index
        Monthly PeriodIndex.
    warn
        Issue :class:`CalendarRuleWarning` naming the years that are outside the State Council table
        (those use :func:`statutory_holidays`).

    Returns
    -------
    pandas.Series
        Integer counts indexed by ``index``.
    """
    index = _check_index(index, "working_days")
    if index.empty:
        return pd.Series([], index=index, dtype=int, name="working_days")
    work, rule_years = _daily_workdays(index.min(), index.max())
    if warn:
        _warn_rule_years(rule_years, stacklevel=3)
    counts = work.groupby(work.index.to_period("M")).sum().astype(int)
    return counts.reindex(index).rename("working_days")


def _warn_rule_years(rule_years: Sequence[int], *, stacklevel: int) -> None:
    """Warn (pointing ``stacklevel`` frames up from here) about years outside the State Council table."""
    if rule_years:
        warnings.warn(
            f"No State Council holiday arrangement is shipped for {_years_text(rule_years)}; working days there "
            "follow the statutory-holiday rule (forecasting.calendar.statutory_holidays, no make-up days). "
            "Update forecasting/data/china_holidays_2007_2027.csv when a new notice is published.",
            CalendarRuleWarning,
            stacklevel=stacklevel,
        )


def _rule_years(index: pd.PeriodIndex) -> list[int]:
    covered = set(official_holidays()["year"].unique())
    return sorted(int(y) for y in set(index.year) - covered)


def _years_text(years: Sequence[int]) -> str:
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


@lru_cache(maxsize=1)
def _working_day_means() -> pd.Series:
    lo, hi = WORKING_DAY_REFERENCE
    ref = working_days(pd.period_range(f"{lo}-01", f"{hi}-12", freq="M"), warn=False)
    return ref.groupby(ref.index.month).mean()


def working_day_regressor(index: pd.PeriodIndex, *, center: Centre = "calendar", warn: bool = True) -> pd.Series:
    """Working days per month as a regressor.

    ``"calendar"`` centring subtracts the 2007-2026 mean for the calendar month (the seasonal part of the
    working-day count belongs to the seasonal factors); ``"mean"`` subtracts the overall 2007-2026 mean;
    ``"none"`` returns the counts.
    """
    counts = working_days(index, warn=False).astype(float)
    if warn:
        _warn_rule_years(_rule_years(index), stacklevel=3)
    if center == "calendar":
        counts = counts - _working_day_means().reindex(index.month).to_numpy()
    elif center == "mean":
        counts = counts - float(_working_day_means().mean())
    elif center != "none":
        raise ForecastingError(f"center must be 'calendar', 'mean' or 'none'; got {center!r}.")
    return counts.rename("working_days")


def calendar_regressors(
    index: pd.PeriodIndex,
    *,
    holidays: Iterable[HolidayWindow] = DEFAULT_HOLIDAYS,
    working_days: bool = True,
    extra: Mapping[str, pd.Series] | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """All Chinese calendar regressors for ``index``: moving holidays, then ``working_days``.

    Parameters
    ----------
    index
        Monthly PeriodIndex.
    holidays
        Moving-holiday windows (calendar-centred genhol regressors).
    working_days
        Add the calendar-centred working-day regressor (column ``working_days``).
    extra
        Further regressors by name, reindexed to ``index`` (must cover it).
    warn
        Pass ``False`` to silence the out-of-table-years warning (e.g. for forecast horizons).
    """
    frame = holiday_regressors(index, holidays)
    if working_days:
        frame["working_days"] = working_day_regressor(index, warn=False)
        if warn:
            _warn_rule_years(_rule_years(index), stacklevel=3)
    for name, values in (extra or {}).items():
        values = values.reindex(index)
        if values.isna().any():
            raise ForecastingError(f"extra regressor {name!r} does not cover {index[0]}..{index[-1]}; extend it.")
        frame[name] = values.astype(float)
    return frame
