"""Survey indices: weights, non-response, diffusion indices, the composite PMI and their standard errors.

Pure functions from pandas frames (the ``enterprise``, ``survey_response`` and ``survey_problem`` tables)
to tidy pandas frames; no database, no I/O.  The formulas are those of METHODOLOGY sections 1.4-1.6 and 7.

Weights (METHODOLOGY 7.2)
    Every sampled enterprise *i* has a design weight ``d_i`` (``sample_weight``) and a size measure
    ``x_i``.  In month *t* its combined weight is post-stratified to its division x size cell *c*::

        w_it = x_i * Y_tc / X_tc,   Y_tc = sum of d_j x_j,  X_tc = sum of x_j  over the cell's panel members

    so each cell carries its share ``Y_tc`` of the estimated size total, spread over its members in
    proportion to size.  ``weighting`` chooses ``(d, x)``: ``"unweighted"`` (default) ``(1, 1)``: every
    firm counts once, the NBS count formula (METHODOLOGY 1.4), which on a sample drawn PPS by revenue
    within industry strata with stratum sample sizes proportional to value added (METHODOLOGY 1.3, the
    demo's design) is the Horvitz-Thompson estimator of the size-weighted share (``x_i / pi_i`` is the same
    for every sampled firm of a stratum; certainty firms count once each); ``"size"`` ``(sample_weight,
    revenue)`` with weight trimming (``trim``: a revenue above ``trim`` x the median of the firm's division x
    size cell is capped there, the cell keeping its total ``Y_tc``); ``"design"`` ``(sample_weight, 1)`` (the
    cell's mean design weight: the share of *firms*, not of output).  A missing or non-positive revenue is
    replaced by the median revenue of the firm's size class.

Non-response (METHODOLOGY 7.4, option 1)
    With ``nonresponse="cell"`` the respondents to a question are reweighted within their division x size
    cell so that they carry the whole cell's weight ``Y_tc``.  The weight of a cell without any respondent
    is spread over the respondents of the same size class (in proportion to their weights), so the
    respondents of a size class carry its whole weight.  A firm that returned the questionnaire but
    skipped a question is a non-respondent *for that question* only.  Nothing is ever imputed: in
    particular a missing answer is never counted as "same".  ``nonresponse="none"`` keeps the base
    weights; ``weighting="unweighted", nonresponse="none"`` is the NBS count formula (METHODOLOGY 1.4).

Estimates
    With respondent weights ``w*`` and answers ``r`` in {+1, 0, -1}: ``P``, ``E``, ``N`` are the weighted
    shares of "higher", "same" and "lower"; ``di = 100 (P + E/2)``; ``balance = 100 (P - N)``.

Standard errors (METHODOLOGY 7.3)
    Linearisation of the ratio ``R = sum w* r / sum w*`` (``di = 50 + 50 R``), stratified by the
    non-response cells, with-replacement approximation::

        z_i = w*_i (r_i - R) / sum w*,   Var(R) = sum_h n_h/(n_h-1) sum_{i in h} (z_i - mean_h z)^2

    ``n_h`` counts all respondents of stratum *h* (inside and outside the domain; ``z_i = 0`` outside it).
    A stratum with a single respondent contributes 0 (its within-stratum deviation is 0 and the factor
    ``n_h/(n_h-1)`` is undefined), so cells of one firm add no variance: read the SE of a domain made of
    such cells as a lower bound.  The composite PMI uses the per-firm variable
    ``zeta_i = 50 sum_k a_k z_i^(k)`` (a = NO .30, P .25, EMP .20, SDT -.15, RMI .10), so correlated answers
    of one firm are accounted for.  The month-on-month change uses the difference ``z_it - z_i,t-1`` over
    the firms responding in either month (``z = 0`` in a month a firm did not answer): firms answering both
    months carry the covariance, the others their one-sided term.

Breakdowns
    ``city`` (code ``440100``), ``district`` (GB/T 2260 code), ``size`` (``large``, ``medium``, ``small``:
    micro enterprises are folded into ``small`` because NBS publishes large/medium/small only; the
    weighting cells still keep micro apart), ``industry`` (GB/T 4754 division) and ``key_sector`` (every
    key sector whose divisions include the firm's division: one firm may count in several).

Implementation
    Answers are held as a dense ``firm x month x question`` cube (int8).  Every sum over the firms of an
    *atom* (district x division x size class; every stratum and every domain is a union of atoms) is one
    sparse-matrix product over the whole cube, so all months, questions and breakdowns are computed at
    once, without Python loops over enterprises or groups.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..periods import parse_month
from ..reference import CITY_CODE, KEY_SECTORS, PROBLEMS, QUESTIONS
from . import _parallel
from ._parallel import default_workers, map_batches, month_batches
from ._sample import (
    MISSING,
    NonResponse,
    SurveyDataError,
    Weighting,
    _require,
    _Sample,
    build_sample,
    wanted_months,
    weights,
)
from .variance import Z95, CompositeRows, Domains, composite_linearised, cross_sums, domain_estimates

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_TRIM",
    "Breakdown",
    "NonResponse",
    "SurveyDataError",
    "Weighting",
    "composite_pmi",
    "headline_pmi",
    "diffusion_indices",
    "problem_shares",
    "respondent_weights",
    "sample_weights",
    "series_rows",
]

Breakdown = Literal["city", "district", "size", "industry", "key_sector"]

#: Default cap of a size weight: this many times the median revenue of the firm's division x size cell.
DEFAULT_TRIM = 3.0
#: The breakdowns, in the order the tidy frames list them.
BREAKDOWNS: tuple[Breakdown, ...] = ("city", "district", "size", "industry", "key_sector")
_QUESTION_CODES = tuple(q.code for q in QUESTIONS)
_PROBLEM_CODES = tuple(code for code, _, _ in PROBLEMS)
_SIZE_GROUPS = ("large", "medium", "small")
#: Headline weights with the sign of the linearisation: supplier delivery time enters as 100 - DI.
_HEADLINE = tuple((q.code, -q.headline_weight if q.inverted else q.headline_weight)
                  for q in QUESTIONS if q.headline_weight)


def _headline_term(a: Any, di: Any) -> Any:
    """A component's term of the headline PMI, ``a * DI`` with its signed weight ``a``; a negative weight (an
    inverted question) carries its constant: ``0.15 (100 - SDT) = -0.15 SDT + 15``.  The one place the headline
    formula is written (METHODOLOGY 1.5)."""
    return a * di + np.where(np.asarray(a) < 0, -100.0 * np.asarray(a), 0.0)


def headline_pmi(components: Mapping[str, pd.Series]) -> pd.Series:
    """The headline PMI from its five component series keyed by question code (raw or adjusted, one basis).

    ``PMI = 0.30 NO + 0.25 P + 0.20 EMP + 0.15 (100 - SDT) + 0.10 RMI``; NaN in a month where a component is
    missing.

    Raises
    ------
    SurveyDataError
        A component is not given.
    """
    missing = [code for code, _ in _HEADLINE if code not in components]
    if missing:
        raise SurveyDataError(f"the headline PMI needs the components {[c for c, _ in _HEADLINE]}; {missing} "
                              "missing: compute or adjust them first")
    total: pd.Series | None = None
    for code, a in _HEADLINE:
        term = _headline_term(a, components[code].astype(float))
        total = term if total is None else total.add(term)  # NaN unless both are there
    assert total is not None
    return total.rename("headline")


def sample_weights(
    enterprises: pd.DataFrame,
    periods: Iterable[str | pd.Period] | str | pd.Period,
    *,
    weighting: Weighting = "unweighted",
    trim: float | None = DEFAULT_TRIM,
) -> pd.DataFrame:
    """Combined, post-stratified weight of every panel member in each month (METHODOLOGY 7.2).

    Parameters
    ----------
    enterprises
        The ``enterprise`` table: ``id``, ``district_code``, ``industry_code``, ``size_class``,
        ``sample_weight``, ``revenue``, ``panel_start``, ``panel_end`` (NULL while active).
    periods
        The months.
    weighting
        ``"size"`` (design weight x revenue), ``"design"`` (design weight) or ``"unweighted"`` (default).
    trim
        With ``"size"``: cap each revenue at ``trim`` x the median revenue of its division x size cell
        (see :func:`diffusion_indices`).

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id``, ``period`` (monthly Period), ``weight``; one row per panel member and month.
        Within a division x size cell the weights add up to the cell's ``sum(sample_weight x size)``.
    """
    empty = pd.DataFrame({"enterprise_id": pd.Series(dtype=np.int64), "period": pd.Series(dtype=str),
                          "question": pd.Series(dtype=str), "answer": pd.Series(dtype=np.int8)})
    sample, wanted = build_sample(enterprises, empty, "question", _QUESTION_CODES, periods, weighting, trim=trim)
    w = weights(sample, "none")
    f, t = np.nonzero(sample.member & np.isin(sample.months, wanted)[None, :])
    return pd.DataFrame({
        "enterprise_id": sample.ids[f],
        "period": pd.PeriodIndex.from_ordinals(sample.months[t], freq="M"),
        "weight": sample.x[f] * w.ratio[sample.atom[f], t],
    }).sort_values(["period", "enterprise_id"], ignore_index=True)


def respondent_weights(
    responses: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    periods: Iterable[str | pd.Period] | str | pd.Period | None = None,
    weighting: Weighting = "unweighted",
    nonresponse: NonResponse = "cell",
    trim: float | None = DEFAULT_TRIM,
) -> pd.DataFrame:
    """Weight of every answer after the non-response adjustment (METHODOLOGY 7.4, option 1).

    Parameters
    ----------
    responses
        The ``survey_response`` table: ``enterprise_id``, ``period`` (``YYYY-MM``), ``question``, ``answer``.
    enterprises
        The ``enterprise`` table (see :func:`sample_weights`).
    periods
        Months to return (default: every month in ``responses``).
    weighting, nonresponse, trim
        See :func:`diffusion_indices`.

    Returns
    -------
    pandas.DataFrame
        ``enterprise_id``, ``period``, ``question``, ``answer``, ``weight`` and ``stratum`` (the firm's
        division x size cell, ``"division/size"``): per month and question, the weights of a cell's
        respondents add up to the cell's full-sample weight.
    """
    sample, wanted = build_sample(enterprises, responses, "question", _QUESTION_CODES, periods, weighting, trim=trim)
    w = weights(sample, nonresponse)
    show = np.isin(sample.months, wanted)[sample.row_month]
    k, row = np.nonzero((sample.codes != MISSING) & show[None, :])
    f, t = sample.row_firm[row], sample.row_month[row]
    a = sample.atom[f]
    atoms = sample.atoms
    stratum = (atoms["industry_code"] + "/" + atoms["size_class"]).to_numpy(dtype=object)
    return pd.DataFrame({
        "enterprise_id": sample.ids[f],
        "period": pd.PeriodIndex.from_ordinals(sample.months[t], freq="M"),
        "question": np.array(sample.items, dtype=object)[k],
        "answer": (sample.codes[k, row] - 1).astype(np.int8),
        "weight": sample.x[f] * w.multiplier[a, t, k],
        "stratum": stratum[a],
    }).sort_values(["period", "question", "enterprise_id"], ignore_index=True)


# --------------------------------------------------------------------------------------------- domains
def _membership(atoms: pd.DataFrame, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Codes of one simple breakdown and its (atom, domain) membership pairs."""
    A = len(atoms)
    if kind == "city":
        return [CITY_CODE], np.arange(A), np.zeros(A, dtype=np.int64)
    if kind in ("district", "industry", "size"):
        column = {"district": "district_code", "industry": "industry_code", "size": "size_group"}[kind]
        values = atoms[column].to_numpy(dtype=object)
        codes = ([g for g in _SIZE_GROUPS if g in set(values)] if kind == "size" else sorted(set(values)))
        return codes, np.arange(A), pd.Index(codes).get_indexer(values)
    if kind == "key_sector":
        div = atoms["industry_code"].to_numpy(dtype=object)
        member = np.column_stack([np.isin(div, s.divisions) for s in KEY_SECTORS]) if A else np.zeros((0, 0))
        present = [j for j in range(len(KEY_SECTORS)) if member[:, j].any()]
        pa, pdj = np.nonzero(member[:, present])
        return [KEY_SECTORS[j].code for j in present], pa, pdj
    raise SurveyDataError(f"breakdowns must be among {list(BREAKDOWNS)} or combinations of them joined by '+' "
                          f"(e.g. 'district+size'); got {kind!r}")


