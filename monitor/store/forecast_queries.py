"""Queries of the forecasting stage (issue 15): official histories, stored forecasts and their origins.

SQL lives here (DESIGN: SQL only in ``monitor/store/``); :mod:`monitor.forecasts`, :mod:`monitor.track_record`
and :mod:`monitor.leading` call these functions.
"""

from __future__ import annotations

import pandas as pd

from .core import Store

__all__ = ["official_series_names", "official_history", "forecast_origins", "stored_forecasts", "series_keys",
           "nowcast_origins", "odds_origins", "delete_forecasts", "official_outcomes", "skill_rows", "skill_at",
           "replace_skill", "forecast_specs", "save_forecast_specs", "skill_origins", "replace_forecasts",
           "replace_nowcasts", "replace_target_odds"]


def official_series_names(store: Store) -> pd.DataFrame:
    """Monthly official series and their regions: ``series, region, n`` (months published)."""
    return store.read_records("SELECT series, region, COUNT(*) AS n FROM official_statistic WHERE length(period) = 7 "
                              "GROUP BY series, region ORDER BY series, region")


def official_history(store: Store, series: str, region: str, last: pd.Period | str) -> pd.Series:
    """Monthly values of an official series in a region published up to ``last`` (PeriodIndex, sorted)."""
    frame = store.read_records("SELECT period, value FROM official_statistic WHERE series = :s AND region = :r "
                               "AND length(period) = 7 AND period <= :last ORDER BY period",
                               s=series, r=region, last=str(last))
    if frame.empty:
        return pd.Series(dtype=float)
    return pd.Series(frame["value"].to_numpy(float), index=pd.PeriodIndex(frame["period"], freq="M"))


def official_outcomes(store: Store) -> pd.DataFrame:
    """Every monthly official value: ``series, region, period, value``."""
    return store.read_records("SELECT series, region, period, value FROM official_statistic WHERE length(period) = 7")


def series_keys(store: Store, pattern: str) -> list[str]:
    """Stored series keys matching ``pattern`` (``*`` matches within the SQL LIKE, then exactly by glob)."""
    import fnmatch

    like = pattern.replace("*", "%")
    rows = store.read_records("SELECT DISTINCT series_key FROM series_value WHERE series_key LIKE :p", p=like)
    return sorted(k for k in rows["series_key"] if fnmatch.fnmatchcase(k, pattern))


def forecast_origins(store: Store) -> pd.DataFrame:
    """(series_key, origin) pairs with stored forecasts."""
    return store.read_records("SELECT DISTINCT series_key, origin FROM forecast")


def nowcast_origins(store: Store) -> set[str]:
    """Origins with a stored nowcast."""
    return set(store.read_records("SELECT DISTINCT origin FROM nowcast")["origin"])


def odds_origins(store: Store) -> set[str]:
    """Origins with stored target odds."""
    return set(store.read_records("SELECT DISTINCT origin FROM target_odds")["origin"])


def skill_origins(store: Store) -> set[str]:
    """Origins with a stored track record (``forecast_skill``)."""
    return set(store.read_records("SELECT DISTINCT origin FROM forecast_skill")["origin"])


def stored_forecasts(store: Store, origin: str | None = None) -> pd.DataFrame:
    """Stored forecasts (all origins, or one)."""
    sql = ("SELECT series_key, origin, period, model, mean, lower_80, upper_80, lower_95, upper_95 FROM forecast"
           + (" WHERE origin = :o" if origin is not None else ""))
    return store.read_records(sql, **({"o": origin} if origin is not None else {}))


def delete_forecasts(conn: object, origin: str, keys: list[str]) -> None:
    """Remove the forecasts of ``keys`` from ``origin`` (in the caller's transaction)."""
    from . import models as m

    table = m.Forecast.__table__
    for start in range(0, len(keys), 500):
        conn.execute(table.delete().where(table.c.origin == origin,  # type: ignore[attr-defined]
                                          table.c.series_key.in_(keys[start:start + 500])))


