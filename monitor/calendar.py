"""The Chinese working calendar by day: holidays, make-up working days, days to the Spring Festival.

The dates come from :mod:`forecasting.calendar` (Spring Festival 1949-2050 and the
State Council arrangements 2007-2026, shipped with their provenance in
``forecasting/data``); this module turns them into the day-by-day table the demo
and the electricity indicators use.  For a year the State Council table does not
cover, the statutory holidays of the law in force that year are used (no
make-up days) and the ``rule`` column says so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecasting.calendar import festival_dates, statutory_holidays
from forecasting.calendar import official_holidays as _official_holidays

__all__ = ["spring_festival_dates", "official_holidays", "daily_calendar"]


def spring_festival_dates() -> pd.Series:
    """Spring Festival (lunar new year's day) by Gregorian year, 1949-2050."""
    return festival_dates("spring_festival").rename("spring_festival")


def official_holidays() -> pd.DataFrame:
    """The State Council table: ``date, name, off, year`` (``off`` False = make-up working day)."""
    return _official_holidays()


def daily_calendar(start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
    """One row per day from ``start`` to ``end`` with the Chinese working calendar.

    Returns
    -------
    pandas.DataFrame
        Columns ``day`` (datetime64), ``weekday`` (0 = Monday), ``holiday``
        (official day off), ``workday`` (a working day after holidays and
        make-up days), ``sf_offset`` (days since the nearest Spring Festival,
        negative before it) and ``rule`` (``table`` or ``statutory-rule``).
    """
    days = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame({"day": days, "weekday": days.day_of_week})
    table = official_holidays()
    covered = set(table["year"].unique())
    off = set(table.loc[table["off"], "date"])
    makeup = set(table.loc[~table["off"], "date"])
    for year in sorted(set(days.year) - covered):
        off |= {pd.Timestamp(d) for d in statutory_holidays(int(year))}
    frame["holiday"] = frame["day"].isin(off)
    frame["workday"] = ((frame["weekday"] < 5) & ~frame["holiday"]) | frame["day"].isin(makeup)
    frame["rule"] = np.where(frame["day"].dt.year.isin(list(covered)), "table", "statutory-rule")
    sf_days = pd.DatetimeIndex(spring_festival_dates().to_numpy())
    pos = sf_days.searchsorted(frame["day"])
    before = sf_days[np.clip(pos - 1, 0, len(sf_days) - 1)]
    after = sf_days[np.clip(pos, 0, len(sf_days) - 1)]
    d_before = (frame["day"].to_numpy() - before.to_numpy()) / np.timedelta64(1, "D")
    d_after = (frame["day"].to_numpy() - after.to_numpy()) / np.timedelta64(1, "D")
    frame["sf_offset"] = np.where(np.abs(d_before) <= np.abs(d_after), d_before, d_after).astype(int)
    return frame