def _domains(sample: _Sample, breakdowns: Sequence[str]) -> list[Domains]:
    """Domains of each breakdown; ``a+b`` crosses two breakdowns (codes ``<a code>.<b code>``)."""
    atoms = sample.atoms
    cell = atoms["cell"].to_numpy()
    out = []
    for kind in breakdowns:
        parts = kind.split("+")
        codes, pa, pd_ = _membership(atoms, parts[0])
        for part in parts[1:]:
            codes2, pa2, pd2 = _membership(atoms, part)
            left = pd.DataFrame({"atom": pa, "d1": pd_})
            right = pd.DataFrame({"atom": pa2, "d2": pd2})
            both = left.merge(right, on="atom")
            combo = both["d1"].to_numpy() * len(codes2) + both["d2"].to_numpy()
            used, pd_ = np.unique(combo, return_inverse=True)
            codes = [f"{codes[u // len(codes2)]}.{codes2[u % len(codes2)]}" for u in used]
            pa = both["atom"].to_numpy()
        out.append(Domains.build(kind, codes, pa, pd_, cell))
    return out


# --------------------------------------------------------------------------------------------- indices
_DI_COLUMNS = ["period", "question", "breakdown", "code", "P", "E", "N", "di", "balance", "se", "ci_low", "ci_high",
               "change", "se_change", "n_respondents", "n_sample", "response_rate", "low_n", "basis",
               "pmi_se", "pmi_se_change"]


