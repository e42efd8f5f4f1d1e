"""Signal lamps (景气信号灯) per indicator and the composite warning index (METHODOLOGY 6.3).

Lamps
    Each indicator *k* has four critical values (检查值) ``c1 < c2 < c3 < c4`` in its own units, dated: a
    table row applies from its ``valid_from`` month until the next row's (like Taiwan's periodic revision
    of its 檢查值).  A month before the first row has no lamp.  The lamp scores 1 to 5 points::

        1 blue 蓝 (过冷) | 2 light blue 浅蓝 (偏冷) | 3 green 绿 (正常) | 4 yellow 黄 (偏热) | 5 red 红 (过热)

    For an indicator where a higher value is hotter (``higher="hotter"``: PMI, growth rates) the score is
    1 for ``x <= c1``, 2 for ``c1 < x <= c2``, 3 for ``c2 < x <= c3``, 4 for ``c3 < x <= c4`` and 5 for
    ``x > c4`` (METHODOLOGY 6.3 step 2).  Where a higher value is colder (``higher="colder"``: the share
    of stopped firms, inventory, the price scissors) the scale is mirrored: 1 for ``x >= c4`` down to 5 for
    ``x < c1``.  Either way a value exactly on a cut-off gets the colder of the two lamps.

Composite
    METHODOLOGY 6.3 steps 3-4 (the mapping is INFERRED there from the published values; a proposal)::

        W_t = 100 x sum_k s_kt / (3 K_t)

    over the ``K_t`` indicators with a lamp that month, so all-green (every s = 3) gives 100, the
    "理想水平".  W ranges from 33.3 (all blue) to 166.7 (all red).  Its colour::

        blue W <= 66.7 | light blue <= 83.3 | green <= 116.7 | yellow <= 133.3 | red above

    The band edges are average lamp scores of 2.0, 2.5, 3.5 and 4.0 (W = 200/3, 250/3, 350/3, 400/3).
    The colour is decided on the exact average score (integer arithmetic), with an edge going to the
    colder colour as for single lamps: an average of exactly 2.5 (W = 83.33) is light blue.  Do not
    re-derive the colour from a W rounded to one decimal (66.7 rounded from 66.67 would read light blue).
    A missing indicator leaves the composite over the others (``n`` says how many); with fewer than
    ``min_indicators`` there is no composite that month.

Default critical values (:data:`DEFAULT_LAMPS`)
    All are PROPOSALs to confirm with the bureau: NBS does not publish its critical values (METHODOLOGY
    6.3, UNVERIFIED).  Each row's ``basis`` says where the numbers come from.  For growth rates the
    methodology suggests re-estimating them from the city's own history, as percentiles of the series
    (:func:`percentile_cutoffs`), and reviewing them yearly; add a dated row when they change, never edit
    an old row (published lamps must stay reproducible).

Frames
    :func:`signal_lamps` returns the tidy layout of :mod:`monitor.indicators.monitoring` (keys
    ``lamps/<indicator>`` with the score as value, ``lamps/composite`` with W and ``n`` = indicators
    used), plus a ``colour`` column; :func:`~monitor.indicators.monitoring.monitoring_rows` turns it into
    ``series_value`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import MonitorError
from ..periods import parse_month

__all__ = [
    "COLOURS",
    "COLOURS_ZH",
    "COMPOSITE_BANDS",
    "DEFAULT_LAMPS",
    "LampConfigError",
    "LampIndicator",
    "composite_colour",
    "composite_index",
    "lamp_inputs",
    "lamp_scores",
    "percentile_cutoffs",
    "signal_lamps",
]

Higher = Literal["hotter", "colder"]
Cutoffs = tuple[float, float, float, float]

#: Lamp colours for scores 1..5.
COLOURS: tuple[str, ...] = ("blue", "light_blue", "green", "yellow", "red")
COLOURS_ZH: tuple[str, ...] = ("蓝灯", "浅蓝灯", "绿灯", "黄灯", "红灯")
#: Upper edges of the composite's blue, light-blue, green and yellow bands (average score x 100 / 3).
COMPOSITE_BANDS: tuple[float, float, float, float] = (200 / 3, 250 / 3, 350 / 3, 400 / 3)


class LampConfigError(MonitorError, ValueError):
    """A table of critical values, or lamp input, that breaks a rule of the signal lamps."""


@dataclass(frozen=True)
class LampIndicator:
    """One indicator of the signal-lamp system and its dated critical values.

    Attributes
    ----------
    code
        Indicator code: the column of the input frame and the key ``lamps/<code>``.
    name_zh, name_en
        Names for reports.
    source
        Series key of the input (:func:`lamp_inputs` picks it from tidy frames).
    unit
        Unit of the input value.
    higher
        ``"hotter"`` if a higher value means a hotter economy, ``"colder"`` if it means a colder one.
    schedule
        ``((valid_from, (c1, c2, c3, c4)), ...)``: months as ``YYYY-MM``, increasing; cut-offs increasing,
        in the input's units, whatever ``higher`` is.
    basis
        Where the critical values come from.
    """

    code: str
    name_zh: str
    name_en: str
    source: str
    unit: str
    higher: Higher
    schedule: tuple[tuple[str, Cutoffs], ...]
    basis: str = ""

    def __post_init__(self) -> None:
        if self.higher not in ("hotter", "colder"):
            raise LampConfigError(f"lamp {self.code!r}: higher must be 'hotter' or 'colder'; got {self.higher!r}")
        if not self.schedule:
            raise LampConfigError(f"lamp {self.code!r} needs at least one (valid_from, cut-offs) row in its schedule")
        previous = None
        for valid_from, cutoffs in self.schedule:
            month = parse_month(valid_from, what=f"valid_from of lamp {self.code!r}")
            if previous is not None and month <= previous:
                raise LampConfigError(f"lamp {self.code!r}: valid_from months must increase; {month} follows {previous}")
            previous = month
            c = np.asarray(cutoffs, dtype=float)
            if c.shape != (4,) or not np.all(np.isfinite(c)) or not np.all(np.diff(c) > 0):
                raise LampConfigError(f"lamp {self.code!r} from {month}: give four increasing finite cut-offs "
                                      f"c1 < c2 < c3 < c4; got {tuple(cutoffs)}")

    def cutoffs_for(self, periods: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray]:
        """Cut-offs (``len(periods) x 4``, NaN before the first row) and the row's valid_from ordinal (-1)."""
        starts = np.array([parse_month(v).ordinal for v, _ in self.schedule], dtype=np.int64)
        table = np.array([c for _, c in self.schedule], dtype=float)
        row = np.searchsorted(starts, np.asarray(periods.asi8, dtype=np.int64), side="right") - 1
        cut = np.where((row >= 0)[:, None], table[np.maximum(row, 0)], np.nan)
        return cut, np.where(row >= 0, starts[np.maximum(row, 0)], -1)


