"""Automatic identification of the regARIMA model in Python, for X-13 to estimate with the model fixed.

``SeasonalAdjuster(arima="search")`` (``adjust.model = search``) identifies the model here and runs X-13 with
``arima{ model = ... }``: X-13's estimation, outlier detection, X-11 and diagnostics are unchanged, only its
``automdl{ }`` search (about nine tenths of its CPU on survey indices, ``benchmarks/README.md``) is replaced.

The procedure follows the TRAMO method that ``automdl`` implements (Gomez & Maravall 2001, "Automatic modeling
methods for univariate series", ch. 7 of *A Course in Time Series Analysis*), with automdl's defaults
(``maxorder = (2 1)``, ``maxdiff = (1 1)``, ``ub1 = 1.03``, ``ub2 = 1.05``, ``cancel = 0.1``, ``urfinal = 1.05``,
``checkmu = yes``); the estimates are conditional least squares (the analytic-Jacobian CSS of
:mod:`forecasting.arima`, a few milliseconds a model) instead of X-13's exact likelihood:

1. **Regression effects.** The user regressors of the spec (Spring Festival windows, working days, any extra
   ones), the built-in ``lpyear`` and the fixed outliers (AO, LS, TC) enter every fit as regression with ARIMA
   errors, differenced with the series.  The series is logged for the log modes; missing months are
   interpolated (at most :data:`MAX_MISSING_SHARE` of the sample).
2. **Additive outliers** (robust): months whose residual in the first-stage model exceeds :data:`AO_CRITICAL`
   robust standard deviations get a dummy for the identification (at most :data:`MAX_OUTLIERS`); they are
   looked for again in the chosen model, and the search is repeated once when the set changed.  They only keep a
   shock (the February-2020 drop) from steering the choice: X-13 then detects its own outliers as before.
3. **Differencing** (unit roots).  ``(2 0 0)(1 0 0)`` with a mean is fitted to the levels; a positive real AR
   root with modulus below ``ub1`` gives ``d = 1``, a seasonal AR coefficient above ``1 / ub1`` gives ``D = 1``.
   Then ``(1 d 1)(1 D 1)`` (with a mean when undifferenced) is fitted to the differenced series and the same test
   runs with ``ub2`` for the regular AR and :data:`SEASONAL_UNIT` for the seasonal AR, unless the AR root cancels an MA root of nearly the same modulus (``cancel``); repeated
   until no new difference, within ``maxdiff = (1 1)``.
4. **ARMA orders**: every ``(p d q)(P D Q)`` with ``p, q <= 2`` and ``P, Q <= 1`` (36 models) is fitted; the
   smallest BIC wins (automdl's criterion).  Candidates whose AR part is not stationary or MA part not
   invertible are rejected.
5. **Over-differencing** (``urfinal``): a regular MA root of the chosen model with modulus below 1.05 cancels the
   regular difference; the search is repeated without it.  (A seasonal MA near 1 with ``D = 1`` is kept, as
   automdl keeps it: a stable seasonal pattern.)
6. **Mean** (``checkmu``): the constant (a mean, or a trend constant on differenced data, X-13's ``const``) is
   kept when its t-value exceeds :data:`MEAN_T`.

:func:`identify` raises :class:`~forecasting.exceptions.ForecastingError` when the search cannot run (too many
missing months, no admissible model); the adjuster then falls back to the airline model and records why.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, signal

from .. import arima as ar
from ..exceptions import ForecastingError
from ._spec import X13Options

__all__ = ["AIRLINE", "SEARCH", "IdentifiedModel", "identify", "search_options"]

#: The ``arima`` value (and ``adjust.model`` setting) that asks for this identification.
SEARCH = "search"
#: The model X-13 gets when the search cannot run on a series.
AIRLINE = "(0 1 1)(0 1 1)"
PERIOD = 12
#: automdl's ``maxorder = (2 1)`` and ``maxdiff = (1 1)``.
MAX_P, MAX_Q, MAX_SP, MAX_SQ = 2, 2, 1, 1
MAX_D, MAX_SD = 1, 1
#: automdl's unit-root limits (moduli of AR roots below these are unit roots) and cancellation limit.
UB1, UB2, CANCEL, URFINAL = 1.03, 1.05, 0.1, 1.05
#: Seasonal AR coefficient of the ``(1 d 1)(1 D 1)`` stage above which ``D = 1``: with 10-15 years the least-squares
#: seasonal AR of a seasonal random walk is biased well below 1 (0.91-0.94 on simulated airline series where
#: X-13's automdl differences), so ``1 / ub2`` (0.952) missed seasonal unit roots; 0.88 is the second unit-root
#: limit of JDemetra+'s TRAMO.
SEASONAL_UNIT = 0.88
#: t-value above which the mean (or trend constant) stays in the model (``checkmu``).
MEAN_T = 1.96
#: Robust z of an identification outlier and the most such outliers (as :mod:`forecasting.arima`).
AO_CRITICAL, MAX_OUTLIERS = ar.AO_CRITICAL, ar.MAX_OUTLIERS
#: Smallest modulus of an AR or MA root of a candidate (X-13's exact likelihood reaches seasonal AR 0.9996 against
#: seasonal MA 0.985 on survey indices: a stable seasonal pattern; auto.arima's 1.01 would exclude it).
SEARCH_ROOT_MARGIN = 1.0001
#: Observations every candidate's BIC is conditioned on (the most any candidate loses: ``MAX_P + 12 MAX_SP``).
COMMON_START = MAX_P + PERIOD * MAX_SP
#: Ljung-Box check of the chosen model (automdl's ``ljungboxlimit = 0.95``): the residual autocorrelations up to
#: :data:`LB_LAGS`; a model whose Q is significant at ``1 - LB_LIMIT`` gives way to the next of the best
#: :data:`LB_CANDIDATES` by BIC that passes (automdl's "best five").
LB_LIMIT, LB_LAGS, LB_CANDIDATES = 0.95, 24, 5
#: When none of those passes: how far above the best BIC a model that passes may be.
LB_BIC_SLACK = 10.0
#: Largest share of missing months the identification interpolates.
MAX_MISSING_SHARE = 0.2
_FIXED = re.compile(r"^(ao|ls|tc)(\d{4})\.([a-z]{3})$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class IdentifiedModel:
    """The identified regARIMA model: orders, mean, and how it was found.

    Attributes
    ----------
    order, seasonal_order
        ``(p, d, q)`` and ``(P, D, Q)``.
    mean
        A constant term (X-13 ``regression{ variables = (const) }``): a mean when undifferenced, else a trend
        constant.
    bic
        BIC of the conditional-least-squares fit of the chosen model (over the differenced sample).
    outliers
        Months (``YYYY-MM``) given an additive-outlier dummy during the identification.
    steps
        What each stage decided, for the record.
    """

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int]
    mean: bool
    bic: float
    outliers: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()

    @property
    def arima(self) -> str:
        """The model as X-13 writes it, ``(p d q)(P D Q)``."""
        return "({} {} {})({} {} {})".format(*self.order, *self.seasonal_order)

    def describe(self) -> str:
        """One line for the result's notes."""
        mean = " with a mean" if self.mean and self.order[1] + self.seasonal_order[1] == 0 else (
            " with a trend constant" if self.mean else "")
        out = f"; identification outliers {', '.join(self.outliers)}" if self.outliers else ""
        return (f"model identified in Python (arima='search', TRAMO-style, automdl's limits): {self.arima}{mean}"
                f" (BIC {self.bic:.1f}); " + "; ".join(self.steps) + out)