def diffusion_indices(
    responses: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    periods: Iterable[str | pd.Period] | str | pd.Period | None = None,
    breakdowns: Sequence[Breakdown] = BREAKDOWNS,
    weighting: Weighting = "unweighted",
    nonresponse: NonResponse = "cell",
    min_respondents: int = 30,
    trim: float | None = DEFAULT_TRIM,
    workers: int | None = 1,
    engine: Any = None,
) -> pd.DataFrame:
    """Diffusion indices of every question by month and breakdown, with standard errors.

    Parameters
    ----------
    responses
        The ``survey_response`` table: ``enterprise_id``, ``period`` (``YYYY-MM`` text, Period or a
        categorical of either), ``question`` (a code of :data:`monitor.reference.QUESTIONS`), ``answer``
        (+1 higher, 0 same, -1 lower).  One row per firm, month and question answered.
    enterprises
        The ``enterprise`` table: ``id``, ``district_code``, ``industry_code``, ``size_class``,
        ``sample_weight``, ``revenue`` (for ``weighting="size"``) and ``panel_start``/``panel_end``
        (without them every firm counts as a panel member in every month).
    periods
        Months to compute (default: every month in ``responses``).  The month before each one is read
        too, for the month-on-month change.
    breakdowns
        Which of ``city``, ``district``, ``size``, ``industry``, ``key_sector`` to compute.
    weighting
        ``"unweighted"`` (every firm counts once: the NBS count formula, self-weighting for size on a
        sample drawn PPS by revenue within industry strata with stratum sizes proportional to value added;
        the default), ``"size"`` (design weight x revenue, post-stratified to division x size cells) or
        ``"design"`` (design weight only).
    nonresponse
        ``"cell"`` reweights respondents within division x size cells (falling back to the size class);
        ``"none"`` keeps the base weights (with ``"unweighted"``: the NBS count formula).
    min_respondents
        Fewer respondents than this set ``low_n``.
    trim
        With ``weighting="size"``: cap each firm's revenue at ``trim`` times the median revenue of its
        division x size cell (weight trimming; the cell keeps its total), ``None`` for no cap.  Default
        :data:`DEFAULT_TRIM` (setting ``compute.size_trim``).
    workers
        Processes to share the months among (``None``: every core; setting ``compute.workers``).  Batches of
        consecutive months are computed apart and put back together: the result is the one-process result to
        the last bit.  Small inputs (under a million answers per worker) stay in this process.
    engine
        A :mod:`monitor.engine` engine other than the local one (a Dask cluster): the month batches go to its
        workers instead (``workers`` is then the engine's); the same result.

    Returns
    -------
    pandas.DataFrame
        One row per (period, question, breakdown, code) with a panel member, columns

        - ``P``, ``E``, ``N``: weighted shares (0-1) of higher, same, lower;
        - ``di`` = 100 (P + E/2), ``balance`` = 100 (P - N);
        - ``se``: standard error of ``di`` (linearised, stratified by cell), ``ci_low``/``ci_high``: 95 %
          interval (clipped to 0-100);
        - ``change``: ``di`` minus the previous month's, ``se_change``: its standard error (matched panel);
        - ``n_respondents`` (answering this question), ``n_sample`` (panel members), ``response_rate``,
          ``low_n``;
        - ``basis`` (``"raw"``: not seasonally adjusted);
        - ``pmi_se``, ``pmi_se_change``: standard errors of the composite PMI of the same month and domain
          and of its change, from the per-firm linearised variable (equal on every question row; read by
          :func:`composite_pmi`).

        ``di`` and the standard errors are NaN where nobody answered.

    Raises
    ------
    SurveyDataError
        For unknown enterprise ids, question or size codes, answers outside {-1, 0, 1} or repeated answers.
    """
    options = {"breakdowns": breakdowns, "weighting": weighting, "nonresponse": nonresponse,
               "min_respondents": min_respondents, "trim": trim}
    remote = engine is not None and getattr(engine, "name", "local") != "local"
    batches = _batches([responses], periods, engine.workers if remote else workers)
    if len(batches) > 1 and remote:
        task = functools.partial(_months_of, diffusion_indices, {"responses": responses, "enterprises": enterprises},
                                 options)
        return _joined(engine.map(task, batches, batch=1))
    if len(batches) > 1:
        return _joined(map_batches(diffusion_indices, {"responses": responses, "enterprises": enterprises},
                                   [{"periods": b, "workers": 1, **options} for b in batches], len(batches)))
    sample, wanted = build_sample(enterprises, responses, "question", _QUESTION_CODES, periods, weighting, trim=trim)
    frame = _estimate_frame(sample, wanted, breakdowns, nonresponse, min_respondents, headline=True)
    return frame.rename(columns={"item": "question"})[_DI_COLUMNS]


