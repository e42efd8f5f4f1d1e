"""Pure time-series statistics on pandas objects with a monthly PeriodIndex: no I/O.

Seasonal adjustment, forecasting models and backtests live here (later issues).
"""

from .exceptions import ForecastingError as ForecastingError
from .exceptions import ForecastingWarning as ForecastingWarning

__all__ = ["ForecastingError", "ForecastingWarning"]
