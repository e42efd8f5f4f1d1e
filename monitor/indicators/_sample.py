"""Encoding of the survey tables as arrays, and the weights (METHODOLOGY 7.2 and 7.4).

Private helpers of :mod:`monitor.indicators.survey`, which documents the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from ..exceptions import MonitorError
from ..periods import parse_month
from ..reference import SIZE_CLASSES
from .variance import AtomSums, _agg, category_sums

__all__ = ["MISSING", "NonResponse", "SurveyDataError", "Weighting", "build_sample", "wanted_months", "weights"]

Weighting = Literal["size", "design", "unweighted"]
NonResponse = Literal["cell", "none"]

_WEIGHTINGS = ("size", "design", "unweighted")
_NONRESPONSE = ("cell", "none")
#: NBS publishes large/medium/small: micro enterprises are counted with the small ones.
_SIZE_GROUP = {"large": "large", "medium": "medium", "small": "small", "micro": "small"}
_NAN_PERIOD = np.iinfo(np.int64).max


class SurveyDataError(MonitorError, ValueError):
    """Survey data that break a rule the index computation relies on (unknown codes, duplicates...)."""


MISSING = 3  # item code of an unanswered question; answers are coded answer + 1 (0 lower, 1 same, 2 higher)


@dataclass(frozen=True)
class _Sample:
    """The sample as arrays.

    Firms are sorted by atom (district x division x size class), so ``atom`` is non-decreasing.  A *row*
    is a firm-month with a response (firm-major order); ``codes[item, row]`` is the answer + 1, or
    ``MISSING``.
    """

    months: np.ndarray  # (T,) month ordinals (pandas Period ordinals), increasing
    prev_month: np.ndarray  # (T,) position of the previous calendar month, -1 if not in ``months``
    ids: np.ndarray  # (F,) enterprise ids
    atom: np.ndarray  # (F,) atom of each firm
    atoms: pd.DataFrame  # (A,) district_code, industry_code, size_idx, size_class, size_group, cell
    x: np.ndarray  # (F,) size measure
    dx: np.ndarray  # (F,) design weight x size measure
    member: np.ndarray  # (F, T) in the sample that month (panel member, or responded)
    row_firm: np.ndarray  # (N,)
    row_month: np.ndarray  # (N,)
    row_prev: np.ndarray  # (N,) row of the same firm in the previous month, -1 if none
    codes: np.ndarray  # (K, N) int8: item-major, so that each item's codes are contiguous
    items: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(A, T, K)``: atoms, months, items."""
        return len(self.atoms), len(self.months), len(self.items)

    @property
    def row_atom_month(self) -> np.ndarray:
        """Flat ``atom * T + month`` index of every row."""
        return self.atom[self.row_firm] * len(self.months) + self.row_month


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SurveyDataError(f"the {what} frame needs the columns {missing}; it has {list(frame.columns)}")


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for missing) and unique values; free for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Index(uniques)


def _small_table(table: np.ndarray) -> np.ndarray:
    """``table`` in the smallest signed integer type that holds it (fast gathers)."""
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if not len(table) or (table.min() >= info.min and table.max() <= info.max):
            return table.astype(dtype)
    return table


def _month_positions(values: pd.Series, grid: np.ndarray | None, *, what: str,
                     missing: int | None = None) -> np.ndarray:
    """Month ordinal (``grid`` None) or position in ``grid`` (-1 if absent) of a column of months."""
    codes, uniques = _factorize(values)
    ordinals = np.array([parse_month(u, what=what).ordinal for u in uniques], dtype=np.int64)
    if grid is not None:
        pos = np.searchsorted(grid, ordinals)
        inside = pos < len(grid)
        ordinals = np.where(inside & (grid[np.minimum(pos, len(grid) - 1)] == ordinals), pos, -1)
    if (codes < 0).any():
        if missing is None:
            raise SurveyDataError(f"{what} must be given on every row; {int((codes < 0).sum())} rows are empty")
        return np.append(ordinals, missing)[codes]
    return (_small_table(ordinals) if grid is not None else ordinals)[codes]


def _lookup(values: pd.Series, labels: Sequence[str], *, what: str) -> np.ndarray:
    """Position of each value in ``labels``; raise for a value not in ``labels``."""
    codes, uniques = _factorize(values)
    table = pd.Index(labels).get_indexer(uniques.astype(str))
    empty = bool((codes < 0).any())
    if (table < 0).any() or empty:
        used = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
        unknown = sorted(str(u) for u, p, seen in zip(uniques, table, used, strict=True) if p < 0 and seen)
        if unknown or empty:
            raise SurveyDataError(f"{what} must be one of {list(labels)}; got {unknown[:10]}"
                                  f"{' and empty values' if empty else ''}: fix or drop those rows")
    return _small_table(table)[codes]


