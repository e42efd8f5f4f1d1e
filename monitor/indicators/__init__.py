"""Indicators computed from the store's observations: pure functions on pandas frames.

Survey indices (:mod:`monitor.indicators.survey`): weights and the non-response adjustment, diffusion
indices by breakdown with standard errors, the composite PMI, problem shares, and rows for the
``series_value`` table.  Monitoring indicators (:mod:`~monitor.indicators.electricity`,
:mod:`~monitor.indicators.monitoring`): electricity totals, growth and baselines, stopped and
semi-stopped enterprises, inventory and costs.  Signal lamps (:mod:`~monitor.indicators.lamps`).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each public name lives: the submodules load on first use (importing this package is cheap,
#: so a publication that needs only the lamp definitions does not load the electricity calendar).
_WHERE: dict[str, str] = {
    "METER_COLUMNS": "electricity",
    "STATUSES": "electricity",
    "ElectricityResult": "electricity",
    "electricity_indicators": "electricity",
    "festival_days": "electricity",
    "meter_rows": "electricity",
    "infer_status": "electricity",
    "production_status_indicators": "electricity",
    "status_enterprises": "electricity",
    "DEFAULT_LAMPS": "lamps",
    "LampConfigError": "lamps",
    "LampIndicator": "lamps",
    "composite_colour": "lamps",
    "composite_index": "lamps",
    "lamp_inputs": "lamps",
    "lamp_scores": "lamps",
    "percentile_cutoffs": "lamps",
    "signal_lamps": "lamps",
    "COST_ITEMS": "monitoring",
    "HIGH_COST_PROBLEMS": "monitoring",
    "MonitoringDataError": "monitoring",
    "cost_indicators": "monitoring",
    "high_cost_shares": "monitoring",
    "inventory_indicators": "monitoring",
    "monitoring_rows": "monitoring",
    "price_scissors": "monitoring",
    "BREAKDOWNS": "survey",
    "SurveyDataError": "survey",
    "composite_pmi": "survey",
    "headline_pmi": "survey",
    "diffusion_indices": "survey",
    "problem_shares": "survey",
    "respondent_weights": "survey",
    "sample_weights": "survey",
    "series_rows": "survey",
}


__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
