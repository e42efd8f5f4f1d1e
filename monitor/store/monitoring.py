"""Store queries of the enterprises' monitoring data and the official statistics: electricity sums, monthly
reports, official series and the annual targets.

Reads only (a temporary table of festival days lives for one query).  The SQLite/PostgreSQL differences are here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import text

from .core import Store, raw_query

__all__ = ["monthly_meter", "enterprise_months", "status_counts", "last_reading_day", "official_series",
           "targets"]


def monthly_meter(store: Store, first_day: dt.date, festival: Iterable[pd.Timestamp]) -> pd.DataFrame:
    """Monthly meter sums per enterprise from ``first_day`` on, summed by the database.

    Returns ``enterprise_id, period, kwh, days, kwh_x, days_x``: all days, and the days that are not in
    ``festival`` (``kwh_x``, ``days_x``), so millions of daily readings never leave the database.
    """
    sqlite = store.dialect == "sqlite"
    month = "substr(r.day, 1, 7)" if sqlite else "to_char(r.day, 'YYYY-MM')"
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS imon_festival_days")
        conn.exec_driver_sql("CREATE TEMP TABLE imon_festival_days (day DATE PRIMARY KEY)")
        conn.execute(text("INSERT INTO imon_festival_days (day) VALUES (:d)"),
                     [{"d": d.strftime("%Y-%m-%d") if sqlite else d.date()} for d in festival])
        rows, names = raw_query(conn, (
            f"SELECT r.enterprise_id, {month} AS period, SUM(r.kwh) AS kwh, COUNT(*) AS days, "
            "SUM(CASE WHEN f.day IS NULL THEN r.kwh ELSE 0 END) AS kwh_x, "
            "SUM(CASE WHEN f.day IS NULL THEN 1 ELSE 0 END) AS days_x "
            "FROM electricity_reading r LEFT JOIN imon_festival_days f ON f.day = r.day "
            f"WHERE r.day >= :d GROUP BY r.enterprise_id, {month}"),
            {"d": first_day.isoformat() if sqlite else first_day})
        conn.exec_driver_sql("DROP TABLE imon_festival_days")
    return pd.DataFrame.from_records(rows, columns=names)


def enterprise_months(store: Store, first: str) -> pd.DataFrame:
    """Every column of ``enterprise_month`` from month ``first`` on."""
    return store.read_records("SELECT * FROM enterprise_month WHERE period >= :p", p=first)


def status_counts(store: Store, *, p: str) -> list[dict[str, object]]:
    """``status, n``: enterprises per production status in month ``p``."""
    return store.read_records("SELECT production_status AS status, COUNT(*) AS n FROM enterprise_month "
                              "WHERE period = :p GROUP BY production_status ORDER BY production_status",
                              p=p).to_dict("records")


def last_reading_day(store: Store) -> object:
    """The last day with an electricity reading (driver value; None when there is none)."""
    frame = store.read_records("SELECT MAX(day) AS d FROM electricity_reading")
    return frame["d"].iloc[0] if len(frame) else None


def official_series(store: Store, *, series: Sequence[str] | None = None, region: str | None = None,
                    until: str | None = None, monthly: bool = False) -> pd.DataFrame:
    """``series, region, period, value`` of the official statistics, optionally of some series, one region,
    periods up to ``until``, or monthly periods only (``YYYY-MM``)."""
    where, params = [], {}
    if series is not None:
        if not series:
            return pd.DataFrame(columns=["series", "region", "period", "value"])
        where.append("series IN (" + ", ".join(f":s{i}" for i in range(len(series))) + ")")
        params.update({f"s{i}": s for i, s in enumerate(series)})
    if region is not None:
        where.append("region = :r")
        params["r"] = region
    if until is not None:
        where.append("period <= :last")
        params["last"] = until
    if monthly:
        where.append("length(period) = 7")
    return store.read_records("SELECT series, region, period, value FROM official_statistic"
                              + (" WHERE " + " AND ".join(where) if where else ""), **params)


def targets(store: Store, *, year: int | None = None) -> pd.DataFrame:
    """``year, indicator, region, comparison, value`` of the annual targets (of one year)."""
    if year is None:
        return store.read_records("SELECT year, indicator, region, comparison, value FROM target")
    return store.read_records("SELECT year, indicator, region, comparison, value FROM target WHERE year = :y", y=year)
