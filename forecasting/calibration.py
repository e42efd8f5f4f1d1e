"""Interval calibration and quantile averaging: shared by the default ensemble and the selection path.

A combination's intervals are the members' interval bounds averaged (:func:`combine_frames`), then widened or
narrowed by :func:`interval_scale` of the combination's standardised errors on a track record
(:func:`standardised_errors`), applied by :func:`rescale_intervals`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CALIBRATION_PRIOR", "combine_frames", "interval_scale", "rescale_intervals", "standardised_errors"]

def combine_frames(frames: Mapping[str, pd.DataFrame], weights: Mapping[str, float]) -> pd.DataFrame:
    """Weighted mean of the members' means and, column by column, of their interval bounds.

    Averaging the bounds is averaging the members' quantiles (a "Vincentised" combination of their
    predictive distributions), which keeps each member's own horizon-dependent spread.
    """
    total = sum(weights[k] for k in frames)
    out = None
    for key, frame in frames.items():
        part = frame * (weights[key] / total)
        out = part if out is None else out + part
    assert out is not None
    return out


#: Weight (in pseudo-observations) of "the members' own intervals are right" in :func:`interval_scale`.
CALIBRATION_PRIOR = 12.0


def standardised_errors(frame: pd.DataFrame, actual: np.ndarray) -> np.ndarray:
    """Errors ``actual - mean`` divided by the standard deviation implied by the frame's first interval.

    The frame's first ``lo-L``/``hi-L`` pair is read as a central normal interval:
    ``sd = (hi - lo) / (2 z_L)``.  Rows without a finite, positive width or without an outcome are dropped.
    """
    lo_col = next(c for c in frame.columns if c.startswith("lo-"))
    lv = float(lo_col[3:])
    z = stats.norm.ppf(0.5 + lv / 200.0)
    m = min(len(frame), len(actual))
    lo = frame[lo_col].to_numpy(float)[:m]
    hi = frame["hi-" + lo_col[3:]].to_numpy(float)[:m]
    sd = (hi - lo) / (2 * z)
    e = np.asarray(actual, dtype=float)[:m] - frame["mean"].to_numpy(float)[:m]
    ok = np.isfinite(e) & np.isfinite(sd) & (sd > 0)
    z_scores: np.ndarray = e[ok] / sd[ok]
    return z_scores


def interval_scale(z: np.ndarray, *, prior: float = CALIBRATION_PRIOR, bounds: tuple[float, float] = (0.5, 2.5)) -> float:
    """Factor by which to widen (> 1) or narrow (< 1) model intervals, from out-of-sample standardised errors.

    The empirical scale is the 80th percentile of ``|z|`` over its normal value (1.2816): robust to the
    odd outlier and exactly what an 80 % interval needs.  It is shrunk towards 1 (in logs) with the weight
    of ``prior`` pseudo-observations, so a short track record moves the intervals little, and bounded.
    """
    z = np.abs(np.asarray(z, dtype=float))
    z = z[np.isfinite(z)]
    if z.size == 0:
        return 1.0
    raw = float(np.quantile(z, 0.8)) / stats.norm.ppf(0.9)
    if raw <= 0:
        return bounds[0]
    w = z.size / (z.size + prior)
    return float(np.clip(np.exp(w * np.log(raw)), *bounds))


def rescale_intervals(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Multiply every interval's distance from the mean by ``factor`` (keeps asymmetric bounds' shape)."""
    if factor == 1.0:
        return frame
    out = frame.copy()
    mean = out["mean"]
    for col in out.columns:
        if col.startswith(("lo-", "hi-")):
            out[col] = mean + (out[col] - mean) * factor
    return out
