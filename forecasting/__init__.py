"""Pure time-series statistics on pandas objects with a monthly PeriodIndex: no I/O.

Seasonal adjustment (:mod:`forecasting.seasonal`) with Chinese calendar regressors
(:mod:`forecasting.calendar`); forecasting models with one ``fit / predict / forecast`` contract
(:mod:`forecasting.models`), :func:`forecast` and rolling-origin :func:`backtest` / :func:`accuracy`.
"""

from .attainment import Attainment as Attainment
from .attainment import target_attainment as target_attainment
from .backtest import accuracy as accuracy
from .backtest import backtest as backtest
from .exceptions import CalendarRuleWarning as CalendarRuleWarning
from .exceptions import ForecastingError as ForecastingError
from .exceptions import ForecastingWarning as ForecastingWarning
from .exceptions import ModelFailureWarning as ModelFailureWarning
from .exceptions import NowcastConvergenceWarning as NowcastConvergenceWarning
from .exceptions import SeriesTooShortError as SeriesTooShortError
from .exceptions import X13Error as X13Error
from .exceptions import X13NotFoundError as X13NotFoundError
from .exceptions import X13Warning as X13Warning
from .forecast import ForecastResult as ForecastResult
from .forecast import forecast as forecast
from .gaps import fill_missing as fill_missing
from .models import ETS as ETS
from .models import Forecaster as Forecaster
from .models import Naive2 as Naive2
from .models import SeasonalNaive as SeasonalNaive
from .models import Theta as Theta
from .nowcast import NowcastResult as NowcastResult
from .nowcast import nowcast as nowcast
from .outliers import clean_outliers as clean_outliers
from .seasonal import AdjustmentResult as AdjustmentResult
from .seasonal import SeasonalAdjuster as SeasonalAdjuster
from .selection import SARIMAX as SARIMAX
from .selection import Combination as Combination

__all__ = [
    "Attainment",
    "AdjustmentResult",
    "CalendarRuleWarning",
    "ForecastingError",
    "ForecastingWarning",
    "SeasonalAdjuster",
    "X13Error",
    "X13NotFoundError",
    "X13Warning",
    "ETS",
    "SARIMAX",
    "Combination",
    "ForecastResult",
    "Forecaster",
    "ModelFailureWarning",
    "Naive2",
    "NowcastConvergenceWarning",
    "NowcastResult",
    "SeasonalNaive",
    "SeriesTooShortError",
    "Theta",
    "accuracy",
    "backtest",
    "clean_outliers",
    "fill_missing",
    "forecast",
    "nowcast",
    "target_attainment",
]