def _batches(sources: Sequence[pd.DataFrame], periods: object, workers: int | None) -> list[list[pd.Period]]:
    """The months to compute cut into batches for ``workers`` processes (one batch: no pool)."""
    workers = default_workers() if workers is None else int(workers)
    if workers <= 1 or sum(len(s) for s in sources) < 2 * _parallel.MIN_ROWS_PER_WORKER:
        return [[]]
    _require(sources[0], ["period"], "responses")
    wanted = wanted_months(sources, periods)
    parts = month_batches(wanted, workers, sum(len(s) for s in sources))
    return [list(pd.PeriodIndex.from_ordinals(part, freq="M")) for part in parts]


def _months_of(function: Any, frames: dict[str, pd.DataFrame], options: dict[str, Any],
               months: list[pd.Period]) -> pd.DataFrame:
    """One month batch on an engine's worker."""
    return function(**frames, periods=months, workers=1, **options)  # type: ignore[no-any-return]


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Month batches' frames in month order, as one run would have given them."""
    rows = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(rows, ignore_index=True)


def problem_shares(
    problems: pd.DataFrame,
    responses: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    periods: Iterable[str | pd.Period] | str | pd.Period | None = None,
    breakdowns: Sequence[Breakdown] = BREAKDOWNS,
    weighting: Weighting = "unweighted",
    nonresponse: NonResponse = "cell",
    min_respondents: int = 30,
    trim: float | None = DEFAULT_TRIM,
    workers: int | None = 1,
) -> pd.DataFrame:
    """Weighted share of respondents ticking each "main problem", by month and breakdown.

    A respondent is a firm with at least one answer in ``responses`` (or one tick) that month; the
    shares use the same weights and non-response adjustment (over respondents) as
    :func:`diffusion_indices`.

    Parameters
    ----------
    problems
        The ``survey_problem`` table: ``enterprise_id``, ``period``, ``problem`` (a code of
        :data:`monitor.reference.PROBLEMS`).
    responses
        The ``survey_response`` table (who responded).
    enterprises, periods, breakdowns, weighting, nonresponse, min_respondents, trim, workers
        As for :func:`diffusion_indices`.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``problem``, ``breakdown``, ``code``, ``share`` (percent of respondents), ``se``,
        ``ci_low``, ``ci_high``, ``change``, ``se_change`` (percentage points), ``n_respondents``,
        ``n_sample``, ``response_rate``, ``low_n``.
    """
    _require(responses, ["enterprise_id", "period"], "responses")
    options = {"breakdowns": breakdowns, "weighting": weighting, "nonresponse": nonresponse,
               "min_respondents": min_respondents, "trim": trim}
    batches = _batches([problems, responses], periods, workers)
    if len(batches) > 1:
        return _joined(map_batches(problem_shares, {"problems": problems, "responses": responses,
                                                    "enterprises": enterprises},
                                   [{"periods": b, "workers": 1, **options} for b in batches], len(batches)))
    unit = responses[["enterprise_id", "period"]]
    sample, wanted = build_sample(enterprises, problems, "problem", _PROBLEM_CODES, periods, weighting,
                                   respondents=unit, trim=trim)
    frame = _estimate_frame(sample, wanted, breakdowns, nonresponse, min_respondents, headline=False)
    # The machinery works on the diffusion-index scale 50 + 50 R; with r in {0, 1}, R is the share.
    frame["share"] = 100.0 * frame["P"]
    for column in ("se", "change", "se_change"):
        frame[column] = 2.0 * frame[column]
    frame["ci_low"] = np.clip(frame["share"] - Z95 * frame["se"], 0.0, 100.0)
    frame["ci_high"] = np.clip(frame["share"] + Z95 * frame["se"], 0.0, 100.0)
    return frame.rename(columns={"item": "problem"})[
        ["period", "problem", "breakdown", "code", "share", "se", "ci_low", "ci_high", "change", "se_change",
         "n_respondents", "n_sample", "response_rate", "low_n"]]


