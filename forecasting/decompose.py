"""Classical seasonal decomposition helpers shared by the models and the outlier cleaner.

Kept apart from :mod:`forecasting.models` so that :mod:`forecasting.outliers` (which the models call) and the
models both import them without importing each other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PERIOD", "classical_indices", "seasonality_test"]

#: Months in a seasonal cycle.
PERIOD = 12


def seasonality_test(y: np.ndarray, period: int = PERIOD) -> bool:
    """The M4 seasonality test: lag-``period`` autocorrelation outside the 90 % band (needs 3 full years)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 3 * period:
        return False
    x = y - y.mean()
    denom = float(x @ x)
    if denom <= 0:
        return False
    acf = np.array([float(x[k:] @ x[: n - k]) / denom for k in range(period + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[1:period] ** 2)) / n)
    return bool(abs(acf[period]) > limit)


def classical_indices(y: np.ndarray, *, multiplicative: bool, period: int = PERIOD) -> np.ndarray:
    """Seasonal indices (length ``period``, aligned to position 0 of ``y``) of a classical decomposition."""
    y = np.asarray(y, dtype=float)
    weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    trend = np.full(len(y), np.nan)
    half = period // 2
    trend[half: len(y) - half] = np.convolve(y, weights, mode="valid")
    ratio = y / trend if multiplicative else y - trend
    idx = np.array([np.nanmean(ratio[k::period]) for k in range(period)], dtype=float)
    centred: np.ndarray = idx / idx.mean() if multiplicative else idx - idx.mean()
    return centred