#: The default lamps: every critical value is a PROPOSAL to confirm with the bureau.
DEFAULT_LAMPS: tuple[LampIndicator, ...] = (
    LampIndicator(
        "pmi_headline", "制造业PMI", "Manufacturing PMI", "pmi/headline", "index", "hotter",
        (("2005-01", (45.0, 49.0, 51.0, 55.0)),),
        "METHODOLOGY 6.3: fixed cut-offs for PMI-type DIs, 50 = expansion line; green within one point of "
        "50; blue/red beyond 45/55, levels the national PMI reached only in 2008-09, 2020 and the rebounds after."),
    LampIndicator(
        "new_orders", "新订单指数", "New orders", "pmi/new_orders", "index", "hotter",
        (("2005-01", (44.0, 49.0, 52.0, 56.0)),),
        "The headline's cut-offs, widened by about a point on each side: the new-orders index swings further "
        "than the headline (it carries 30 % of it)."),
    LampIndicator(
        "electricity_yoy", "工业用电量同比", "Industrial electricity, y/y", "electricity/yoy/city", "%", "hotter",
        (("2005-01", (0.0, 3.0, 9.0, 15.0)),),
        "Green for 3-9 % growth, a band around the bureau's 6.5 % output-growth target (electricity tracks "
        "industrial value added, METHODOLOGY 6.1); blue for falling use, red above 15 %.  Re-estimate from "
        "the city's history with percentile_cutoffs."),
    LampIndicator(
        "iva_yoy", "规上工业增加值同比", "Industrial value added, y/y", "iva/yoy/city", "%", "hotter",
        (("2005-01", (2.0, 5.0, 9.0, 12.0)),),
        "Official statistic iva/yoy of the city (region 440100).  Green for 5-9 %, around the 6.5 % target "
        "of the city's 2017 plan; blue at 2 % or less, red above 12 %."),
    LampIndicator(
        "finished_goods_inventory", "产成品库存指数", "Finished-goods inventory DI", "pmi/finished_goods_inventory",
        "index", "colder",
        (("2005-01", (44.0, 46.0, 49.0, 51.0)),),
        "A higher DI means stocks piling up (unsold goods): colder.  The national index has mostly run "
        "at 44-50: green 46-49, light blue from 49, blue from 51 (accumulating); yellow/red for fast "
        "destocking below 46/44."),
    LampIndicator(
        "price_scissors", "价格剪刀差(购进-出厂)", "Price scissors (input - output DI)", "costs/price_scissors/city",
        "pp", "colder",
        (("2005-01", (-2.0, 2.0, 10.0, 16.0)),),
        "Input-price DI minus output-price DI: a wider gap squeezes margins, colder.  It is usually "
        "positive (a few points); green 2-10 pp, light blue from 10, blue from 16 pp; yellow/red when "
        "selling prices outrun purchase prices (below 2 / -2 pp)."),
    LampIndicator(
        "stopped_share", "停产企业占比", "Share of stopped enterprises", "status/stopped_share/city", "%",
        "colder",
        (("2005-01", (0.5, 1.0, 3.0, 6.0)),),
        "Reported stopped firms as a share of reporting sample firms (production_status_indicators).  "
        "Green 1-3 %, light blue from 3 %, blue from 6 %; below 1 % / 0.5 % yellow / red (everybody "
        "running: a hot market, to be read with care)."),
)


