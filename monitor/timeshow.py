"""Timestamps as users see them: in the bureau's time zone, always labelled with it.

The store keeps naive timestamps of two kinds: most (receipts, submissions, audit entries, ingest times, alert and
notification times) are the server's local clock (:func:`monitor.ingest.common.now`), and series vintages are UTC.
A server need not run in the bureau's zone (containers usually run in UTC), so every timestamp shown on the command
line, the web pages, the e-mails and the PDFs goes through :func:`show_time`: converted to the bureau's zone
(setting ``publish.timezone``, default Asia/Shanghai) and labelled (``北京时间`` / ``CST`` for China Standard Time,
the zone's abbreviation otherwise), so no reader has to guess which clock a time was read from.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import ConfigError
from .settings import Settings

__all__ = ["bureau_zone", "zone_label", "to_bureau", "show_time", "CHINA_ZONES"]

#: Zone names that mean China Standard Time (UTC+8, no daylight saving).
CHINA_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})


def bureau_zone(settings: Settings | None = None, name: str | None = None) -> ZoneInfo:
    """The bureau's time zone: ``name``, else ``publish.timezone`` of ``settings``, else Asia/Shanghai.

    Raises
    ------
    ConfigError
        The name is not a known time zone.
    """
    key = name or (settings["publish.timezone"] if settings is not None else "Asia/Shanghai")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"publish.timezone {key!r} is not a known time zone; use e.g. Asia/Shanghai") from None


def zone_label(zone: ZoneInfo, lang: str = "zh", *, at: dt.datetime | None = None) -> str:
    """``北京时间`` (Chinese) or ``CST`` (English) for China Standard Time; otherwise the zone's abbreviation at
    ``at`` (``CET``, ``UTC``...)."""
    if zone.key in CHINA_ZONES:
        return "北京时间" if lang == "zh" else "CST"
    return (at or dt.datetime.now(zone)).astimezone(zone).strftime("%Z") or zone.key


def to_bureau(value: dt.datetime, zone: ZoneInfo, *, naive: str = "local") -> dt.datetime:
    """``value`` as an aware time in ``zone``.  A naive value is read as ``naive`` says: ``local`` the server's
    clock (most stored times), ``utc`` (series vintages) or ``zone`` (already the bureau's: release times)."""
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp: its astimezone() needs a zone
        value = value.to_pydatetime()
    if value.tzinfo is None:
        value = (value.replace(tzinfo=dt.UTC) if naive == "utc" else value.replace(tzinfo=zone)
                 if naive == "zone" else value.astimezone())
    return value.astimezone(zone)


def show_time(value: dt.datetime | str | None, zone: ZoneInfo, lang: str = "zh", fmt: str = "%Y-%m-%d %H:%M", *,
              naive: str = "local") -> str:
    """``2026-12-07 16:50 北京时间``: ``value`` converted to ``zone`` and labelled ("" for a missing value; an ISO
    text is read first; ``naive`` as in :func:`to_bureau`)."""
    if value is None or value != value:  # None, NaN, NaT
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):  # pandas.Timestamp is a datetime; NaT is not
        try:
            value = value.to_pydatetime()  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            return ""
        if not isinstance(value, dt.datetime):
            return ""
    local = to_bureau(value, zone, naive=naive)
    return f"{local.strftime(fmt)} {zone_label(zone, lang, at=local)}"
