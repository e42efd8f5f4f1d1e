"""Store queries of the forecasts, nowcasts and target-attainment odds (reads only)."""

from __future__ import annotations

import pandas as pd

from .core import Store

__all__ = ["forecast_rows", "nowcast_rows", "target_odds_rows", "nowcast_outcomes", "odds_with_targets"]


def forecast_rows(store: Store) -> pd.DataFrame:
    """Every stored forecast: ``series_key, origin, period, model, mean, lower_80, upper_80, lower_95, upper_95``."""
    return store.read_records(
        "SELECT series_key, origin, period, model, mean, lower_80, upper_80, lower_95, upper_95 FROM forecast")


def nowcast_rows(store: Store, origin: str | None = None) -> pd.DataFrame:
    """Stored nowcasts (all origins, or one), newest origin first."""
    sql = "SELECT * FROM nowcast" + (" WHERE origin = :o" if origin is not None else "") + \
        " ORDER BY origin DESC, region, period"
    return store.read_records(sql, **({"o": origin} if origin is not None else {}))


def target_odds_rows(store: Store, origin: str | None = None) -> pd.DataFrame:
    """Stored target-attainment probabilities (all origins, or one), newest origin first."""
    sql = "SELECT * FROM target_odds" + (" WHERE origin = :o" if origin is not None else "") + \
        " ORDER BY origin DESC, indicator, region"
    return store.read_records(sql, **({"o": origin} if origin is not None else {}))


def nowcast_outcomes(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored nowcasts (``series_key, region, origin, period, mean, lower_80, upper_80``) and the monthly
    official figures (``series_key, region, period, value``) to judge them by."""
    stored = store.read_records("SELECT series_key, region, origin, period, mean, lower_80, upper_80 FROM nowcast")
    official = store.read_records("SELECT series AS series_key, region, period, value FROM official_statistic "
                                  "WHERE length(period) = 7")
    return stored, official


def odds_with_targets(store: Store) -> pd.DataFrame:
    """Every stored target-attainment probability with its target (what the target-odds alert rule judges)."""
    return store.read_records("SELECT year, indicator, region, origin, comparison, target, ytd, expected, probability "
                              "FROM target_odds")