def _estimate_frame(
    sample: _Sample,
    wanted: np.ndarray,
    breakdowns: Sequence[str],
    nonresponse: NonResponse,
    min_respondents: int,
    *,
    headline: bool,
) -> pd.DataFrame:
    w = weights(sample, nonresponse)
    domains = _domains(sample, breakdowns)
    months = sample.months
    cur = np.flatnonzero(np.isin(months, wanted))
    prev_pos = np.searchsorted(months, months[cur] - 1)
    has_prev = (prev_pos < len(months)) & (months[np.minimum(prev_pos, len(months) - 1)] == months[cur] - 1)
    pairs = (cur[has_prev], prev_pos[has_prev])
    cross = cross_sums(sample, w.multiplier, w.cell_respondents, w.to_cell, pairs[0])
    rows = (CompositeRows.build(sample, _headline_items(sample.items), w.to_cell, pairs[0])
            if headline else None)
    parts = []
    for j, dom in enumerate(domains):
        est = domain_estimates(dom, w.sums, w.cell_respondents, cross, pairs, w.members)
        comp = (composite_linearised(sample, rows, w.multiplier, dom, est["W"], est["R"], pairs)
                if rows is not None else None)
        part = _tidy(sample, dom, est, cur, has_prev, comp)
        part.insert(2, "breakdown_rank", j)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["n_sample"] > 0]
    frame = frame.sort_values(["period", "item_rank", "breakdown_rank", "code_rank"], kind="stable", ignore_index=True)
    frame["low_n"] = frame["n_respondents"] < min_respondents
    return frame.drop(columns=["item_rank", "breakdown_rank", "code_rank"])


