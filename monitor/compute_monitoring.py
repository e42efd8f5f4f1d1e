"""Monitoring indicators from the store: electricity, production status, inventory, costs, signal lamps.

Reads what :mod:`monitor.indicators` needs (with the history behind baselines
and year-on-year rates), calls the pure functions and returns ``series_value``
rows.  The price scissors and the lamps use the survey's city diffusion indices,
so the survey family is computed first (:func:`monitor.compute.compute_range`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .engine.electricity import store_or_archive_meter
from .indicators import (
    cost_indicators,
    electricity_indicators,
    festival_days,
    high_cost_shares,
    inventory_indicators,
    lamp_inputs,
    monitoring_rows,
    price_scissors,
    production_status_indicators,
    signal_lamps,
)
from .reference import CITY_CODE
from .results import read_series
from .settings import Settings
from .store import Store
from .store import monitoring as monitoring_q
from .store import survey as survey_q

__all__ = ["monitoring_series", "monthly_meter", "HISTORY_MONTHS"]

#: Months of history read before the first month computed: two years of baselines plus a year of growth.
HISTORY_MONTHS = 36


def monthly_meter(store: Store, first_day: dt.date, window: tuple[int, int] = (-7, 15)) -> pd.DataFrame:
    """Monthly meter sums per enterprise from ``first_day`` on, summed by the database.

    Returns :data:`~monitor.indicators.electricity.METER_COLUMNS`: all days, and the days outside the Spring
    Festival window (``kwh_x``, ``days_x``), so millions of daily readings never leave the database.
    """
    fest = festival_days(first_day, dt.date.today() + dt.timedelta(days=400), window)
    return monitoring_q.monthly_meter(store, first_day, fest)


def monitoring_series(store: Store, settings: Settings, months: list[str]) -> pd.DataFrame:
    """All monitoring series rows (``series_key, period, raw, se, n``) for ``months``."""
    start = (pd.Period(months[0], "M") - HISTORY_MONTHS)
    first_day = start.start_time.date()
    enterprises = survey_q.enterprise_records(store, ["id", "name_zh", "district_code", "industry_code", "size_class",
                                                      "sample_weight", "panel_start", "panel_end"])
    meter = store_or_archive_meter(store, settings, first_day)  # compute.engine = dask: the Parquet archive
    if meter is None:
        meter = monthly_meter(store, first_day)
    monthly = monitoring_q.enterprise_months(store, str(start))
    problems = survey_q.survey_problems(store, months[0])
    respondents = survey_q.respondents(store, months[0])
    stop, semi = settings["monitoring.stop_threshold"], settings["monitoring.semi_threshold"]
    frames = []
    elec = electricity_indicators(meter, enterprises, months=months, stop_threshold=stop, semi_threshold=semi)
    frames.append(elec.series)
    frames.append(production_status_indicators(monthly, enterprises, elec, months=months, stop_threshold=stop,
                                               semi_threshold=semi))
    frames.append(inventory_indicators(monthly, enterprises, months=months))
    frames.append(cost_indicators(monthly, enterprises, months=months))
    if len(problems):
        frames.append(high_cost_shares(problems, respondents, enterprises, months=months))
    dis = {q: read_series(store, f"pmi/{q}") for q in ("input_prices", "output_prices", "headline", "new_orders",
                                                       "finished_goods_inventory")}
    if len(dis["input_prices"]) and len(dis["output_prices"]):
        frames.append(price_scissors(dis["input_prices"]["raw"], dis["output_prices"]["raw"]))
    survey_rows = pd.concat([d.reset_index().assign(period=lambda f: f["period"].astype(str))[
        ["series_key", "period", "raw"]] for d in dis.values() if len(d)], ignore_index=True) if any(
        len(d) for d in dis.values()) else pd.DataFrame(columns=["series_key", "period", "raw"])
    official = monitoring_q.official_series(store, series=["iva/yoy"], region=CITY_CODE)
    official = pd.DataFrame({"series_key": "iva/yoy/city", "period": official["period"],
                             "raw": official["value"]})
    inputs = lamp_inputs(*[f for f in frames if len(f)], survey_rows, official)
    frames.append(signal_lamps(inputs))
    rows = monitoring_rows(*[f for f in frames if len(f)])
    rows["se"] = float("nan")
    return rows[rows["period"].isin(months)].reset_index(drop=True)
