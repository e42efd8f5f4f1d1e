"""Result objects of :class:`~forecasting.seasonal.SeasonalAdjuster`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .diagnostics import SeasonalityTest

__all__ = ["AdjustmentResult", "Diagnostics"]


@dataclass(frozen=True)
class Diagnostics:
    """Quality measures of one adjustment; ``None`` where the method does not produce one.

    Attributes
    ----------
    m7, q
        X-11 quality statistics M7 and Q (X-13 ``.udg``; X-11 decomposition only).
    qs_original
        QS test on the observed series (is there seasonality to remove?).
    qs_seasadj
        QS test on the seasonally adjusted series.
    qs_seasadj_outlier_adjusted
        QS on the adjusted series with the regARIMA outlier effects removed (outliers are not seasonal;
        compare X-13's "EV adj" QS). The traffic light uses this one.
    qs_irregular
        QS on the irregular (outlier effects removed likewise).
    f_seasadj
        ANOVA F-test for residual seasonality in the (outlier-adjusted) adjusted series.
    f_stable
        X-11 D8 F-test for stable seasonality when X-13 ran, else the ANOVA F-test on the observed series.
    f_moving
        X-11 D8 moving-seasonality F-test (X-13 only).
    regressor_tests
        Joint chi-squared tests of regressor groups from X-13 (e.g. ``"User-defined Holiday"``):
        ``{group: (df, chi2, p)}``.
    x13_qs
        X-13's own QS values ``{name: (QS, p)}`` (``qsori``, ``qssadj``, ``qssadjevadj``, ...).
    sliding_spans
        ``{"a_pct": ..., "mm_pct": ..., "yy_pct": ...}``: % of months flagged for seasonal factors,
        month-to-month and year-on-year changes of the adjusted series (X-13 ``slidingspans``).
    aicc
        AICc of the regARIMA model.
    light
        ``"green"``, ``"amber"`` or ``"red"`` (worst component, see :func:`~forecasting.seasonal.traffic_light`).
    light_reasons
        Component -> explanation with the threshold.
    """

    m7: float | None = None
    q: float | None = None
    qs_original: SeasonalityTest | None = None
    qs_seasadj: SeasonalityTest | None = None
    qs_seasadj_outlier_adjusted: SeasonalityTest | None = None
    qs_irregular: SeasonalityTest | None = None
    f_seasadj: SeasonalityTest | None = None
    f_stable: SeasonalityTest | None = None
    f_moving: SeasonalityTest | None = None
    regressor_tests: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)
    x13_qs: Mapping[str, SeasonalityTest] = field(default_factory=dict)
    sliding_spans: Mapping[str, float] | None = None
    aicc: float | None = None
    light: str = "green"
    light_reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AdjustmentResult:
    """Seasonal adjustment of one monthly series.

    For ``decomposition_mode == "additive"`` the components are in the units of the series
    (``seasadj = observed - seasonal - calendar``); otherwise they are factors around 1
    (``seasadj = observed / (seasonal * calendar)``).

    Attributes
    ----------
    name
        Series name.
    method
        Method asked for (``"x13"`` or ``"stl"``).
    method_used
        ``"x13-x11"``, ``"x13-seats"``, ``"stl"`` or ``"stl-fallback"`` (X-13 was asked for but no binary was found).
    decomposition_mode
        ``"additive"``, ``"multiplicative"`` or ``"log-additive"`` (the one actually used).
    observed
        The input series (NaN where missing; a combined Jan-Feb value stays in February).
    filled
        The series that was decomposed: missing values estimated, combined Jan-Feb values split.
    estimated
        True where ``filled`` is an estimate rather than an observation.
    seasadj
        Seasonally and calendar adjusted series; NaN where the observation is missing (not split).
    seasonal
        Seasonal component/factors (without calendar effects).
    calendar
        Combined calendar component/factors (festival x working day).
    festival
        Moving-holiday (Spring Festival, Dragon Boat, Mid-Autumn) component/factors.
    working_day
        Working-day component/factors.
    trend, irregular
        Trend-cycle and irregular.
    outlier_effects
        Combined regARIMA outlier component/factors (neutral where there are none).
    forecast
        Forecasts of the observed series beyond the sample (X-13 only), else ``None``.
    model
        ARIMA orders like ``"(0 1 1)(0 1 1)"`` (X-13), else ``None``.
    regressors
        One row per calendar/user regressor: ``group, coef, se, t``.
    outliers
        One row per outlier: ``type, period, coef, se, t``.
    diagnostics
        :class:`Diagnostics`.
    spec
        Spec text of the final X-13 run (``None`` for STL).
    notes
        Human-readable remarks (fallback used, Jan-Feb split, calendar rule years, ...).
    x13_warnings
        WARNING messages X-13 printed (also issued as :class:`~forecasting.exceptions.X13Warning`).
    udg
        The raw X-13 ``.udg`` diagnostics (``{}`` for STL).
    """

    name: str
    method: str
    method_used: str
    decomposition_mode: str
    observed: pd.Series
    filled: pd.Series
    estimated: pd.Series
    seasadj: pd.Series
    seasonal: pd.Series
    calendar: pd.Series
    festival: pd.Series
    working_day: pd.Series
    trend: pd.Series
    irregular: pd.Series
    outlier_effects: pd.Series
    forecast: pd.Series | None
    model: str | None
    regressors: pd.DataFrame
    outliers: pd.DataFrame
    diagnostics: Diagnostics
    spec: str | None
    notes: tuple[str, ...] = ()
    x13_warnings: tuple[str, ...] = ()
    udg: Mapping[str, str] = field(default_factory=dict)

    @property
    def multiplicative(self) -> bool:
        """True when components are factors (multiplicative or log-additive decomposition)."""
        return self.decomposition_mode != "additive"

    def projected_factors(self, year: int) -> pd.Series:
        """The combined seasonal x calendar factors X-13 projects for the 12 months of ``year`` (X-11 table D16
        with its forecasts), from the spec of this adjustment: what publishing with projected factors applies.

        Raises
        ------
        ForecastingError
            The adjustment was not made by X-13 with the X-11 decomposition, or X-13 wrote no D16 factor for
            some month of ``year`` (the series must reach December of the year before).
        """
        from ..exceptions import ForecastingError
        from ._x13 import run_x13

        if self.method_used != "x13-x11" or not self.spec:
            raise ForecastingError(
                f"{self.name}: projected factors need X-13 with the X-11 decomposition (table D16 with forecasts); "
                f"the adjustment used {self.method_used!r}: adjust with method='x13'")
        d16 = run_x13(self.spec, name=self.name).series("d16")
        months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
        if d16 is None or d16.reindex(months).isna().any():
            raise ForecastingError(f"{self.name}: X-13 wrote no D16 factors for every month of {year}; check that "
                                   "the series reaches December of the year before.")
        return d16.reindex(months).astype(float)

    def frame(self) -> pd.DataFrame:
        """All monthly components side by side."""
        return pd.DataFrame({
            "observed": self.observed, "filled": self.filled, "estimated": self.estimated,
            "seasadj": self.seasadj, "seasonal": self.seasonal, "calendar": self.calendar,
            "festival": self.festival, "working_day": self.working_day, "trend": self.trend,
            "irregular": self.irregular, "outlier_effects": self.outlier_effects,
        })

    def summary(self) -> str:
        """A short plain-text report."""
        d = self.diagnostics
        lines = [
            f"Seasonal adjustment of {self.name!r}: {self.method_used}, {self.decomposition_mode}, "
            f"{self.observed.index[0]}..{self.observed.index[-1]} ({int(self.observed.notna().sum())} observations)",
            f"model: {self.model or '-'}   light: {d.light}",
        ]
        if len(self.regressors):
            lines.append("regressors:")
            for name, row in self.regressors.iterrows():
                lines.append(f"  {name:<14} {row['coef']:+.5g}  t = {row['t']:+.2f}")
        if len(self.outliers):
            lines.append("outliers: " + ", ".join(f"{r.type}{r.period}" for r in self.outliers.itertuples()))
        lines += [f"  {k}: {v}" for k, v in d.light_reasons.items()]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)