def skill_rows(store: Store, origin: str | None = None) -> pd.DataFrame:
    """``forecast_skill`` rows of one origin, or of the latest origin stored."""
    if origin is None:
        latest = store.read_records("SELECT MAX(origin) AS o FROM forecast_skill")
        if latest.empty or latest["o"].iloc[0] is None:
            return store.read_records("SELECT * FROM forecast_skill WHERE 1 = 0")
        origin = str(latest["o"].iloc[0])
    return store.read_records("SELECT series_key, origin, horizon, n, mae, mase, coverage_80, coverage_95 "
                              "FROM forecast_skill WHERE origin = :o ORDER BY series_key, horizon", o=origin)


def skill_at(store: Store, *, o: str) -> list[dict[str, object]]:
    """The track record as of origin ``o`` for the operation report: ``series_key, horizon, n, mase, coverage_80``."""
    return store.read_records("SELECT series_key, horizon, n, mase, coverage_80 FROM forecast_skill WHERE origin = :o",
                              o=o).to_dict("records")


def replace_skill(store: Store, origin: str, rows: list[dict[str, object]]) -> None:
    """Replace the track record stored for ``origin`` by ``rows`` (one transaction)."""
    from .models import ForecastSkill

    table = ForecastSkill.__table__
    with store.begin() as conn:
        conn.execute(table.delete().where(table.c.origin == origin))  # type: ignore[attr-defined]
        if rows:
            conn.execute(table.insert(), rows)  # type: ignore[attr-defined]


def forecast_specs(store: Store, keys: list[str]) -> dict[str, tuple[str, str]]:
    """Stored default-forecaster specifications of ``keys``: ``{series_key: (identified, spec JSON)}``."""
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        names = {f"k{i}": k for i, k in enumerate(part)}
        if not names:
            continue
        rows = store.read_records("SELECT series_key, identified, spec FROM forecast_spec WHERE series_key IN ("
                                  + ", ".join(f":{n}" for n in names) + ")", **names)
        out.update({str(r.series_key): (str(r.identified), str(r.spec)) for r in rows.itertuples()})
    return out


def save_forecast_specs(conn: object, rows: list[dict[str, object]]) -> None:
    """Insert or replace specifications (``series_key, identified, spec, updated_at``) in the caller's transaction."""
    from .models import ForecastSpec

    table = ForecastSpec.__table__
    keys = [str(r["series_key"]) for r in rows]
    for start in range(0, len(keys), 500):
        conn.execute(table.delete().where(table.c.series_key.in_(keys[start:start + 500])))  # type: ignore[attr-defined]
    if rows:
        conn.execute(table.insert(), rows)  # type: ignore[attr-defined]


def replace_forecasts(store: Store, origin: str, keys: list[str], rows: list[dict[str, object]],
                      specs: list[dict[str, object]] | None = None) -> None:
    """Replace the forecasts of ``keys`` from ``origin`` by ``rows`` and store the specifications ``specs`` of
    series identified afresh (:func:`save_forecast_specs`), in one transaction."""
    from .models import Forecast

    with store.begin() as conn:
        delete_forecasts(conn, origin, keys)
        if rows:
            conn.execute(Forecast.__table__.insert(), rows)
        if specs:
            save_forecast_specs(conn, specs)


def replace_nowcasts(store: Store, origin: str, key: str, regions: list[str], rows: list[dict[str, object]]) -> None:
    """Replace the nowcasts of ``key`` from ``origin`` for ``regions`` by ``rows`` (one transaction)."""
    from .models import Nowcast

    table = Nowcast.__table__
    with store.begin() as conn:
        conn.execute(table.delete().where(table.c.origin == origin, table.c.series_key == key,
                                          table.c.region.in_(regions or [""])))
        if rows:
            conn.execute(table.insert(), rows)


def replace_target_odds(store: Store, origin: str, year: int, rows: list[dict[str, object]]) -> None:
    """Replace the target-attainment odds of ``year`` from ``origin`` by ``rows`` (one transaction)."""
    from .models import TargetOdds

    table = TargetOdds.__table__
    with store.begin() as conn:
        conn.execute(table.delete().where(table.c.origin == origin, table.c.year == year))
        if rows:
            conn.execute(table.insert(), rows)