def _headline_items(items: tuple[str, ...]) -> list[tuple[int, float]]:
    return [(items.index(code), a) for code, a in _HEADLINE]


def _tidy(sample: _Sample, dom: Domains, est: dict[str, np.ndarray], cur: np.ndarray, has_prev: np.ndarray,
          comp: dict[str, np.ndarray] | None) -> pd.DataFrame:
    """Flatten ``(domain, month, item)`` arrays into rows for the months ``cur``."""
    D, Tc, K = len(dom.codes), len(cur), len(sample.items)
    d_i, t_i, k_i = (a.ravel() for a in np.meshgrid(np.arange(D), np.arange(Tc), np.arange(K), indexing="ij"))

    def pick(name: str) -> np.ndarray:
        return est[name][:, cur][d_i, t_i, k_i]

    W, wp, we, wn = pick("W"), pick("Wp"), pick("We"), pick("Wn")
    with np.errstate(invalid="ignore", divide="ignore"):
        P, E, N = wp / W, we / W, wn / W
    ok = W > 0
    P, E, N = (np.where(ok, v, np.nan) for v in (P, E, N))
    di = 100.0 * (P + E / 2.0)
    se = np.where(ok, 50.0 * np.sqrt(pick("var")), np.nan)
    change = np.full((D, Tc, K), np.nan)
    se_change = np.full((D, Tc, K), np.nan)
    change[:, has_prev] = est["change"]
    se_change[:, has_prev] = 50.0 * np.sqrt(est["var_change"])
    n_resp = pick("n").astype(np.int64)
    n_sample = est["members"][:, cur][d_i, t_i].astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_sample > 0, n_resp / np.maximum(n_sample, 1), np.nan)
    frame = pd.DataFrame({
        "period": pd.PeriodIndex.from_ordinals(sample.months[cur][t_i], freq="M"),
        "item": np.array(sample.items, dtype=object)[k_i],
        "item_rank": k_i,
        "breakdown": dom.kind,
        "code": np.array(dom.codes, dtype=object)[d_i],
        "code_rank": d_i,
        "P": P, "E": E, "N": N, "di": di, "balance": 100.0 * (P - N), "se": se,
        "ci_low": np.clip(di - Z95 * se, 0.0, 100.0), "ci_high": np.clip(di + Z95 * se, 0.0, 100.0),
        "change": change[d_i, t_i, k_i], "se_change": se_change[d_i, t_i, k_i],
        "n_respondents": n_resp, "n_sample": n_sample, "response_rate": rate,
        "basis": "raw",
    })
    if comp is not None:
        head = [k for k, _ in _headline_items(sample.items)]
        complete = np.asarray((est["W"][:, :, head] > 0).all(axis=2))[:, cur]
        pmi_se = np.where(complete, 50.0 * np.sqrt(comp["var"][:, cur]), np.nan)
        pmi_se_change = np.full((D, Tc), np.nan)
        both = ~np.isnan(est["change"][:, :, head]).any(axis=2)
        pmi_se_change[:, has_prev] = np.where(both, 50.0 * np.sqrt(comp["var_change"]), np.nan)
        frame["pmi_se"] = pmi_se[d_i, t_i]
        frame["pmi_se_change"] = pmi_se_change[d_i, t_i]
    return frame


