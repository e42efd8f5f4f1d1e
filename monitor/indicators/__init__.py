"""Indicators computed from the store's observations: pure functions on pandas frames.

Survey indices (:mod:`monitor.indicators.survey`): weights and the non-response adjustment, diffusion
indices by breakdown with standard errors, the composite PMI, problem shares, and rows for the
``series_value`` table.
"""

from __future__ import annotations

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
    "BREAKDOWNS",
    "SurveyDataError",
    "composite_pmi",
    "diffusion_indices",
    "problem_shares",
    "respondent_weights",
    "sample_weights",
    "series_rows",
]
