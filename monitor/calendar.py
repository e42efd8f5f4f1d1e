"""The Chinese working calendar: Spring Festival dates, public holidays, make-up working days.

Data: ``monitor/data/cny_dates.csv`` (Spring Festival 1930-2030) and
``monitor/data/china_holidays_2007_2027.csv`` (State Council arrangements,
currently through 2026); see ``monitor/data/PROVENANCE.txt``.  For a year the
holiday table does not cover, :func:`daily_calendar` falls back to the fixed
rules of the Golden Weeks (New Year's Day, seven days from Spring Festival eve,
1-3 May, 1-7 October) and says so in the ``rule`` column.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["spring_festival_dates", "official_holidays", "daily_calendar"]


def _read(name: str) -> pd.DataFrame:
    with resources.files("monitor").joinpath("data", name).open("rb") as fh:
        return pd.read_csv(fh)


@lru_cache(maxsize=1)
def spring_festival_dates() -> pd.Series:
    """Spring Festival (lunar new year's day) by Gregorian year, 1930-2030."""
    frame = _read("cny_dates.csv")
    return pd.Series(pd.to_datetime(frame["date"]).to_numpy(), index=frame["year"].astype(int), name="spring_festival")


@lru_cache(maxsize=1)
def official_holidays() -> pd.DataFrame:
    """The State Council holiday table: ``date, name, off`` (``off`` False = make-up working day)."""
    frame = _read("china_holidays_2007_2027.csv")
    return pd.DataFrame({
        "date": pd.to_datetime(frame["date"]),
        "name": frame["name"],
        "off": frame["isOffDay"].astype(str).str.lower().eq("true"),
        "year": frame["year"].astype(int),
    })


def _rule_holidays(year: int) -> list[dt.date]:
    cny = spring_festival_dates().get(year)
    days = [dt.date(year, 1, 1)]
    if cny is not None:
        eve = pd.Timestamp(cny).date() - dt.timedelta(days=1)
        days += [eve + dt.timedelta(days=i) for i in range(7)]
    days += [dt.date(year, 5, d) for d in (1, 2, 3)]
    days += [dt.date(year, 10, d) for d in range(1, 8)]
    return days


def daily_calendar(start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
    """One row per day from ``start`` to ``end`` with the Chinese working calendar.

    Returns
    -------
    pandas.DataFrame
        Columns ``day`` (datetime64), ``weekday`` (0 = Monday), ``holiday``
        (official day off), ``workday`` (a working day after holidays and
        make-up days), ``sf_offset`` (days since the nearest Spring Festival,
        negative before it) and ``rule`` (``table`` or ``fixed-rules``).
    """
    days = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame({"day": days, "weekday": days.day_of_week})
    table = official_holidays()
    covered = set(table["year"].unique())
    off = set(table.loc[table["off"], "date"])
    makeup = set(table.loc[~table["off"], "date"])
    for year in sorted(set(days.year) - covered):
        off |= {pd.Timestamp(d) for d in _rule_holidays(int(year))}
    frame["holiday"] = frame["day"].isin(off)
    frame["workday"] = ((frame["weekday"] < 5) & ~frame["holiday"]) | frame["day"].isin(makeup)
    frame["rule"] = np.where(frame["day"].dt.year.isin(list(covered)), "table", "fixed-rules")
    sf = spring_festival_dates()
    sf_days = pd.DatetimeIndex(sf.to_numpy())
    pos = sf_days.searchsorted(frame["day"])
    before = sf_days[np.clip(pos - 1, 0, len(sf_days) - 1)]
    after = sf_days[np.clip(pos, 0, len(sf_days) - 1)]
    d_before = (frame["day"].to_numpy() - before.to_numpy()) / np.timedelta64(1, "D")
    d_after = (frame["day"].to_numpy() - after.to_numpy()) / np.timedelta64(1, "D")
    frame["sf_offset"] = np.where(np.abs(d_before) <= np.abs(d_after), d_before, d_after).astype(int)
    return frame