# ------------------------------------------------------------------------------------------------ design
def _fixed_outlier_column(name: str, index: pd.PeriodIndex) -> tuple[str, np.ndarray] | None:
    match = _FIXED.match(name.lower())
    if not match:
        return None
    kind, year, month = match.group(1), int(match.group(2)), _MONTHS.index(match.group(3)) + 1
    at = pd.Period(year=year, month=month, freq="M")
    t = (np.asarray(index.asi8) - at.ordinal).astype(float)
    if kind == "ao":
        col = (t == 0).astype(float)
    elif kind == "ls":
        col = np.where(t < 0, -1.0, 0.0)  # X-13's level shift: -1 before, 0 from the month on
    else:
        col = np.where(t >= 0, 0.7 ** np.maximum(t, 0), 0.0)
    return (name.lower(), col) if np.ptp(col) > 0 else None


def _lpyear(index: pd.PeriodIndex) -> np.ndarray:
    """X-13's ``lpyear``: 0.75 in a leap-year February, -0.25 in other Februaries, 0 elsewhere."""
    feb = np.asarray(index.month == 2)
    leap = np.asarray([pd.Timestamp(year=int(y), month=1, day=1).is_leap_year for y in index.year])
    return np.where(feb, np.where(leap, 0.75, -0.25), 0.0)


