"""Exceptions and warnings of the :mod:`forecasting` package."""

from __future__ import annotations

__all__ = ["ForecastingError", "ForecastingWarning"]


class ForecastingError(Exception):
    """A series or option cannot be handled; the message names the fix."""


class ForecastingWarning(UserWarning):
    """Base class of every warning issued by :mod:`forecasting`."""
