"""Monitoring indicators from the enterprises' monthly reports: inventory, costs, the price scissors.

Pure functions from pandas frames (the ``enterprise``, ``enterprise_month`` and ``survey_problem`` tables,
and diffusion indices) to tidy pandas frames; no database, no I/O.  The rules are those of METHODOLOGY
section 6.2.  :mod:`monitor.indicators.electricity` builds the electricity and production-status indicators
on the helpers of this module.

Rules shared by every year-on-year growth rate here and in :mod:`~monitor.indicators.electricity`
    *Matched sample.*  Growth compares only enterprises that report the quantity in both periods (for a
    growth of several quantities, such as inventory against output, all of them): ``100 (sum_i x_it /
    sum_i x_i,t-12 - 1)`` over those firms.  A firm that joins or leaves the panel, or skips a report,
    changes neither side, as in the statistics bureau's 同口径 comparisons.  ``n`` is the number of matched
    firms.  The sums are sample totals (no design weights): large firms count for more, as in any total.

    *January-February.*  With ``combine_jan_feb=True`` (the default) there is no January growth rate: the
    February row is the growth of the January-February cumulative, ``(x_Jan + x_Feb) / (x_Jan,t-12 +
    x_Feb,t-12) - 1``, over the firms that report in all four months; for a stock (finished-goods
    inventory) the February row compares the end-of-February stocks, over the same firms.  This is how
    Chinese industrial statistics are published (January is not reported on its own, METHODOLOGY 8 item 4)
    and it removes the Spring Festival, which falls in January one year and February the next.
    ``combine_jan_feb=False`` gives plain month-on-same-month-a-year-before rates for every month.

Breakdowns
    ``city`` (key ``<prefix>/<measure>/city``), ``district``, ``size``, ``industry`` and ``key_sector`` (key
    ``<prefix>/<measure>/<breakdown>/<code>``).  As in :mod:`monitor.indicators.survey`, micro enterprises are
    counted with the small ones (``size`` codes ``large``, ``medium``, ``small``) and a firm counts in every
    key sector whose divisions include its division.

Frames
    Every indicator function returns a tidy frame with the columns ``series_key``, ``period`` (monthly
    ``Period``), ``measure``, ``breakdown``, ``code``, ``value`` and ``n`` (nullable integer: the firms
    behind the value); rows without a value are left out.  :func:`monitoring_rows` turns one or several of
    them into rows of the ``series_value`` table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
from scipy import sparse

from ..exceptions import MonitorError
from ..periods import parse_month
from ..reference import KEY_SECTORS

__all__ = [
    "BREAKDOWNS",
    "COST_ITEMS",
    "HIGH_COST_PROBLEMS",
    "Breakdown",
    "MonitoringDataError",
    "cost_indicators",
    "high_cost_shares",
    "inventory_indicators",
    "monitoring_rows",
    "price_scissors",
]

Breakdown = Literal["city", "district", "size", "industry", "key_sector"]
BREAKDOWNS: tuple[Breakdown, ...] = ("city", "district", "size", "industry", "key_sector")
#: Cost items of ``enterprise_month`` and the measure name of their growth rate.
COST_ITEMS: tuple[tuple[str, str], ...] = (
    ("raw_material_cost", "raw_material_yoy"),
    ("labour_cost", "labour_yoy"),
    ("energy_cost", "energy_yoy"),
    ("other_cost", "other_yoy"),
)
#: Survey "main problems" that count as high costs (codes of :data:`monitor.reference.PROBLEMS`).
HIGH_COST_PROBLEMS: tuple[str, ...] = ("high_raw_material_cost", "high_labour_cost", "high_logistics_cost")

_SIZE_GROUP = {"large": "large", "medium": "medium", "small": "small", "micro": "small"}
_TIDY = ["series_key", "period", "measure", "breakdown", "code", "value", "n"]
MonthsArg: TypeAlias = Iterable[str | pd.Period] | str | pd.Period | None


class MonitoringDataError(MonitorError, ValueError):
    """Input frames that break a rule the monitoring indicators rely on (missing columns, unknown ids...)."""


# --------------------------------------------------------------------------------------------- helpers
def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MonitoringDataError(f"the {what} frame needs the columns {missing}; it has {list(frame.columns)}")


def _enterprise_table(enterprises: pd.DataFrame) -> pd.DataFrame:
    """Enterprises sorted by id, with unique ids."""
    _require(enterprises, ["id", "district_code", "industry_code", "size_class"], "enterprises")
    ent = enterprises.sort_values("id", kind="stable").reset_index(drop=True)
    if not ent["id"].is_unique:
        dup = ent.loc[ent["id"].duplicated(), "id"].unique()[:10].tolist()
        raise MonitoringDataError(f"enterprise ids must be unique; the enterprises frame repeats {dup}: drop duplicates")
    return ent


def _firm_positions(ids: np.ndarray, values: pd.Series, what: str) -> np.ndarray:
    """Row of each enterprise id in the sorted ``ids``; raise for an id that is not there."""
    vals = values.to_numpy()
    if vals.dtype.kind not in "iu":
        if pd.isna(vals).any():
            raise MonitoringDataError(f"enterprise_id must be given on every row of {what}; some are empty")
        vals = vals.astype(np.int64)
    if not len(vals):
        return np.zeros(0, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ids, vals), max(len(ids) - 1, 0))
    bad = (ids[pos] != vals) if len(ids) else np.ones(len(vals), dtype=bool)
    if bad.any():
        unknown = np.unique(vals[bad])
        raise MonitoringDataError(f"every enterprise_id of {what} must be in the enterprises frame; unknown ids "
                                  f"{unknown[:10].tolist()}{' ...' if len(unknown) > 10 else ''}: load those enterprises")
    return pos


def _month_ordinals(values: pd.Series, what: str) -> np.ndarray:
    """Month ordinals (months since 1970-01, as ``Period.ordinal``) of a column of months or days."""
    arr = values.to_numpy() if not isinstance(values.dtype, pd.PeriodDtype) else None
    if arr is not None and arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise MonitoringDataError(f"{what} must be given on every row; {int(np.isnat(arr).sum())} rows are empty")
        return arr.astype("datetime64[M]").astype(np.int64)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise MonitoringDataError(f"{what} must be given on every row; {int((codes < 0).sum())} rows are empty")
    table = np.array([_ordinal(u, what) for u in uniques], dtype=np.int64)
    return table[codes]


def _ordinal(value: object, what: str) -> int:
    if isinstance(value, pd.Period | str):
        return parse_month(value, what=what).ordinal
    if isinstance(value, dt.date | np.datetime64):  # a day (Timestamp and datetime are dates too)
        ts = pd.Timestamp(value)
        return pd.Period(year=ts.year, month=ts.month, freq="M").ordinal
    return parse_month(str(value), what=what).ordinal


def _wanted(months: MonthsArg, available: np.ndarray) -> np.ndarray:
    """Sorted unique ordinals of the requested months (all ``available`` ones when ``months`` is None)."""
    if months is None:
        return np.unique(available)
    chosen = [months] if isinstance(months, str | pd.Period) else list(months)
    return np.unique(np.array([parse_month(m, what="months").ordinal for m in chosen], dtype=np.int64))


@dataclass(frozen=True)
class _Grid:
    """A contiguous range of months ``start .. start + T - 1`` (ordinals)."""

    start: int
    T: int

    @classmethod
    def covering(cls, *ordinals: np.ndarray, back: int = 0) -> _Grid:
        """The months from ``back`` months before the earliest of ``ordinals`` to the latest."""
        nonempty = [o for o in ordinals if len(o)]
        if not nonempty:
            return cls(0, 0)
        lo = min(int(o.min()) for o in nonempty) - back
        hi = max(int(o.max()) for o in nonempty)
        return cls(lo, hi - lo + 1)

    @property
    def ordinals(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.T, dtype=np.int64)

    @property
    def month_of_year(self) -> np.ndarray:
        return self.ordinals % 12 + 1

    def positions(self, ordinals: np.ndarray) -> np.ndarray:
        return ordinals - self.start

    def selected(self, wanted: np.ndarray, *, drop_january: bool = False) -> np.ndarray:
        """Grid positions of the ``wanted`` months inside the grid (January left out on request)."""
        pos = wanted - self.start
        pos = pos[(pos >= 0) & (pos < self.T)]
        if drop_january:
            pos = pos[self.month_of_year[pos] != 1]
        return pos


def _lag(x: np.ndarray, k: int, fill: float | bool) -> np.ndarray:
    """``x`` shifted ``k`` columns to the right (the value ``k`` months before), ``fill`` at the start."""
    out = np.full_like(x, fill)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _matrix(f: np.ndarray, t: np.ndarray, values: np.ndarray, shape: tuple[int, int], what: str) -> np.ndarray:
    """A firm x month matrix (NaN where absent) from one row per firm-month; raise on repeated firm-months."""
    flat = f * np.int64(shape[1]) + t
    counts = np.bincount(flat, minlength=shape[0] * shape[1])
    if (counts > 1).any():
        raise MonitoringDataError(f"{what} must have one row per (enterprise_id, period); "
                                  f"{int((counts > 1).sum())} firm-months repeat: keep the latest revision only")
    out = np.full(shape[0] * shape[1], np.nan)
    out[flat] = values
    return out.reshape(shape)


@dataclass(frozen=True)
class _Domains:
    """The breakdown domains as a sparse domain x firm membership matrix."""

    breakdown: np.ndarray  # (D,) object
    code: np.ndarray  # (D,) object
    matrix: sparse.csr_matrix  # (D, F)

    @classmethod
    def build(cls, ent: pd.DataFrame, breakdowns: Sequence[str]) -> _Domains:
        F = len(ent)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        kinds: list[str] = []
        codes: list[str] = []
        for kind in breakdowns:
            if kind not in BREAKDOWNS:
                raise MonitoringDataError(f"breakdowns must be among {list(BREAKDOWNS)}; got {kind!r}")
            if kind == "key_sector":
                division = ent["industry_code"].astype(str).to_numpy()
                for sector in KEY_SECTORS:
                    members = np.flatnonzero(np.isin(division, sector.divisions))
                    rows.append(np.full(len(members), len(codes)))
                    cols.append(members)
                    kinds.append(kind)
                    codes.append(sector.code)
                continue
            if kind == "city":
                labels = pd.Series(np.zeros(F, dtype=np.int64))
            elif kind == "size":
                labels = ent["size_class"].astype(str).map(_SIZE_GROUP)
                if labels.isna().any():
                    bad = sorted(set(ent.loc[labels.isna(), "size_class"].astype(str)))
                    raise MonitoringDataError(f"size_class must be one of {list(_SIZE_GROUP)}; got {bad[:10]}")
            else:
                labels = ent[f"{kind}_code"].astype(str)
            group, uniques = pd.factorize(labels, sort=True)
            rows.append(group + len(codes))
            cols.append(np.arange(F))
            kinds.extend([kind] * len(uniques))
            codes.extend([""] * len(uniques) if kind == "city" else [str(u) for u in uniques])
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        matrix = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(codes), F))
        return cls(np.array(kinds, dtype=object), np.array(codes, dtype=object), matrix)

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Domain sums of a firm x month array (NaN counts as 0)."""
        return np.asarray(self.matrix @ np.nan_to_num(np.asarray(x, dtype=float)))