def design(index: pd.PeriodIndex, regressors: pd.DataFrame | None, builtin: Sequence[str],
           fixed_outliers: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """The regressors of the identification on ``index`` and what of the spec was left out (with why).

    Parameters
    ----------
    index
        The series' months.
    regressors
        User regressors (at least over ``index``).
    builtin
        X-13 built-in ``regression.variables``: ``lpyear`` and ``const`` are modelled, others are left out.
    fixed_outliers
        X-13 outlier names (``ao2020.feb``): AO, LS and TC are modelled.
    """
    cols: dict[str, np.ndarray] = {}
    left: list[str] = []
    if regressors is not None:
        block = regressors.reindex(index)
        for name in block.columns:
            values = block[name].to_numpy(dtype=float)
            if np.isfinite(values).all() and np.ptp(values) > 0:
                cols[str(name)] = values
    for name in builtin:
        low = name.lower()
        if low == "lpyear":
            cols["lpyear"] = _lpyear(index)
        elif low != "const":
            left.append(name)
    for name in fixed_outliers:
        found = _fixed_outlier_column(name, index)
        if found is None:
            if not _FIXED.match(name.lower()):
                left.append(name)
            continue
        cols[found[0]] = found[1]
    return pd.DataFrame(cols, index=index), left


# ------------------------------------------------------------------------------------------------ fits
def _free_fit(w: np.ndarray, z: np.ndarray | None, p: int, q: int, P: int, Q: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ARMA(p, q)(P, Q) with regressors, AR part unconstrained (for the unit-root tests).

    Returns ``(ar, ma)`` coefficients: ``ar = [phi_1..phi_p, Phi_1..Phi_P]`` in the AR convention
    ``1 - phi B``, ``ma = [theta_1..theta_q, Theta_1..Theta_Q]`` in the convention ``1 + theta B``.
    """
    k = p + P + q + Q
    spec = ar.ArimaSpec(p, 0, q, P, 0, Q, False)
    beta0 = np.linalg.lstsq(z, w, rcond=None)[0] if z is not None and z.shape[1] else np.zeros(0)
    ncond = p + PERIOD * P

    def resid(x: np.ndarray) -> np.ndarray:
        u = w - (z @ x[k:] if z is not None and z.shape[1] else 0.0)
        # :func:`forecasting.arima._polys` orders the parameters (phi, theta, Phi, Theta)
        arp, map_ = ar._polys(np.r_[x[:p], x[p + P:p + P + q], x[p:p + P], x[p + P + q:k]], spec)
        with np.errstate(all="ignore"):
            e = np.asarray(signal.lfilter(arp, map_, u), dtype=float)[ncond:]
        return np.asarray(np.nan_to_num(e, nan=1e10, posinf=1e10, neginf=-1e10), dtype=float)

    lo = np.r_[np.full(p, -2.5), np.full(P, -1.5), np.full(q + Q, -0.99), np.full(len(beta0), -np.inf)]
    hi = -lo
    x0 = np.r_[np.zeros(k), beta0]
    sol = optimize.least_squares(resid, x0, bounds=(lo, hi), method="trf", xtol=1e-6, ftol=1e-6, max_nfev=200)
    x = sol.x
    return x[:p + P], x[p + P:k]


def _roots(poly: np.ndarray) -> np.ndarray:
    c = np.trim_zeros(np.asarray(poly, dtype=float), "b")
    return np.roots(c[::-1]) if len(c) > 1 else np.zeros(0, dtype=complex)


def _unit_root(phi: np.ndarray, limit: float) -> float | None:
    """A positive real root of ``1 - phi_1 B - phi_2 B^2`` with modulus below ``limit`` (its modulus), or ``None``."""
    best = None
    for r in _roots(np.r_[1.0, -phi]):
        if abs(r.imag) < 1e-6 and r.real > 0 and r.real < limit:
            best = r.real if best is None else min(best, r.real)
    return best


def _residuals(w: np.ndarray, zd: np.ndarray | None, fit: ar._CssFit) -> np.ndarray:
    """Innovations of a CSS fit over the whole differenced sample (zero pre-sample values)."""
    u = w - (zd @ fit.beta if zd is not None and zd.shape[1] == len(fit.beta) else 0.0)
    arp, ma = ar._polys(fit.arma, fit.spec)
    with np.errstate(all="ignore"):
        return np.asarray(signal.lfilter(arp, ma, u), dtype=float)


def _bic(w: np.ndarray, zd: np.ndarray | None, fit: ar._CssFit) -> float:
    """BIC over the common sample from :data:`COMMON_START` on (every candidate judged on the same months)."""
    e = _residuals(w, zd, fit)[COMMON_START:]
    n = len(e)
    sigma2 = float(e @ e) / n
    if not np.isfinite(sigma2) or sigma2 <= 0:
        return np.inf
    k = len(fit.arma) + len(fit.beta) + 1
    return float(n * np.log(sigma2) + k * np.log(n))


def _tvalue(w: np.ndarray, zd: np.ndarray, fit: ar._CssFit, column: int) -> float:
    """GLS t-value of one regression coefficient of a CSS fit, the ARMA parameters held at their estimates."""
    arp, ma = ar._polys(fit.arma, fit.spec)
    ncond = fit.spec.p + PERIOD * fit.spec.P
    with np.errstate(all="ignore"):
        x = np.asarray(signal.lfilter(arp, ma, zd, axis=0), dtype=float)[ncond:]
    try:
        cov = fit.sigma2 * np.linalg.inv(x.T @ x)
    except np.linalg.LinAlgError:
        return 0.0
    se = float(np.sqrt(max(cov[column, column], 0.0)))
    return float(fit.beta[column] / se) if se > 0 else 0.0


class _Data:
    """The series and regressors of one identification, with the differenced designs cached."""

    def __init__(self, y: pd.Series, x: pd.DataFrame) -> None:
        self.y = y
        self.v = y.to_numpy(dtype=float)
        self.x = x
        self._cache: dict[tuple[int, int, bool], tuple[np.ndarray, np.ndarray | None]] = {}

    def with_outliers(self, months: tuple[str, ...]) -> _Data:
        extra = ar._outlier_design(self.y.index, months)
        return _Data(self.y, pd.concat([self.x, extra], axis=1) if months else self.x)

    def differenced(self, d: int, D: int, mean: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """``(w, zd)``: the differenced series and regressors (the constant first when ``mean``)."""
        key = (d, D, mean)
        if key not in self._cache:
            w = ar._difference(self.v, d, D)
            cols = []
            if mean:
                cols.append(np.ones(len(w)))  # a mean, or the differenced trend of X-13's const
            for name in self.x.columns:
                col = ar._difference(self.x[name].to_numpy(dtype=float), d, D)
                if np.ptp(col) > 0 or (mean is False and np.abs(col).max() > 0):
                    cols.append(col)
            self._cache[key] = (w, np.column_stack(cols) if cols else None)
        return self._cache[key]


# ------------------------------------------------------------------------------------------------ stages
def _differencing(data: _Data, steps: list[str]) -> tuple[int, int]:
    """Steps 3 of the module docstring: TRAMO's unit-root tests with automdl's limits."""
    d = D = 0
    w, z = data.differenced(0, 0, True)
    phi = _free_fit(w, z, 2, 0, 1, 0)[0]
    root = _unit_root(phi[:2], UB1)
    if root is not None:
        d = 1
    if phi[2] > 1 / UB1:
        D = 1
    steps.append(f"(2 0 0)(1 0 0): AR root {_unit_root(phi[:2], np.inf) or np.nan:.3f}, seasonal AR {phi[2]:.3f}"
                 f" -> d={d}, D={D}")
    for _ in range(MAX_D + MAX_SD):
        if d == MAX_D and D == MAX_SD:
            break
        w, z = data.differenced(d, D, d + D == 0)
        arp, ma = _free_fit(w, z, 1, 1, 1, 1)
        new_d, new_D = d, D
        if d < MAX_D and arp[0] > 1 / UB2 and not _cancels(arp[0], ma[0]):
            new_d = 1
        if D < MAX_SD and arp[1] > SEASONAL_UNIT and not _cancels(arp[1], ma[1]):
            new_D = 1
        steps.append(f"({1} {d} 1)({1} {D} 1): AR {arp[0]:.3f}, seasonal AR {arp[1]:.3f}, MA {-ma[0]:.3f}, "
                     f"seasonal MA {-ma[1]:.3f} -> d={new_d}, D={new_D}")
        if (new_d, new_D) == (d, D):
            break
        d, D = new_d, new_D
    return d, D


def _cancels(phi: float, theta: float) -> bool:
    """An AR factor ``1 - phi B`` and an MA factor ``1 + theta B`` (roots ``1/phi``, ``-1/theta``) nearly equal."""
    if phi <= 0 or -theta <= 0:
        return False
    return abs(1 / phi - 1 / max(-theta, 1e-9)) < CANCEL


def _search(data: _Data, d: int, D: int) -> list[tuple[float, ar._CssFit]]:
    """Every admissible ``(p d q)(P D Q)`` within automdl's maximum orders, by BIC (best first)."""
    mean = d + D == 0
    w, zd = data.differenced(d, D, mean)
    out = []
    for P in range(MAX_SP + 1):
        for Q in range(MAX_SQ + 1):
            for p in range(MAX_P + 1):
                for q in range(MAX_Q + 1):
                    spec = ar.ArimaSpec(p, d, q, P, D, Q, False)
                    fit = ar._css(w, zd, spec, len(w), margin=SEARCH_ROOT_MARGIN)
                    if fit is not None:
                        out.append((_bic(w, zd, fit), fit))
    out.sort(key=lambda t: t[0])
    return out


def _ljung_box_p(e: np.ndarray, k_arma: int) -> float:
    """p-value of the Ljung-Box Q of residuals ``e`` over :data:`LB_LAGS` lags (``LB_LAGS - k_arma`` df)."""
    from scipy import stats

    e = e - e.mean()
    n = len(e)
    denom = float(e @ e)
    if denom <= 0 or n <= LB_LAGS + 1:
        return 1.0
    r = np.array([float(e[k:] @ e[:-k]) / denom for k in range(1, LB_LAGS + 1)])
    q = n * (n + 2) * float(np.sum(r ** 2 / (n - np.arange(1, LB_LAGS + 1))))
    return float(stats.chi2.sf(q, max(LB_LAGS - k_arma, 1)))


def _ljung_box_choice(data: _Data, found: list[tuple[float, ar._CssFit]],
                      steps: list[str]) -> tuple[float, ar._CssFit]:
    """The best model by BIC whose residuals pass the Ljung-Box check, among the best :data:`LB_CANDIDATES`; when
    none does, the best-BIC model that passes among all within :data:`LB_BIC_SLACK` of the best, else the one with
    the least autocorrelated residuals there (automdl then also widens its search)."""
    pvalues: list[float] = []
    for bic, fit in found:
        if len(pvalues) >= LB_CANDIDATES and bic > found[0][0] + LB_BIC_SLACK:
            break
        s = fit.spec
        w, zd = data.differenced(s.d, s.D, s.d + s.D == 0)
        pvalues.append(_ljung_box_p(_residuals(w, zd, fit)[COMMON_START:], len(fit.arma)))
        rank = len(pvalues) - 1
        if pvalues[-1] >= 1 - LB_LIMIT:
            if rank:
                steps.append(f"the {rank} model(s) of lower BIC failed the Ljung-Box check (Q({LB_LAGS}) p < "
                             f"{1 - LB_LIMIT:.2f}); {s.p} {s.q} {s.P} {s.Q} passes (p = {pvalues[-1]:.3f})")
            return bic, fit
    rank = int(np.argmax(pvalues))
    steps.append(f"no model within BIC + {LB_BIC_SLACK:g} passes the Ljung-Box check; the least autocorrelated "
                 f"residuals kept (p = {pvalues[rank]:.3f}, BIC rank {rank + 1})")
    return found[rank]


def _regular_ma_unit(fit: ar._CssFit) -> bool:
    """Whether the chosen model's regular MA part has a root of modulus below ``URFINAL``.

    Only the regular part: automdl keeps a seasonal difference with a seasonal MA near 1 (a stable seasonal
    pattern; Theta 0.996 seen on a survey index).
    """
    s = fit.spec
    return s.q > 0 and ar._min_root(np.r_[1.0, fit.arma[s.p:s.p + s.q]]) < URFINAL


def _outliers(data: _Data, fit: ar._CssFit, mean: bool) -> tuple[str, ...]:
    """Months whose residual in ``fit`` exceeds ``AO_CRITICAL`` robust standard deviations (largest first)."""
    s = fit.spec
    w, zd = data.differenced(s.d, s.D, mean)
    u = w - (zd @ fit.beta if zd is not None and zd.shape[1] == len(fit.beta) else 0.0)
    arp, ma = ar._polys(fit.arma, s)
    ncond = s.p + PERIOD * s.P
    with np.errstate(all="ignore"):
        e = np.asarray(signal.lfilter(arp, ma, u), dtype=float)[ncond:]
    return _large(e, data.y.index, s.d + PERIOD * s.D + ncond)


def _large(e: np.ndarray, index: pd.PeriodIndex, first: int) -> tuple[str, ...]:
    if len(e) < 2 * PERIOD or not np.isfinite(e).all():
        return ()
    centre = float(np.median(e))
    scale = 1.4826 * float(np.median(np.abs(e - centre)))
    if scale <= 0:
        return ()
    z = np.abs(e - centre) / scale
    picked = [int(i) for i in np.argsort(-z) if z[i] > AO_CRITICAL][:MAX_OUTLIERS]
    return tuple(sorted(str(index[first + i]) for i in picked))


def _first_outliers(data: _Data) -> tuple[str, ...]:
    """Outliers of the first-stage model ``(2 0 0)(1 0 0)`` with a mean (before any differencing is chosen)."""
    w, z = data.differenced(0, 0, True)
    phi = _free_fit(w, z, 2, 0, 1, 0)[0]
    beta = np.linalg.lstsq(z, w, rcond=None)[0] if z is not None else np.zeros(0)
    u = w - (z @ beta if z is not None else 0.0)
    arp = ar._polys(phi, ar.ArimaSpec(2, 0, 0, 1, 0, 0, False))[0]
    e = np.asarray(signal.lfilter(arp, [1.0], u), dtype=float)[2 + PERIOD:]
    return _large(e, data.y.index, 2 + PERIOD)


def _choose(data: _Data, d: int, D: int, steps: list[str]) -> tuple[int, int, ar._CssFit, float]:
    """The ARMA search with the over-differencing check (steps 4-5)."""
    while True:
        found = _search(data, d, D)
        if not found:
            raise ForecastingError(f"no admissible ARMA model within maxorder (2 1) for d={d}, D={D}")
        bic, best = _ljung_box_choice(data, found, steps)
        if d == 0 or not _regular_ma_unit(best):
            return d, D, best, bic
        s = best.spec
        steps.append(f"({s.p} {d} {s.q})({s.P} {D} {s.Q}) has a regular MA root below urfinal {URFINAL}: "
                     f"over-differenced, d={d - 1}")
        d -= 1


def identify(y: pd.Series, regressors: pd.DataFrame | None = None, *, log: bool = False,
             builtin: Sequence[str] = (), fixed_outliers: Sequence[str] = ()) -> IdentifiedModel:
    """Identify the regARIMA model of a monthly series (see the module docstring).

    Parameters
    ----------
    y
        Monthly series on a ``PeriodIndex`` (NaN for missing months).
    regressors
        User regressors of the spec (covering at least ``y``'s months).
    log
        Identify on ``log(y)`` (the multiplicative and log-additive modes).
    builtin
        X-13 built-in regressors of the spec (``lpyear`` is modelled; ``const`` is decided here).
    fixed_outliers
        X-13 names of the outliers always in the model (``ao2020.feb``).

    Returns
    -------
    IdentifiedModel

    Raises
    ------
    ForecastingError
        Too many missing months, a log of a non-positive value, or no admissible model.
    """
    values = y.astype(float)
    n = len(values)
    missing = int(values.isna().sum())
    if missing > MAX_MISSING_SHARE * n:
        raise ForecastingError(f"{missing} of {n} months missing (more than {MAX_MISSING_SHARE:.0%}): too many for "
                               "the model search to interpolate")
    if log:
        if (values.dropna() <= 0).any():
            raise ForecastingError("a log model needs positive values")
        values = np.log(values)
    if missing:
        values = values.interpolate(limit_direction="both")
    x, left = design(values.index, regressors, builtin, fixed_outliers)
    steps: list[str] = []
    if left:
        steps.append("not in the identification: " + ", ".join(left))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = _Data(values, x)
        outliers = _first_outliers(base)
        data = base.with_outliers(outliers)
        d, D = _differencing(data, steps)
        if n - d - PERIOD * D < 3 * PERIOD:
            raise ForecastingError(f"{n} months leave too few after differencing (d={d}, D={D})")
        d, D, best, bic = _choose(data, d, D, steps)
        again = tuple(sorted(set(outliers) | set(_outliers(data, best, d + D == 0))))
        if again != outliers and len(again) <= MAX_OUTLIERS:
            outliers = again
            data = base.with_outliers(outliers)
            d, D, best, bic = _choose(data, d, D, steps)
        mean = _mean(data, best, d, D)
    s = best.spec
    steps.append("ARMA orders by BIC over p, q <= 2, P, Q <= 1")
    steps.append(f"mean: {'kept' if mean else 'dropped'} (t-test at {MEAN_T})")
    return IdentifiedModel((s.p, d, s.q), (s.P, D, s.Q), mean, bic, outliers, tuple(steps))


def _mean(data: _Data, best: ar._CssFit, d: int, D: int) -> bool:
    """checkmu: is the constant's t-value above :data:`MEAN_T` in the chosen model?"""
    s = best.spec
    w, zd = data.differenced(d, D, True)
    fit = best if d + D == 0 else ar._css(w, zd, s, len(w), margin=SEARCH_ROOT_MARGIN)
    if fit is None or zd is None:
        return False
    return abs(_tvalue(w, zd, fit, 0)) > MEAN_T


def search_options(options: X13Options, y: pd.Series, regressors: pd.DataFrame | None, *, log: bool, label: str,
                   combined_janfeb: Sequence[int] = ()) -> tuple[X13Options, str, bool]:
    """``options`` with ``arima = "search"`` replaced by the model :func:`identify` finds on ``y``.

    Parameters
    ----------
    options
        The adjuster's X-13 options (their built-in regressors and fixed outliers enter the identification).
    y
        The series (NaN for missing months).
    regressors
        The spec's user regressors over ``y``'s months.
    log
        Identify on the logs.
    label
        Series name for the messages.
    combined_janfeb
        Years whose February holds the combined January-February figure: that February is no observation of
        February and is left out (treated as missing).

    Returns
    -------
    tuple
        ``(options, note, failed)``: the options with the model (and ``const`` when a mean is kept), the note
        recording the identification or why it failed, and whether it failed (then the model is :data:`AIRLINE`).
    """
    y = y.copy()
    for year in combined_janfeb:
        feb = pd.Period(f"{year}-02", "M")
        if feb in y.index:
            y[feb] = np.nan
    try:
        model = identify(y, regressors, log=log, builtin=options.builtin_regressors,
                         fixed_outliers=options.fixed_outliers)
    except Exception as exc:  # numerical trouble in one series' search: recorded, the series still adjusted
        return (dataclasses.replace(options, arima=AIRLINE),
                f"{label}: the model search (arima='search') failed: {exc}; X-13 ran with the airline model "
                f"{AIRLINE} instead.", True)
    builtin = tuple(options.builtin_regressors)
    if model.mean and not any(b.lower() == "const" for b in builtin):
        builtin += ("const",)
    return dataclasses.replace(options, arima=model.arima, builtin_regressors=builtin), model.describe(), False