def _firm_positions(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Row of each enterprise id in ``ids`` (-1 when absent)."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        values = values.astype(np.int64)  # an empty frame's object column; a non-integer id fails here
    if not len(ids):
        return np.full(len(values), -1, dtype=np.int32)
    lo, hi = int(ids.min()), int(ids.max())
    if lo >= 0 and hi <= 4 * len(ids) + 1_000_000:  # a dense lookup table
        table = np.full(hi + 2, -1, dtype=np.int32)
        table[ids] = np.arange(len(ids), dtype=np.int32)
        if len(values) and (values.min() < 0 or values.max() > hi):
            values = np.where((values >= 0) & (values <= hi), values, hi + 1)
        return table[values]
    order = np.argsort(ids)
    where = np.minimum(np.searchsorted(ids[order], values), len(ids) - 1)
    return np.where(ids[order][where] == values, order[where], -1).astype(np.int32)


def _size_measure(ent: pd.DataFrame, weighting: Weighting, trim: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, dx)``: size measure and design weight x (untrimmed) size measure per firm for a weighting.

    With ``weighting="size"`` and ``trim = k``, a revenue above ``k`` times the median revenue of the
    firm's division x size cell is capped there in ``x``; ``dx`` keeps the untrimmed revenue, so the
    cell's total (post-stratification) is unchanged and trimming only redistributes weight inside it.
    """
    n = len(ent)
    d = (ent["sample_weight"].to_numpy(float) if "sample_weight" in ent.columns and weighting != "unweighted"
         else np.ones(n))
    if weighting != "size":
        return np.ones(n), d
    _require(ent, ["revenue"], "enterprises (weighting='size')")
    if trim is not None and not (trim >= 1.0):
        raise SurveyDataError(f"trim must be at least 1 (a cap at k x the cell's median size) or None; got {trim!r}")
    revenue = ent["revenue"].to_numpy(float)
    bad = ~(revenue > 0)
    if bad.any():  # a missing or non-positive revenue: the median of the firm's size class
        good = pd.Series(np.where(bad, np.nan, revenue))
        fill = good.groupby(ent["size_class"].astype(str).to_numpy()).transform("median").to_numpy()
        fill = np.where(np.isnan(fill), np.nanmedian(good) if (~bad).any() else 1.0, fill)
        revenue = np.where(bad, fill, revenue)
    x = revenue
    if trim is not None:
        cell = [ent["industry_code"].astype(str).to_numpy(), ent["size_class"].astype(str).to_numpy()]
        median = pd.Series(revenue).groupby(cell).transform("median").to_numpy()
        x = np.minimum(revenue, trim * median)
    return x, d * revenue


def _enterprise_arrays(enterprises: pd.DataFrame, weighting: Weighting) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Enterprises sorted by atom (with an ``atom`` column) and the atom table."""
    if weighting not in _WEIGHTINGS:
        raise SurveyDataError(f"weighting must be one of {list(_WEIGHTINGS)}; got {weighting!r}")
    _require(enterprises, ["id", "district_code", "industry_code", "size_class"], "enterprises")
    ent = enterprises.reset_index(drop=True)
    if not ent["id"].is_unique:
        raise SurveyDataError("enterprise ids must be unique; the enterprises frame repeats some: drop duplicates")
    keys = pd.DataFrame({
        "district_code": ent["district_code"].astype(str).to_numpy(),
        "industry_code": ent["industry_code"].astype(str).to_numpy(),
        "size_idx": _lookup(ent["size_class"], [s.code for s in SIZE_CLASSES], what="size_class"),
    })
    grouped = keys.groupby(list(keys.columns), sort=True)
    atom_of = grouped.ngroup().to_numpy()
    atoms = grouped.size().reset_index()[list(keys.columns)]
    atoms["size_class"] = np.array([s.code for s in SIZE_CLASSES], dtype=object)[atoms["size_idx"].to_numpy()]
    atoms["size_group"] = atoms["size_class"].map(_SIZE_GROUP)
    atoms["cell"] = atoms.groupby(["industry_code", "size_idx"], sort=True).ngroup().to_numpy()
    order = np.argsort(atom_of, kind="stable")
    ent = ent.iloc[order].reset_index(drop=True)
    ent["atom"] = atom_of[order]
    return ent, atoms


def wanted_months(sources: Sequence[pd.DataFrame], periods: object) -> np.ndarray:
    """Ordinals of the months to compute: ``periods``, or every month with a row in one of ``sources``."""
    if periods is None:
        used = []
        for source in sources:
            codes_, uniques = _factorize(source["period"])
            seen = np.bincount(codes_[codes_ >= 0], minlength=len(uniques)) > 0
            used.append(_month_positions(pd.Series(uniques[seen]), None, what="period"))
        return np.unique(np.concatenate(used))
    chosen = [periods] if isinstance(periods, str | pd.Period) else list(periods)  # type: ignore[call-overload]
    return np.unique(np.array([parse_month(p, what="periods").ordinal for p in chosen], dtype=np.int64))


def build_sample(
    enterprises: pd.DataFrame,
    records: pd.DataFrame,
    item_column: str,
    items: tuple[str, ...],
    periods: object,
    weighting: Weighting,
    *,
    respondents: pd.DataFrame | None = None,
    trim: float | None = None,
) -> tuple[_Sample, np.ndarray]:
    """Encode enterprises and answers; return the sample and the requested month ordinals.

    ``respondents`` (``enterprise_id``, ``period``) switches to tick mode: ``records`` are ticked items,
    every respondent answers every item (ticked = higher, not ticked = same).
    """
    ent, atoms = _enterprise_arrays(enterprises, weighting)
    ticks = respondents is not None
    _require(records, ["enterprise_id", "period", item_column] + ([] if ticks else ["answer"]),
             "problems" if ticks else "responses")
    ids = ent["id"].to_numpy(np.int64)
    F, K = len(ids), len(items)
    x, dx = _size_measure(ent, weighting, trim)

    # Months: the requested ones and, for the change, the month before each.
    wanted = wanted_months([records] + ([respondents] if ticks else []), periods)
    grid = np.union1d(wanted, wanted - 1)
    T = len(grid)
    prev_month = np.searchsorted(grid, grid - 1)
    prev_month = np.where(grid[np.minimum(prev_month, max(T - 1, 0))] == grid - 1, prev_month, -1) if T else prev_month

    def locate(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Firm and month positions of the rows in the months wanted (only those rows: a month batch of a
        process pool reads its own months out of the whole frame without copying the rest), and the mask of
        those rows (empty when every row is wanted)."""
        t = _month_positions(frame["period"], grid, what="period")
        keep = t >= 0
        every = bool(keep.all())
        eid = frame["enterprise_id"].to_numpy()
        if not every:
            t, eid = t[keep], eid[keep]
        f = _firm_positions(ids, eid)
        if (f < 0).any():
            bad = np.unique(np.asarray(eid)[f < 0])
            raise SurveyDataError(f"every enterprise_id must be in the enterprises frame; unknown ids "
                                  f"{bad[:10].tolist()}{' ...' if len(bad) > 10 else ''}: load those enterprises")
        return f, t, (np.ones(0, dtype=bool) if every else keep)

    f, t, keep = locate(records)
    item_values: pd.Series = records[item_column]
    answer_values = None if ticks else records["answer"].to_numpy()
    if keep.size:  # only the columns still needed, only the rows wanted: no copy of the whole frame
        item_values = pd.Series(item_values.array[keep], name=item_column)
        answer_values = None if answer_values is None else answer_values[keep]
    cell_of = f * np.int64(T) + t
    responded = np.zeros(F * T, dtype=bool)
    if ticks:
        rf, rt, _ = locate(respondents)
        responded[(rf.astype(np.int64) * T + rt)] = True
    responded[cell_of] = True
    rows = np.flatnonzero(responded)
    row_of = np.full(F * T, -1, dtype=np.int32 if len(rows) < 2**31 else np.int64)
    row_of[rows] = np.arange(len(rows))
    k = _lookup(item_values, items, what=item_column)
    flat = k * np.int64(len(rows)) + row_of[cell_of]
    if ticks:
        codes = np.ones((K, len(rows)), dtype=np.int8)  # every respondent "answers": not ticked
        codes.reshape(-1)[flat] = 2
    else:
        assert answer_values is not None
        answer = answer_values
        if answer.dtype.kind not in "iu":
            if pd.isna(answer).any():
                raise SurveyDataError("answers must be -1, 0 or 1; some are empty: leave unanswered questions out")
            answer = answer.astype(np.int64)
        if len(answer) and (answer.min() < -1 or answer.max() > 1):
            bad_v = np.unique(answer[(answer < -1) | (answer > 1)])
            raise SurveyDataError(f"answers must be -1, 0 or 1; got {bad_v[:10].tolist()}: fix the source")
        codes = np.full((K, len(rows)), MISSING, dtype=np.int8)
        codes.reshape(-1)[flat] = np.asarray(answer + 1, dtype=np.int8)
        if len(flat) != int(np.count_nonzero(codes != MISSING)):
            raise SurveyDataError("each enterprise answers a question at most once a month; the responses repeat "
                                  "some (enterprise_id, period, question): keep the latest revision only")
    row_firm, row_month = (rows // T).astype(np.int64), (rows % T).astype(np.int64)
    pm = prev_month[row_month]
    row_prev = np.where(pm >= 0, row_of[row_firm * T + np.maximum(pm, 0)], -1)

    # Sample membership: panel_start <= month <= panel_end (NULL = still active), and anyone who responded.
    member = responded.reshape(F, T).copy()
    if "panel_start" in ent.columns:
        start = _month_positions(ent["panel_start"], None, what="panel_start")
        end = (_month_positions(ent["panel_end"], None, what="panel_end", missing=_NAN_PERIOD)
               if "panel_end" in ent.columns else np.full(F, _NAN_PERIOD))
        member |= (start[:, None] <= grid[None, :]) & (grid[None, :] <= end[:, None])
    else:
        member[:] = True
    sample = _Sample(grid, prev_month, ids, ent["atom"].to_numpy(np.int64), atoms, x, dx, member,
                     row_firm, row_month, row_prev, codes, items)
    return sample, wanted


# --------------------------------------------------------------------------------------------- weights
@dataclass(frozen=True)
class Weights:
    ratio: np.ndarray  # (A, T) base weight per unit of size measure: w_it = x_i ratio[atom_i, t]
    multiplier: np.ndarray  # (A, T, K) respondent weight per unit of size measure: w*_itk = x_i m[atom_i, t, k]
    members: np.ndarray  # (A, T) panel members
    cell_respondents: np.ndarray  # (C, T, K) respondents per stratum
    sums: AtomSums
    to_cell: sparse.csr_matrix  # (C, A)


def weights(sample: _Sample, nonresponse: NonResponse) -> Weights:
    """Post-stratified base weights and the non-response adjustment, as multipliers per atom."""
    if nonresponse not in _NONRESPONSE:
        raise SurveyDataError(f"nonresponse must be one of {list(_NONRESPONSE)}; got {nonresponse!r}")
    A, T, K = sample.shape
    atoms = sample.atoms
    cell = atoms["cell"].to_numpy()
    C = int(cell.max()) + 1 if A else 0
    starts = np.searchsorted(sample.atom, np.arange(A))  # every atom has a firm
    member = sample.member
    members = np.add.reduceat(member, starts, axis=0, dtype=np.int64) if A else np.zeros((0, T))
    X = np.add.reduceat(member * sample.x[:, None], starts, axis=0) if A else np.zeros((0, T))
    Y = np.add.reduceat(member * sample.dx[:, None], starts, axis=0) if A else np.zeros((0, T))
    to_cell = sparse.csr_matrix((np.ones(A), (cell, np.arange(A))), shape=(C, A))
    Xc, Yc = np.asarray(to_cell @ X), np.asarray(to_cell @ Y)
    ratio_c = np.divide(Yc, Xc, out=np.zeros_like(Yc), where=Xc > 0)
    ratio = ratio_c[cell]  # (A, T)

    cnt, s1, s2 = category_sums(sample)  # (A, T, K, 3): lower, same, higher
    n = cnt[..., 0] + cnt[..., 1] + cnt[..., 2]
    so = s1[..., 0] + s1[..., 1] + s1[..., 2]
    n_cell = _agg(to_cell, n)
    if nonresponse == "cell":
        resp_c = ratio_c[:, :, None] * _agg(to_cell, so)
        f1 = np.divide(Yc[:, :, None], resp_c, out=np.zeros_like(resp_c), where=resp_c > 0)
        # A cell without respondents: its weight goes to the respondents of the same size class.
        size_of_cell = np.zeros(C, dtype=np.int64)
        size_of_cell[cell] = atoms["size_idx"].to_numpy()
        S = len(SIZE_CLASSES)
        to_size = sparse.csr_matrix((np.ones(C), (size_of_cell, np.arange(C))), shape=(S, C))
        total = np.asarray(to_size @ Yc)  # (S, T)
        covered = _agg(to_size, Yc[:, :, None] * (resp_c > 0))
        f2 = np.divide(total[:, :, None], covered, out=np.zeros_like(covered), where=covered > 0)
        m = ratio[:, :, None] * f1[cell] * f2[size_of_cell[cell]]
    else:
        m = np.repeat(ratio[:, :, None], K, axis=2)
    m2 = m * m
    sums = AtomSums(n=n, wo=m * so, wr=m * (s1[..., 2] - s1[..., 0]), wa=m * (s1[..., 2] + s1[..., 0]),
                    qo=m2 * (s2[..., 0] + s2[..., 1] + s2[..., 2]), qr=m2 * (s2[..., 2] - s2[..., 0]), qa=m2 * (s2[..., 2] + s2[..., 0]))
    return Weights(ratio, m, members, n_cell, sums, to_cell)
