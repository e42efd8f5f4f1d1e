"""Pure time-series statistics on pandas objects with a monthly PeriodIndex: no I/O.

Seasonal adjustment (:mod:`forecasting.seasonal`) with Chinese calendar regressors
(:mod:`forecasting.calendar`); forecasting models and backtests come later.
"""

from .exceptions import CalendarRuleWarning as CalendarRuleWarning
from .exceptions import ForecastingError as ForecastingError
from .exceptions import ForecastingWarning as ForecastingWarning
from .exceptions import X13Error as X13Error
from .exceptions import X13NotFoundError as X13NotFoundError
from .exceptions import X13Warning as X13Warning
from .seasonal import AdjustmentResult as AdjustmentResult
from .seasonal import SeasonalAdjuster as SeasonalAdjuster

__all__ = [
    "AdjustmentResult",
    "CalendarRuleWarning",
    "ForecastingError",
    "ForecastingWarning",
    "SeasonalAdjuster",
    "X13Error",
    "X13NotFoundError",
    "X13Warning",
]