def _check_unique(indicators: Sequence[LampIndicator]) -> None:
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise LampConfigError(f"each lamp indicator code appears once; {dup} repeat: merge their schedules")


def _periods(index: pd.Index, what: str) -> pd.PeriodIndex:
    if isinstance(index, pd.PeriodIndex) and index.freqstr.startswith("M"):
        return index
    raise LampConfigError(f"{what} must be indexed by a monthly PeriodIndex; got {type(index).__name__} "
                          f"{list(index[:3])}: use frame.to_period('M') or lamp_inputs")


def _scores(x: np.ndarray, cut: np.ndarray, higher: Higher) -> np.ndarray:
    """Scores 1..5 (0 where the value or the cut-offs are missing) of values against per-row cut-offs."""
    with np.errstate(invalid="ignore"):
        if higher == "hotter":
            score = 1 + (x[:, None] > cut).sum(axis=1)  # on an edge: the lower (colder) score
        else:
            score = 5 - (x[:, None] >= cut).sum(axis=1)  # on an edge: the lower (colder) score
    return np.where(np.isnan(x) | np.isnan(cut[:, 0]), 0, score)


def lamp_scores(values: pd.DataFrame, indicators: Sequence[LampIndicator] = DEFAULT_LAMPS) -> pd.DataFrame:
    """Lamp of each indicator and month.

    Parameters
    ----------
    values
        One column per indicator code, monthly ``PeriodIndex`` (see :func:`lamp_inputs`); a column that
        is absent or NaN leaves that lamp out.  Columns that are not indicators are ignored.
    indicators
        The lamp table (default :data:`DEFAULT_LAMPS`).

    Returns
    -------
    pandas.DataFrame
        ``period``, ``indicator``, ``value``, ``c1`` .. ``c4`` (the cut-offs in force), ``valid_from``,
        ``score`` (1-5) and ``colour``; one row per indicator and month with a lamp.
    """
    _check_unique(indicators)
    periods = _periods(values.index, "the lamp input")
    frames = []
    for ind in indicators:
        if ind.code not in values.columns:
            continue
        x = pd.to_numeric(values[ind.code], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cut, since = ind.cutoffs_for(periods)
        score = _scores(x, cut, ind.higher)
        keep = score > 0
        frames.append(pd.DataFrame({
            "period": periods[keep], "indicator": ind.code, "value": x[keep],
            **{f"c{j + 1}": cut[keep, j] for j in range(4)},
            "valid_from": pd.PeriodIndex.from_ordinals(since[keep], freq="M"),
            "score": score[keep].astype(np.int64),
            "colour": np.asarray(COLOURS, dtype=object)[score[keep] - 1],
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("period", "period[M]"), ("indicator", object), ("value", float), ("c1", float), ("c2", float),
            ("c3", float), ("c4", float), ("valid_from", "period[M]"), ("score", np.int64), ("colour", object))})
    return pd.concat(frames, ignore_index=True).sort_values(["period", "indicator"], kind="stable",
                                                             ignore_index=True)


def _composite_colour_codes(total: np.ndarray, k: np.ndarray) -> np.ndarray:
    """0..4 colour of the average score ``total / k`` (integers; edges to the colder colour)."""
    return np.select([total <= 2 * k, 2 * total <= 5 * k, 2 * total <= 7 * k, total <= 4 * k], [0, 1, 2, 3], 4)


def composite_colour(w: float | np.ndarray | pd.Series) -> np.ndarray:
    """Colour of composite values W (``COMPOSITE_BANDS``; a value on an edge gets the colder colour).

    Give the unrounded W (see the module docstring); NaN gives ``None``.
    """
    arr = np.atleast_1d(np.asarray(w, dtype=float))
    edges = np.asarray(COMPOSITE_BANDS) + 1e-9  # 100 * S / (3K) is not exact in floating point
    code = np.searchsorted(edges, arr, side="left")
    out = np.asarray(COLOURS, dtype=object)[np.minimum(code, 4)]
    out[np.isnan(arr)] = None
    return out


def composite_index(scores: pd.DataFrame, *, n_indicators: int, min_indicators: int | None = None) -> pd.DataFrame:
    """The composite warning index W of METHODOLOGY 6.3 from lamp scores.

    Parameters
    ----------
    scores
        :func:`lamp_scores`' frame (``period``, ``indicator``, ``score``).
    n_indicators
        Number of indicators in the lamp table (for the default ``min_indicators``).
    min_indicators
        Fewest lamps for a composite; default more than half of ``n_indicators``.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``composite`` (W), ``n`` (lamps used), ``score_sum``, ``colour``; months with fewer than
        ``min_indicators`` lamps are left out.
    """
    need = n_indicators // 2 + 1 if min_indicators is None else min_indicators
    if need < 1:
        raise LampConfigError(f"min_indicators must be at least 1; got {min_indicators}")
    grouped = scores.groupby("period", sort=True)["score"].agg(["sum", "count"])
    grouped = grouped[grouped["count"] >= need]
    total, k = grouped["sum"].to_numpy(np.int64), grouped["count"].to_numpy(np.int64)
    return pd.DataFrame({
        "period": grouped.index.astype("period[M]"),
        "composite": 100.0 * total / (3.0 * k) if len(k) else np.zeros(0),
        "n": k,
        "score_sum": total,
        "colour": np.asarray(COLOURS, dtype=object)[_composite_colour_codes(total, k)],
    })


def signal_lamps(
    values: pd.DataFrame,
    indicators: Sequence[LampIndicator] = DEFAULT_LAMPS,
    *,
    min_indicators: int | None = None,
) -> pd.DataFrame:
    """Lamps of every indicator and the composite index, as a tidy frame.

    Parameters
    ----------
    values
        Indicator values, one column per code, monthly ``PeriodIndex`` (:func:`lamp_inputs` builds it).
    indicators
        The lamp table (default :data:`DEFAULT_LAMPS`).
    min_indicators
        Fewest lamps for a composite; default more than half of the table.

    Returns
    -------
    pandas.DataFrame
        Tidy frame (``series_key``, ``period``, ``measure``, ``breakdown``, ``code``, ``value``, ``n``) plus
        ``colour``: ``lamps/<code>`` with the score (``n`` missing) and ``lamps/composite`` with W (``n`` =
        lamps used).
    """
    scores = lamp_scores(values, indicators)
    comp = composite_index(scores, n_indicators=len(indicators), min_indicators=min_indicators)
    lamps = pd.DataFrame({
        "series_key": "lamps/" + scores["indicator"].astype(str), "period": scores["period"],
        "measure": scores["indicator"].astype(str), "breakdown": "city", "code": "",
        "value": scores["score"].astype(float), "n": pd.array([pd.NA] * len(scores), dtype="Int64"),
        "colour": scores["colour"],
    })
    composite = pd.DataFrame({
        "series_key": "lamps/composite", "period": comp["period"], "measure": "composite", "breakdown": "city",
        "code": "", "value": comp["composite"].astype(float), "n": pd.array(comp["n"], dtype="Int64"),
        "colour": comp["colour"],
    })
    out = pd.concat([composite, lamps], ignore_index=True)
    out["period"] = out["period"].astype("period[M]")
    return out


def lamp_inputs(
    *frames: pd.DataFrame,
    indicators: Sequence[LampIndicator] = DEFAULT_LAMPS,
    extra: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The input frame of :func:`signal_lamps`: each indicator's ``source`` series, one column per code.

    Parameters
    ----------
    *frames
        Tidy frames (``series_key``, ``period``, ``value``) or ``series_value`` rows (``series_key``,
        ``period``, ``raw``), e.g. the indicator frames, the survey's rows for ``pmi/headline``, and
        official statistics keyed ``iva/yoy/city``.  Use seasonally adjusted DIs where the bureau does.
    indicators
        The lamp table (default :data:`DEFAULT_LAMPS`).
    extra
        Columns named by indicator code with a monthly ``PeriodIndex``; they override the frames.

    Returns
    -------
    pandas.DataFrame
        Monthly ``PeriodIndex`` (every month from the first to the last with a value), one column per
        indicator found.

    Raises
    ------
    LampConfigError
        A frame without the needed columns, or a source series repeated for a month.
    """
    _check_unique(indicators)
    by_source = {i.source: i.code for i in indicators}
    parts = []
    for frame in frames:
        value_col = "value" if "value" in frame.columns else "raw"
        missing = [c for c in ("series_key", "period", value_col) if c not in frame.columns]
        if missing:
            raise LampConfigError(f"a lamp input frame needs series_key, period and value (or raw); it lacks {missing}")
        sel = frame[frame["series_key"].astype(str).isin(list(by_source))]
        period = sel["period"]
        if not isinstance(period.dtype, pd.PeriodDtype):
            period = period.map(lambda p: parse_month(p))
        parts.append(pd.DataFrame({"code": sel["series_key"].astype(str).map(by_source).to_numpy(),
                                   "period": pd.PeriodIndex(period, freq="M"),
                                   "value": pd.to_numeric(sel[value_col], errors="coerce").to_numpy(float)}))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["code", "period", "value"])
    if long.duplicated(["code", "period"]).any():
        first = long[long.duplicated(["code", "period"])].iloc[0]
        raise LampConfigError(f"each lamp source appears once a month; {first['code']} repeats in {first['period']}: "
                              f"pass each frame once")
    wide = long.pivot(index="period", columns="code", values="value") if len(long) else pd.DataFrame()
    if extra is not None:
        _periods(extra.index, "extra")
        wide = extra.combine_first(wide) if len(wide) else extra.copy()
    if not len(wide):
        return pd.DataFrame(index=pd.PeriodIndex([], freq="M"))
    index = pd.PeriodIndex(wide.index, freq="M")
    wide.index = index
    wide = wide.reindex(pd.period_range(index.min(), index.max(), freq="M"))
    wide.columns.name = None
    return wide[[i.code for i in indicators if i.code in wide.columns]]


def percentile_cutoffs(series: pd.Series | Iterable[float], percentiles: Cutoffs = (10.0, 25.0, 75.0, 90.0),
                       *, decimals: int = 1) -> Cutoffs:
    """Critical values from an indicator's own history (METHODOLOGY 6.3 PROPOSAL), rounded.

    Parameters
    ----------
    series
        The indicator's history (use at least 8 years; NaN ignored).
    percentiles
        Four increasing percentiles: by default 10/25/75/90, so that over the history the lamps are blue
        and red 10 % of the months each, light blue and yellow 15 % each, green half.
    decimals
        Rounding of the cut-offs.

    Returns
    -------
    tuple of float
        ``(c1, c2, c3, c4)`` for a schedule row of :class:`LampIndicator`.
    """
    x = np.asarray(list(series) if not isinstance(series, pd.Series) else series.to_numpy(float), dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 24:
        raise LampConfigError(f"critical values need a history of at least 24 months (the methodology asks for 8 "
                              f"years); got {len(x)} values")
    c = np.round(np.percentile(x, np.asarray(percentiles, dtype=float)), decimals)
    if not np.all(np.diff(c) > 0):
        raise LampConfigError(f"the percentiles {tuple(percentiles)} give cut-offs {tuple(c)} that do not increase: "
                              f"use more decimals or a longer history")
    return (float(c[0]), float(c[1]), float(c[2]), float(c[3]))