def _window(x: np.ndarray, grid: _Grid, *, combine: bool, stock: bool = False) -> np.ndarray:
    """Values of the comparison window: the January-February cumulative in February for a flow."""
    if not combine or stock:
        return x
    out = x.copy()
    feb = np.flatnonzero((grid.month_of_year == 2) & (np.arange(grid.T) > 0))
    out[:, feb] = x[:, feb] + x[:, feb - 1]
    return out


def _window_mask(mask: np.ndarray, grid: _Grid, *, combine: bool) -> np.ndarray:
    """Firm-months usable for a growth rate: in February (combined) the firm must report January too."""
    if not combine:
        return mask
    out = mask.copy()
    feb = np.flatnonzero(grid.month_of_year == 2)
    has_jan = feb > 0
    out[:, feb[has_jan]] &= mask[:, feb[has_jan] - 1]
    out[:, feb[~has_jan]] = False
    return out


def _matched_growth(domains: _Domains, window_values: Sequence[np.ndarray], matched: np.ndarray) -> list[np.ndarray]:
    """Matched-sample growth (percent, domain x month) of each windowed firm x month array."""
    out = []
    for xw in window_values:
        num = domains.sum(np.where(matched, xw, 0.0))
        den = domains.sum(np.where(matched, _lag(xw, 12, np.nan), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(np.where(den > 0, 100.0 * (num / den - 1.0), np.nan))
    return out


def _tidy(prefix: str, measure: str, domains: _Domains, grid: _Grid, cols: np.ndarray, value: np.ndarray,
          n: np.ndarray) -> pd.DataFrame:
    """Tidy rows for the months at grid positions ``cols`` of a domain x month array."""
    D, C = len(domains.code), len(cols)
    base = np.where(domains.breakdown == "city", prefix + "/" + measure + "/city",
                    prefix + "/" + measure + "/" + domains.breakdown + "/" + domains.code)
    v = value[:, cols].ravel()
    keep = ~np.isnan(v)
    periods = pd.PeriodIndex.from_ordinals(grid.ordinals[cols], freq="M")
    frame = pd.DataFrame({
        "series_key": np.repeat(base, C)[keep],
        "period": np.tile(np.asarray(periods), D)[keep],
        "measure": measure,
        "breakdown": np.repeat(domains.breakdown, C)[keep],
        "code": np.repeat(domains.code, C)[keep],
        "value": v[keep],
        "n": pd.array(np.rint(n[:, cols].ravel()[keep]).astype(np.int64), dtype="Int64"),
    })
    frame["period"] = frame["period"].astype("period[M]")
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            _TIDY, [object, "period[M]", object, object, object, float, "Int64"], strict=True)})
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class _Reports:
    """The ``enterprise_month`` table as firm x month arrays over a contiguous grid."""

    ent: pd.DataFrame
    grid: _Grid
    wanted: np.ndarray
    f: np.ndarray
    t: np.ndarray

    @classmethod
    def build(cls, monthly: pd.DataFrame, enterprises: pd.DataFrame, months: MonthsArg, columns: Sequence[str]) -> _Reports:
        _require(monthly, ["enterprise_id", "period", *columns], "monthly")
        ent = _enterprise_table(enterprises)
        ordinals = _month_ordinals(monthly["period"], "period")
        wanted = _wanted(months, ordinals)
        grid = _Grid.covering(ordinals, wanted, back=13)
        f = _firm_positions(ent["id"].to_numpy(np.int64), monthly["enterprise_id"], "the monthly frame")
        return cls(ent, grid, wanted, f, grid.positions(ordinals))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ent), self.grid.T

    def matrix(self, monthly: pd.DataFrame, column: str) -> np.ndarray:
        values = pd.to_numeric(monthly[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return _matrix(self.f, self.t, values, self.shape, "the monthly frame")


# --------------------------------------------------------------------------------------------- inventory
def inventory_indicators(
    monthly: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    months: MonthsArg = None,
    breakdowns: Sequence[Breakdown] = ("city", "district"),
    combine_jan_feb: bool = True,
) -> pd.DataFrame:
    """Finished-goods inventory growth against output growth, year on year (METHODOLOGY 6.2).

    Both growth rates use the same matched sample: the firms reporting a finished-goods inventory and a
    positive output value in the month and in the same month a year before (with ``combine_jan_feb``, in
    January and February of both years; output is then the January-February cumulative and inventory the
    end-of-February stock).  Inventory growing faster than output is the warning sign of unsold goods.

    Parameters
    ----------
    monthly
        The ``enterprise_month`` table: ``enterprise_id``, ``period``, ``output_value``,
        ``finished_goods_inventory`` (current prices).
    enterprises
        The ``enterprise`` table: ``id``, ``district_code``, ``industry_code``, ``size_class``.
    months
        Months to report (``YYYY-MM`` or ``Period``); default every month of ``monthly``.  The frame must
        also hold the months a year before.
    breakdowns
        Among :data:`BREAKDOWNS`.
    combine_jan_feb
        The January-February rule of the module docstring (no January row).

    Returns
    -------
    pandas.DataFrame
        Tidy frame (module docstring) with the measures ``fg_yoy`` and ``output_yoy`` (percent), ``gap``
        (``fg_yoy - output_yoy``, percentage points) and ``fg_faster_share`` (percent of the matched firms
        whose own inventory grew faster than their own output); keys ``inventory/<measure>/...``.
    """
    rep = _Reports.build(monthly, enterprises, months, ["output_value", "finished_goods_inventory"])
    fg, out = rep.matrix(monthly, "finished_goods_inventory"), rep.matrix(monthly, "output_value")
    mask = np.isfinite(fg) & (fg >= 0) & np.isfinite(out) & (out > 0)
    grid = rep.grid
    domains = _Domains.build(rep.ent, breakdowns)
    wmask = _window_mask(mask, grid, combine=combine_jan_feb)
    matched = wmask & _lag(wmask, 12, False)
    fg_w = _window(fg, grid, combine=combine_jan_feb, stock=True)
    out_w = _window(out, grid, combine=combine_jan_feb)
    fg_yoy, out_yoy = _matched_growth(domains, [fg_w, out_w], matched)
    with np.errstate(divide="ignore", invalid="ignore"):
        faster = matched & (fg_w * _lag(out_w, 12, np.nan) > out_w * _lag(fg_w, 12, np.nan))
    n = domains.sum(matched)
    share = np.where(n > 0, 100.0 * domains.sum(faster) / np.where(n > 0, n, 1), np.nan)
    cols = grid.selected(rep.wanted, drop_january=combine_jan_feb)
    return _concat([_tidy("inventory", m, domains, grid, cols, v, n) for m, v in
                    (("fg_yoy", fg_yoy), ("output_yoy", out_yoy), ("gap", fg_yoy - out_yoy), ("fg_faster_share", share))])


# --------------------------------------------------------------------------------------------- costs
def cost_indicators(
    monthly: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    months: MonthsArg = None,
    breakdowns: Sequence[Breakdown] = ("city", "district"),
    combine_jan_feb: bool = True,
) -> pd.DataFrame:
    """Cost growth by item, year on year, and cost per 100 yuan of output (METHODOLOGY 6.2).

    Each item's growth is matched on the firms reporting that item in both periods; ``total_yoy`` on the
    firms reporting all four items in both.  ``per_100_output`` is the month's level (no growth, so January
    is kept): ``100 x sum of the four items / sum of output value`` over the firms reporting all four items
    and a positive output that month, the analogue of NBS's 每百元营业收入中的成本 on output value.

    Parameters
    ----------
    monthly
        The ``enterprise_month`` table: ``enterprise_id``, ``period``, ``output_value`` and the items of
        :data:`COST_ITEMS` (10k yuan).
    enterprises, months, breakdowns, combine_jan_feb
        As for :func:`inventory_indicators`.

    Returns
    -------
    pandas.DataFrame
        Tidy frame with the measures ``raw_material_yoy``, ``labour_yoy``, ``energy_yoy``, ``other_yoy``,
        ``total_yoy`` (percent) and ``per_100_output`` (yuan); keys ``costs/<measure>/...``.
    """
    items = [c for c, _ in COST_ITEMS]
    rep = _Reports.build(monthly, enterprises, months, ["output_value", *items])
    grid = rep.grid
    domains = _Domains.build(rep.ent, breakdowns)
    cols = grid.selected(rep.wanted, drop_january=combine_jan_feb)
    frames = []
    total = np.zeros(rep.shape)
    all_mask = np.ones(rep.shape, dtype=bool)
    for column, measure in COST_ITEMS:
        x = rep.matrix(monthly, column)
        mask = np.isfinite(x) & (x >= 0)
        total = total + np.where(mask, x, 0.0)
        all_mask &= mask
        wmask = _window_mask(mask, grid, combine=combine_jan_feb)
        matched = wmask & _lag(wmask, 12, False)
        (g,) = _matched_growth(domains, [_window(x, grid, combine=combine_jan_feb)], matched)
        frames.append(_tidy("costs", measure, domains, grid, cols, g, domains.sum(matched)))
    wmask = _window_mask(all_mask, grid, combine=combine_jan_feb)
    matched = wmask & _lag(wmask, 12, False)
    (g,) = _matched_growth(domains, [_window(total, grid, combine=combine_jan_feb)], matched)
    frames.append(_tidy("costs", "total_yoy", domains, grid, cols, g, domains.sum(matched)))
    out = rep.matrix(monthly, "output_value")
    level_mask = all_mask & np.isfinite(out) & (out > 0)
    den = domains.sum(np.where(level_mask, out, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        per100 = np.where(den > 0, 100.0 * domains.sum(np.where(level_mask, total, 0.0)) / den, np.nan)
    frames.append(_tidy("costs", "per_100_output", domains, grid, grid.selected(rep.wanted), per100,
                        domains.sum(level_mask)))
    return _concat(frames)


def price_scissors(
    input_prices: pd.Series | pd.DataFrame,
    output_prices: pd.Series | None = None,
    *,
    change_months: int = 3,
    breakdown: str = "city",
    code: str = "",
) -> pd.DataFrame:
    """The price scissors: input-price DI minus output-price DI (METHODOLOGY 6.2), and its change.

    A positive value means purchase prices rise faster (or fall slower) than selling prices: margins are
    squeezed.  Use seasonally adjusted DIs where available; the difference of two DIs is in percentage
    points.

    Parameters
    ----------
    input_prices
        The 主要原材料购进价格 DI as a Series with a monthly ``PeriodIndex``, or a DataFrame with such an
        index and the columns ``input_prices`` and ``output_prices`` (then leave ``output_prices`` out).
    output_prices
        The 出厂价格 DI, a Series like ``input_prices``.
    change_months
        Span of the change measure (the methodology's lamp on the 3-month change).
    breakdown, code
        Region of the DIs, for the series key: ``costs/price_scissors/city`` by default,
        ``costs/price_scissors/district/440106`` with ``breakdown="district", code="440106"``.

    Returns
    -------
    pandas.DataFrame
        Tidy frame with the measures ``price_scissors`` and ``price_scissors_change`` (the change over
        ``change_months`` months), ``n`` missing.
    """
    if isinstance(input_prices, pd.DataFrame):
        if output_prices is not None:
            raise MonitoringDataError("give either one frame with the columns input_prices and output_prices, or "
                                      "two Series; got a frame and output_prices")
        _require(input_prices, ["input_prices", "output_prices"], "price DI")
        inp, outp = input_prices["input_prices"], input_prices["output_prices"]
    else:
        if output_prices is None:
            raise MonitoringDataError("price_scissors needs the output-price DI too: pass output_prices=<Series>, "
                                      "or one frame with the columns input_prices and output_prices")
        inp, outp = input_prices, output_prices
    for name, s in (("input_prices", inp), ("output_prices", outp)):
        if not (isinstance(s.index, pd.PeriodIndex) and s.index.freqstr.startswith("M")):
            raise MonitoringDataError(f"{name} must be indexed by a monthly PeriodIndex; got {type(s.index).__name__} "
                                      f"{s.index[:3].tolist()}: use series.to_period('M')")
        if not s.index.is_unique:
            raise MonitoringDataError(f"{name} must have one value per month; its index repeats some months")
    if change_months < 1:
        raise MonitoringDataError(f"change_months must be a positive number of months; got {change_months}")
    idx = inp.index.union(outp.index)
    full = pd.period_range(idx.min(), idx.max(), freq="M") if len(idx) else idx
    scissors = inp.astype(float).reindex(full) - outp.astype(float).reindex(full)
    change = scissors - scissors.shift(change_months)
    frames = []
    for measure, series in (("price_scissors", scissors), ("price_scissors_change", change)):
        series = series.dropna()
        key = f"costs/{measure}/city" if breakdown == "city" else f"costs/{measure}/{breakdown}/{code}"
        frames.append(pd.DataFrame({
            "series_key": key, "period": series.index, "measure": measure, "breakdown": breakdown,
            "code": code, "value": series.to_numpy(float), "n": pd.array([pd.NA] * len(series), dtype="Int64"),
        }))
    return _concat(frames)


def high_cost_shares(
    problems: pd.DataFrame,
    respondents: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    months: MonthsArg = None,
    breakdowns: Sequence[Breakdown] = ("city", "district"),
    problem_codes: Sequence[str] = HIGH_COST_PROBLEMS,
) -> pd.DataFrame:
    """Share of responding firms that report high costs as a main problem, unweighted.

    The share is a plain count: ``100 x firms ticking / firms responding`` in the domain, every firm
    counting once whatever its size or design weight, so a district official can read it as "k of n of our
    firms".  (The weighted, non-response-adjusted shares of each problem are
    :func:`monitor.indicators.survey.problem_shares`.)  A respondent is a distinct ``(enterprise_id,
    period)`` of ``respondents``, or of ``problems`` (a tick is an answer).

    Parameters
    ----------
    problems
        The ``survey_problem`` table: ``enterprise_id``, ``period``, ``problem``.
    respondents
        Who responded: ``enterprise_id``, ``period`` (the ``survey_response`` table will do; repeats are
        counted once).
    enterprises
        The ``enterprise`` table.
    months, breakdowns
        As for :func:`inventory_indicators`.
    problem_codes
        The problems that count as high costs (default :data:`HIGH_COST_PROBLEMS`).

    Returns
    -------
    pandas.DataFrame
        Tidy frame with the measures ``high_cost_share`` (any of ``problem_codes``) and
        ``<problem>_share`` for each code, in percent, ``n`` = respondents; keys ``costs/<measure>/...``.
    """
    _require(problems, ["enterprise_id", "period", "problem"], "problems")
    _require(respondents, ["enterprise_id", "period"], "respondents")
    ent = _enterprise_table(enterprises)
    ids = ent["id"].to_numpy(np.int64)
    codes = list(problem_codes)
    p_ord = _month_ordinals(problems["period"], "period")
    r_ord = _month_ordinals(respondents["period"], "period")
    wanted = _wanted(months, np.concatenate([p_ord, r_ord]))
    grid = _Grid.covering(p_ord, r_ord, wanted)
    F, T = len(ent), grid.T
    responded = np.zeros(F * T, dtype=bool)
    responded[_firm_positions(ids, respondents["enterprise_id"], "the respondents frame") * np.int64(T)
              + grid.positions(r_ord)] = True
    pf = _firm_positions(ids, problems["enterprise_id"], "the problems frame") * np.int64(T) + grid.positions(p_ord)
    responded[pf] = True
    problem = problems["problem"].astype(str).to_numpy()
    domains = _Domains.build(ent, breakdowns)
    n = domains.sum(responded.reshape(F, T))
    cols = grid.selected(wanted)
    frames = []
    any_tick = np.zeros(F * T, dtype=bool)
    for code in codes:
        tick = np.zeros(F * T, dtype=bool)
        tick[pf[problem == code]] = True
        any_tick |= tick
        share = np.where(n > 0, 100.0 * domains.sum(tick.reshape(F, T)) / np.where(n > 0, n, 1), np.nan)
        frames.append(_tidy("costs", f"{code}_share", domains, grid, cols, share, n))
    share = np.where(n > 0, 100.0 * domains.sum(any_tick.reshape(F, T)) / np.where(n > 0, n, 1), np.nan)
    return _concat([_tidy("costs", "high_cost_share", domains, grid, cols, share, n), *frames])


# --------------------------------------------------------------------------------------------- rows
def monitoring_rows(*frames: pd.DataFrame) -> pd.DataFrame:
    """Rows for the ``series_value`` table from tidy frames of the monitoring and lamp modules.

    Parameters
    ----------
    *frames
        Results of the indicator functions of this module, of :mod:`~monitor.indicators.electricity`
        (``ElectricityResult.series`` or :func:`~monitor.indicators.electricity.production_status_indicators`)
        and of :func:`monitor.indicators.lamps.signal_lamps`.

    Returns
    -------
    pandas.DataFrame
        ``series_key``, ``period`` (``YYYY-MM`` text), ``raw`` (the value), ``n`` (nullable integer); one
        row per key and month, sorted by key and month.

    Raises
    ------
    MonitoringDataError
        A frame without ``series_key``, ``period`` and ``value``, or a key repeated for a month.
    """
    parts = []
    for frame in frames:
        _require(frame, ["series_key", "period", "value"], "indicator")
        period = frame["period"]
        text = (period.dt.strftime("%Y-%m") if isinstance(period.dtype, pd.PeriodDtype)
                else period.map(lambda p: parse_month(p).strftime("%Y-%m")))
        parts.append(pd.DataFrame({
            "series_key": frame["series_key"].astype(str).to_numpy(),
            "period": text.astype(str).to_numpy(),
            "raw": frame["value"].to_numpy(float),
            "n": (frame["n"].astype("Int64").array if "n" in frame.columns
                  else pd.array([pd.NA] * len(frame), dtype="Int64")),
        }))
    if not parts:
        return pd.DataFrame({"series_key": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                             "raw": pd.Series(dtype=float), "n": pd.Series(dtype="Int64")})
    rows = pd.concat(parts, ignore_index=True)
    dup = rows.duplicated(["series_key", "period"])
    if dup.any():
        first = rows.loc[dup].iloc[0]
        raise MonitoringDataError(f"each series key appears once a month; {int(dup.sum())} rows repeat, e.g. "
                                  f"{first['series_key']} {first['period']}: pass each indicator frame once")
    return rows.sort_values(["series_key", "period"], kind="stable").reset_index(drop=True)
