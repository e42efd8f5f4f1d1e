"""Release discipline: periods of each kind, release times, drafts, final editions, corrections.

- A publication is a **draft** (stored as version 0, replaced by each new draft) until it is made
  **final** with ``--final``, which is refused before the configured release time: day
  ``publish.release_day`` of the month after the period (after the quarter for the dispatch report,
  after the year for the annual summary) at ``publish.release_time`` in ``publish.timezone``.
- A final publication is **immutable**: its files are written once (read-only) and its row is never
  updated.  A correction is the next numbered edition (``--correct "note"``), printed with its note.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from ..exceptions import ConfigError, PeriodError, PublishError
from ..settings import Settings
from .common import KINDS

__all__ = ["parse_period", "release_time", "now_in", "check_kind"]


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a publication kind, else raise :class:`PublishError` listing them."""
    if kind not in KINDS:
        raise PublishError(f"unknown publication {kind!r}; choose one of {', '.join(KINDS)}")
    return kind


def parse_period(kind: str, text: str) -> pd.Period:
    """The period of a publication: a month (``2026-10``), a quarter (``2026Q3``) or a year (``2025``).

    Raises
    ------
    PeriodError
        When ``text`` is not of the form the kind needs (the message shows it).
    """
    form = KINDS[check_kind(kind)]
    value = str(text).strip()
    if form == "month":
        m = re.fullmatch(r"(\d{4})-?(\d{1,2})", value)
        if m and 1 <= int(m.group(2)) <= 12:
            return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
        raise PeriodError(f"the {kind} publication needs a month written YYYY-MM (for example 2026-10); got {text!r}")
    if form == "quarter":
        m = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", value)
        if m:
            return pd.Period(f"{m.group(1)}Q{m.group(2)}", freq="Q")
        raise PeriodError(f"the dispatch report needs a quarter written YYYYQn (for example 2026Q3); got {text!r}")
    m = re.fullmatch(r"(\d{4})", value)
    if m:
        return pd.Period(m.group(1), freq="Y")
    raise PeriodError(f"the annual summary needs a year written YYYY (for example 2025); got {text!r}")


def _zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings["publish.timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"publish.timezone {settings['publish.timezone']!r} is not a known time zone; "
                          "use e.g. Asia/Shanghai") from None


def now_in(settings: Settings) -> dt.datetime:
    """The current time in ``publish.timezone`` (aware)."""
    return dt.datetime.now(_zone(settings))


def release_time(period: pd.Period, settings: Settings) -> dt.datetime:
    """When a publication of ``period`` may be made final (aware, in ``publish.timezone``)."""
    after = (period.end_time + pd.Timedelta(days=1)).date()
    day = min(int(settings["publish.release_day"]), 28)
    hour, minute = (int(x) for x in settings["publish.release_time"].split(":"))
    return dt.datetime(after.year, after.month, day, hour, minute, tzinfo=_zone(settings))


def release_line(when: dt.datetime, lang: str, *, final: bool) -> str:
    """``发布时间：2026年11月15日 09:30（北京时间）`` (``计划发布时间`` for a draft): the time in its zone
    (``publish.timezone``), labelled."""
    from ..timeshow import zone_label

    label = zone_label(when.tzinfo, lang, at=when) if isinstance(when.tzinfo, ZoneInfo) else (
        when.strftime("%Z") or "UTC")
    if lang == "zh":
        return f"{'发布时间' if final else '计划发布时间'}：{when.year}年{when.month}月{when.day}日 {when:%H:%M}（{label}）"
    return f"{'Released' if final else 'Scheduled release'}: {when:%d %B %Y, %H:%M} {label}"


def check_final_allowed(kind: str, period: pd.Period, settings: Settings, now: dt.datetime) -> dt.datetime:
    """Raise :class:`~monitor.exceptions.ReleaseTimeError` before the release time; return that time."""
    from ..exceptions import ReleaseTimeError

    when = release_time(period, settings)
    if now < when:
        raise ReleaseTimeError(
            f"{kind} {period} may be made final from {when:%Y-%m-%d %H:%M} {settings['publish.timezone']} "
            f"(publish.release_day / publish.release_time); it is now {now.astimezone(when.tzinfo):%Y-%m-%d %H:%M} "
            f"{settings['publish.timezone']}: "
            "publish a draft (without --final) or wait")
    return when


__all__ += ["release_line", "check_final_allowed"]


def period_text(period: pd.Period) -> str:
    """``2026-10`` / ``2026Q3`` / ``2025``."""
    if period.freqstr.startswith("M"):
        return f"{period.year:04d}-{period.month:02d}"
    if period.freqstr.startswith("Q"):
        return f"{period.year}Q{period.quarter}"
    return str(period.year)


__all__ += ["period_text"]
