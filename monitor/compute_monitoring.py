"""Monitoring indicators from the store: electricity, production status, inventory, costs, signal lamps.

Reads what :mod:`monitor.indicators` needs (with the history behind baselines
and year-on-year rates), calls the pure functions and returns ``series_value``
rows.  The price scissors and the lamps use the survey's city diffusion indices,
so the survey family is computed first (:func:`monitor.compute.compute_range`).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from .indicators import (
    cost_indicators,
    electricity_indicators,
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

__all__ = ["monitoring_series", "HISTORY_MONTHS"]

#: Months of history read before the first month computed: two years of baselines plus a year of growth.
HISTORY_MONTHS = 36


def monitoring_series(store: Store, settings: Settings, months: list[str]) -> pd.DataFrame:
    """All monitoring series rows (``series_key, period, raw, se, n``) for ``months``."""
    start = (pd.Period(months[0], "M") - HISTORY_MONTHS)
    first_day = start.start_time.date()
    enterprises = store.read_frame(text(
        "SELECT id, name_zh, district_code, industry_code, size_class, sample_weight, panel_start, panel_end "
        "FROM enterprise"))
    readings = store.read_frame(text("SELECT enterprise_id, day, kwh FROM electricity_reading WHERE day >= :d"),
                                d=first_day)
    readings["day"] = pd.to_datetime(readings["day"])
    monthly = store.read_frame(text("SELECT * FROM enterprise_month WHERE period >= :p"), p=str(start))
    problems = store.read_frame(text("SELECT enterprise_id, period, problem FROM survey_problem WHERE period >= :p"),
                                p=months[0])
    respondents = store.read_frame(text(
        "SELECT DISTINCT enterprise_id, period FROM survey_response WHERE period >= :p"), p=months[0])
    stop, semi = settings["monitoring.stop_threshold"], settings["monitoring.semi_threshold"]
    frames = []
    elec = electricity_indicators(readings, enterprises, months=months, stop_threshold=stop, semi_threshold=semi)
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
    official = store.read_frame(text(
        "SELECT series, period, value FROM official_statistic WHERE region = :r AND series = 'iva/yoy'"),
        r=CITY_CODE)
    official = pd.DataFrame({"series_key": "iva/yoy/city", "period": official["period"],
                             "raw": official["value"]})
    inputs = lamp_inputs(*[f for f in frames if len(f)], survey_rows, official)
    frames.append(signal_lamps(inputs))
    rows = monitoring_rows(*[f for f in frames if len(f)])
    rows["se"] = float("nan")
    return rows[rows["period"].isin(months)].reset_index(drop=True)