# --------------------------------------------------------------------------------------------- composite
def composite_pmi(di_frame: pd.DataFrame) -> pd.DataFrame:
    """The composite (headline) PMI from its five component diffusion indices.

    ``PMI = 0.30 NO + 0.25 P + 0.20 EMP + 0.15 (100 - SDT) + 0.10 RMI`` (METHODOLOGY 1.5), per period and
    breakdown.

    Parameters
    ----------
    di_frame
        Component indices: columns ``period``, ``question``, ``di``; optionally ``breakdown`` and ``code``
        (domains), ``change``, ``n_respondents``, ``n_sample``, ``basis`` (``"raw"`` or ``"sa"``, default
        ``"raw"``), and ``pmi_se``/``pmi_se_change`` as written by :func:`diffusion_indices`.

    Returns
    -------
    pandas.DataFrame
        The input's key columns with ``question = "headline"``, ``di`` (the PMI, unrounded), ``se`` and
        ``ci_low``/``ci_high`` (from ``pmi_se``: the per-firm linearised variable, so correlated answers
        are accounted for; NaN when the frame has no ``pmi_se``, e.g. published components), ``change``,
        ``se_change``, ``n_respondents``/``n_sample`` (the smallest component's), ``low_n`` and ``basis``.
        A domain lacking a component gets ``di`` NaN.

    Raises
    ------
    SurveyDataError
        When the frame lacks the key columns or mixes raw and seasonally adjusted components in a domain.
    """
    _require(di_frame, ["period", "question", "di"], "di")
    keys = [c for c in ("period", "breakdown", "code") if c in di_frame.columns]
    weights = dict(_HEADLINE)
    part = di_frame[di_frame["question"].isin(list(weights))].copy()
    if "basis" not in part.columns:
        part["basis"] = "raw"
    mixed = part.groupby(keys, sort=False)["basis"].nunique()
    if (mixed > 1).any():
        raise SurveyDataError(f"the components of a composite PMI must share one basis (raw or sa); "
                              f"{mixed[mixed > 1].index[:3].tolist()} mix them: select one basis first")
    a = part["question"].map(weights).to_numpy(float)
    part["di"] = _headline_term(a, part["di"].to_numpy(float))
    part["change"] = a * part["change"].to_numpy(float) if "change" in part.columns else np.nan
    for col in ("n_respondents", "n_sample", "pmi_se", "pmi_se_change"):
        if col not in part.columns:
            part[col] = np.nan
    grouped = part.groupby(keys, sort=False, dropna=False)
    out = pd.concat([grouped[["di", "change"]].sum(min_count=len(weights)),  # NaN unless all five are there
                     grouped[["n_respondents", "n_sample"]].min(),
                     grouped[["basis", "pmi_se", "pmi_se_change"]].first()], axis=1).reset_index()
    out["se"] = out.pop("pmi_se").where(out["di"].notna())
    out["se_change"] = out.pop("pmi_se_change").where(out["change"].notna())
    out["ci_low"] = np.clip(out["di"] - Z95 * out["se"], 0.0, 100.0)
    out["ci_high"] = np.clip(out["di"] + Z95 * out["se"], 0.0, 100.0)
    out.insert(1, "question", "headline")
    if "low_n" in part.columns:  # a composite is low-n when any of its components is
        out["low_n"] = grouped["low_n"].any().to_numpy()
    columns = keys[:1] + ["question"] + keys[1:] + ["di", "se", "ci_low", "ci_high", "change", "se_change"]
    columns += [c for c in ("n_respondents", "n_sample") if c in di_frame.columns]
    columns += [c for c in ("low_n",) if c in out.columns] + ["basis"]
    return out[columns]


