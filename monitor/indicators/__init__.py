"""Indicators computed from the store's observations: pure functions on pandas frames.

Survey indices (:mod:`monitor.indicators.survey`): weights and the non-response adjustment, diffusion
indices by breakdown with standard errors, the composite PMI, problem shares, and rows for the
``series_value`` table.  Monitoring indicators (:mod:`~monitor.indicators.electricity`,
:mod:`~monitor.indicators.monitoring`): electricity totals, growth and baselines, stopped and
semi-stopped enterprises, inventory and costs.  Signal lamps (:mod:`~monitor.indicators.lamps`).
"""

from __future__ import annotations

from .electricity import (
    METER_COLUMNS,
    STATUSES,
    ElectricityResult,
    electricity_indicators,
    festival_days,
    infer_status,
    production_status_indicators,
    status_enterprises,
)
from .lamps import (
    DEFAULT_LAMPS,
    LampConfigError,
    LampIndicator,
    composite_colour,
    composite_index,
    lamp_inputs,
    lamp_scores,
    percentile_cutoffs,
    signal_lamps,
)
from .monitoring import (
    COST_ITEMS,
    HIGH_COST_PROBLEMS,
    MonitoringDataError,
    cost_indicators,
    high_cost_shares,
    inventory_indicators,
    monitoring_rows,
    price_scissors,
)
from .survey import (
    BREAKDOWNS,
    SurveyDataError,
    composite_pmi,
    diffusion_indices,
    problem_shares,
    respondent_weights,
    sample_weights,
    series_rows,
)

__all__ = [
    "METER_COLUMNS",
    "festival_days",
    "STATUSES",
    "ElectricityResult",
    "electricity_indicators",
    "infer_status",
    "production_status_indicators",
    "status_enterprises",
    "DEFAULT_LAMPS",
    "LampConfigError",
    "LampIndicator",
    "composite_colour",
    "composite_index",
    "lamp_inputs",
    "lamp_scores",
    "percentile_cutoffs",
    "signal_lamps",
    "COST_ITEMS",
    "HIGH_COST_PROBLEMS",
    "MonitoringDataError",
    "cost_indicators",
    "high_cost_shares",
    "inventory_indicators",
    "monitoring_rows",
    "price_scissors",
    "BREAKDOWNS",
    "SurveyDataError",
    "composite_pmi",
    "diffusion_indices",
    "problem_shares",
    "respondent_weights",
    "sample_weights",
    "series_rows",
]
