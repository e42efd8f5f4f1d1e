"""Periods as users type them (``2017-01``, ``2017Q1``, ``2017``) and as code uses them.

In code a month is ``pandas.Period('2017-01', 'M')``; in the store and in
files it is the text ``2017-01``.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .exceptions import PeriodError

__all__ = ["parse_month", "month_text", "last_complete_month", "month_range", "now"]


def now() -> dt.datetime:
    """The bureau's clock (naive, China Standard Time on the server), to the second."""
    return dt.datetime.now().replace(microsecond=0)

_MONTH_RE = re.compile(r"^\s*(\d{4})-?(\d{1,2})\s*$")


def parse_month(value: str | pd.Period | dt.date, *, what: str = "period") -> pd.Period:
    """Parse a month given as ``YYYY-MM`` (or ``YYYYMM``, a date, a Period).

    Parameters
    ----------
    value
        The month to parse.
    what
        How the value is called in error messages (an option name, say).

    Returns
    -------
    pandas.Period
        A period with monthly frequency.

    Raises
    ------
    PeriodError
        When ``value`` is not a month; the message echoes it and shows the form.
    """
    if isinstance(value, pd.Period):
        if value.freqstr.startswith("M"):
            return value
        raise PeriodError(f"{what} must be a month, got the {value.freqstr} period {value}; write it as YYYY-MM")
    if isinstance(value, dt.date):
        return pd.Period(year=value.year, month=value.month, freq="M")
    m = _MONTH_RE.match(str(value))
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise PeriodError(f"{what} must be a month written YYYY-MM (for example 2017-01); got {value!r}")
    return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")


def month_text(period: pd.Period) -> str:
    """Return the store's text form ``YYYY-MM`` of a monthly period."""
    return f"{period.year:04d}-{period.month:02d}"


def last_complete_month(today: dt.date | None = None) -> pd.Period:
    """Return the month before the one containing ``today`` (default: the current date)."""
    today = today or dt.date.today()
    return pd.Period(year=today.year, month=today.month, freq="M") - 1


def month_range(start: pd.Period, end: pd.Period) -> pd.PeriodIndex:
    """Return the months from ``start`` to ``end`` inclusive, or raise when ``end`` precedes ``start``."""
    if end < start:
        raise PeriodError(f"the end month {end} is before the start month {start}; swap them or widen the range")
    return pd.period_range(start, end, freq="M")