# --------------------------------------------------------------------------------------------- series
def series_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows for the ``series_value`` table from a tidy frame of this module.

    Keys follow DESIGN.md "Names": ``pmi/<question>`` for the city and ``pmi/<question>/<breakdown>/<code>``
    for the other breakdowns (``pmi/headline`` for the composite); ``problems/<problem>[/<breakdown>/<code>]``
    for :func:`problem_shares`.

    Parameters
    ----------
    frame
        The result of :func:`diffusion_indices`, :func:`composite_pmi` (or both concatenated), or
        :func:`problem_shares`.

    Returns
    -------
    pandas.DataFrame
        ``series_key``, ``period`` (``YYYY-MM`` text), ``raw`` (``di`` or ``share``), ``se``, ``n``
        (respondents); rows without a value (nobody answered) are left out.
    """
    if "problem" in frame.columns:
        prefix, item, value = "problems/", frame["problem"], frame["share"]
    else:
        _require(frame, ["question", "di"], "di")
        prefix, item, value = "pmi/", frame["question"], frame["di"]
    item = item.astype(str)
    suffix: np.ndarray | str
    if "breakdown" in frame.columns:
        kind = frame["breakdown"].astype(str)
        suffix = np.where(kind == "city", "", "/" + kind + "/" + frame["code"].astype(str))
    else:
        suffix = ""
    period = frame["period"]
    text = (period.dt.strftime("%Y-%m") if isinstance(period.dtype, pd.PeriodDtype)
            else period.map(lambda p: parse_month(p).strftime("%Y-%m")))
    out = pd.DataFrame({
        "series_key": prefix + item + suffix,
        "period": text.astype(str).to_numpy(),
        "raw": value.to_numpy(float),
        "se": frame["se"].to_numpy(float) if "se" in frame.columns else np.nan,
        "n": (frame["n_respondents"].astype("Int64").to_numpy() if "n_respondents" in frame.columns
              else pd.array([pd.NA] * len(frame), dtype="Int64")),
    })
    return out[out["raw"].notna()].reset_index(drop=True)
