"""Survey answers of the demo panel: drawn from the latent cycle with raw seasonality.

Answer model (an ordered-threshold model, one per question k):

``z = mu(DI_cell) + loading_k * FIRM_SD * f_i,t + eps_i,t,k``, ``eps`` a standard normal AR(1) per
firm and question (persistence :data:`ANSWER_RHO`); the answer is +1 when ``z > tau``, -1 when
``z < -tau``, else 0.

``DI_cell`` is the city's latent index plus the district's, the division's and the size class's
deviations (index points, AR(1)), plus the raw month-of-year pattern and the
Spring Festival effect; ``mu`` inverts the population diffusion index so that,
averaged over firms, the expected DI equals ``DI_cell``.  ``f`` is a persistent
firm condition.  The Spring Festival effect is ``-beta_k * (h_t - h_{t-1})``
where ``h_t`` is the share of the festival window (7 days before to 14 after
lunar new year) falling in month t: a dip in the holiday month, a rebound after,
moving between January and February with the festival.

Firms whose production status worsens answer "lower" for production, orders,
purchases and employment; firms restarting answer "higher" for production.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..reference import PROBLEMS, QUESTIONS
from .cycle import question_loading
from .panel import Panel

__all__ = ["SurveyDraw", "festival_share", "draw_status", "draw_survey", "raw_truth", "TAU", "FIRM_SD", "SIZE_OFFSET"]

TAU = 0.75
FIRM_SD = 0.5
#: Month-to-month persistence of a firm's own (idiosyncratic) answer shock: a purchasing manager who
#: answered "same" last month mostly answers "same" again.  With independent monthly shocks (0) the matched
#: panel carried no information from one month to the next and district indices jumped by 10-30 points.
ANSWER_RHO = 0.6
#: Lasting gap of a size class's conditions (index points): large firms fare better than small ones, as the
#: NBS size breakdown shows month after month; an AR(1) moves around it.
SIZE_OFFSET = {"large": 1.2, "medium": 0.3, "small": -1.0, "micro": -2.0}
QCODES = [q.code for q in QUESTIONS]

_ACT = [-0.5, -1.0, 2.0, 0.5, -0.5, 0.5, -1.0, -0.5, 1.5, -1.5, 0.5, 0.0]
_SEASON = {
    "production": _ACT, "new_orders": _ACT, "new_export_orders": _ACT, "backlog_orders": _ACT,
    "purchase_quantity": _ACT, "imports": _ACT,
    "employment": [-0.5, -1.5, 2.5, 0.5, 0, 0, -0.5, 0, 0.5, -0.5, 0, -0.5],
    "finished_goods_inventory": [-0.5, 1.0, -1.0, 0, 0, 0.5, 0, 0, 0, 0, -0.5, 0.5],
    "raw_materials_inventory": [-0.5, 1.0, -1.0, 0, 0, 0.5, 0, 0, 0, 0, -0.5, 0.5],
    "input_prices": [0.5, 0, 0, 0, -0.5, -0.5, 0, 0, 0.5, 0, 0, 0],
    "output_prices": [0.5, 0, 0, 0, -0.5, -0.5, 0, 0, 0.5, 0, 0, 0],
    "supplier_delivery_time": [-1.0, -2.0, 2.0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0],
    "expectations": [1.0, 1.5, 1.0, 0, -0.5, -0.5, -0.5, -0.5, 0, -0.5, -0.5, -0.5],
}
#: Spring Festival effect (index points per unit change of the festival share).
_SF_BETA = {
    "production": 11.0, "new_orders": 8.0, "purchase_quantity": 10.0, "imports": 6.0, "new_export_orders": 6.0,
    "backlog_orders": 5.0, "employment": 6.0, "raw_materials_inventory": 4.0, "finished_goods_inventory": 3.0,
    "supplier_delivery_time": 8.0,
}
_DROP_ON_STOP = ["production", "new_orders", "purchase_quantity", "employment"]
#: Questions whose latent scores are returned for the operating data.
LATENT_KEPT = ("production", "finished_goods_inventory", "employment")


@dataclass
class SurveyDraw:
    """What :func:`draw_survey` returns.

    Attributes
    ----------
    responses : pandas.DataFrame
        ``enterprise_id, period, question, answer, revision, submitted_at``.
    history : pandas.DataFrame
        Superseded answers (``revision`` 1) of corrected submissions, with ``superseded_at``.
    problems : pandas.DataFrame
        ``enterprise_id, period, problem``.
    responded : numpy.ndarray
        ``F x T`` boolean: the firm returned the questionnaire.
    latent : dict
        ``F x T`` latent answer scores (NaN outside the panel) of the questions in
        :data:`LATENT_KEPT`, answered or not: they drive output, inventory and staff.
    """

    responses: pd.DataFrame
    history: pd.DataFrame
    problems: pd.DataFrame
    responded: np.ndarray
    latent: dict[str, np.ndarray]


def festival_share(months: pd.PeriodIndex, cny: pd.Series, before: int = 7, after: int = 14) -> np.ndarray:
    """Share of the Spring Festival window ``[cny-before, cny+after]`` in each month."""
    share = np.zeros(len(months))
    pos = {p: i for i, p in enumerate(months)}
    for year in range(months[0].year - 1, months[-1].year + 2):
        if year not in cny.index:
            continue
        days = pd.date_range(pd.Timestamp(cny[year]) - pd.Timedelta(days=before),
                             pd.Timestamp(cny[year]) + pd.Timedelta(days=after))
        for period, count in days.to_period("M").value_counts().items():
            if period in pos:
                share[pos[period]] += count / len(days)
    return share


def _ar1(rng: np.random.Generator, rows: int, cols: int, sd: float, rho: float) -> np.ndarray:
    out = np.empty((rows, cols))
    out[:, 0] = rng.normal(0, sd, rows)
    innov = rng.normal(0, sd * np.sqrt(1 - rho**2), (rows, cols))
    for t in range(1, cols):
        out[:, t] = rho * out[:, t - 1] + innov[:, t]
    return out


def _di_of_mu(mu: np.ndarray, s: float) -> np.ndarray:
    return 100 * (1 - 0.5 * ndtr((TAU - mu) / s) - 0.5 * ndtr((-TAU - mu) / s))


def raw_truth(cycle: pd.DataFrame, festival: np.ndarray) -> pd.DataFrame:
    """The city's expected raw (not seasonally adjusted) diffusion indices: the latent cycle plus the raw
    month-of-year pattern and the Spring Festival effect the answers are drawn with.

    Parameters
    ----------
    cycle
        :func:`~monitor.demo.cycle.city_cycle` (the seasonally adjusted truth).
    festival
        :func:`festival_share` for ``cycle.index``.

    Returns
    -------
    pandas.DataFrame
        The 13 question codes and ``headline`` (rebuilt from the raw components), indexed like ``cycle``.
    """
    from .cycle import headline_from_components

    moy = np.asarray(cycle.index.month) - 1
    dh = festival - np.concatenate([[festival[0]], festival[:-1]])
    out = pd.DataFrame(index=cycle.index)
    for code in QCODES:
        out[code] = np.clip(cycle[code].to_numpy() + np.asarray(_SEASON[code])[moy] - _SF_BETA.get(code, 0.0) * dh,
                            1, 99)
    out["headline"] = headline_from_components(out)
    return out


def draw_status(panel: Panel, firm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Production status per firm and month: 0 normal, 1 semi-stopped, 2 stopped.

    A Markov chain whose odds of a stoppage rise with a poor firm condition
    ``firm`` and, in February 2020, with the COVID-19 shutdown.
    """
    F, T = (int(n) for n in panel.active.shape)
    status = np.zeros((F, T), dtype=np.int8)
    months = panel.months
    for t in range(T):
        prev = status[:, t - 1] if t else np.zeros(F, dtype=np.int8)
        stress = np.clip(-firm[:, t], 0, None)
        p_semi, p_stop = 0.006 + 0.02 * stress, 0.0015 + 0.006 * stress
        recover_semi, recover_stop = 0.45, 0.35
        if str(months[t]) == "2020-02":
            p_semi, p_stop = np.full(F, 0.40), np.full(F, 0.22)
        elif str(months[t]) in ("2020-03", "2020-04"):
            recover_semi, recover_stop = 0.8, 0.7
        u = rng.random(F)
        new = prev.copy()
        normal = prev == 0
        new[normal & (u < p_stop)] = 2
        new[normal & (u >= p_stop) & (u < p_stop + p_semi)] = 1
        semi = prev == 1
        new[semi & (u < recover_semi)] = 0
        new[semi & (u >= recover_semi) & (u < recover_semi + 0.08)] = 2
        stopped = prev == 2
        new[stopped & (u < recover_stop)] = 0
        new[stopped & (u >= recover_stop) & (u < recover_stop + 0.15)] = 1
        status[:, t] = np.where(panel.active[:, t], new, 0)
    return status


def draw_survey(
    panel: Panel,
    cycle: pd.DataFrame,
    festival: np.ndarray,
    firm: np.ndarray,
    status: np.ndarray,
    rng: np.random.Generator,
) -> SurveyDraw:
    """Draw the answers, non-response, timing, corrections and problem ticks.

    Parameters
    ----------
    panel
        The sample panel.
    cycle
        City latent DI per question (columns = question codes), indexed like ``panel.months``.
    festival
        :func:`festival_share` for ``panel.months``.
    firm
        ``F x T`` firm condition (latent units).
    status
        ``F x T`` production status from :func:`draw_status`.
    rng
        Random generator.
    """
    ent = panel.enterprises
    F, T = (int(n) for n in panel.active.shape)
    months = panel.months
    pop = panel.population
    districts = sorted(set(pop["district_code"]) | set(ent["district_code"]))
    divisions = sorted(set(pop["industry_code"]) | set(ent["industry_code"]))
    sizes = list(SIZE_OFFSET)
    dist_dev = _ar1(rng, len(districts), T, 1.5, 0.85) + rng.normal(0, 0.7, (len(districts), 1))
    div_dev = _ar1(rng, len(divisions), T, 1.8, 0.85) + rng.normal(0, 0.8, (len(divisions), 1))
    size_dev = _ar1(rng, len(sizes), T, 0.8, 0.9) + np.array([SIZE_OFFSET[s] for s in sizes])[:, None]

    def deviation(frame: pd.DataFrame) -> np.ndarray:
        return (dist_dev[frame["district_code"].map({d: i for i, d in enumerate(districts)}).to_numpy()]
                + div_dev[frame["industry_code"].map({d: i for i, d in enumerate(divisions)}).to_numpy()]
                + size_dev[frame["size_class"].map({s: i for i, s in enumerate(sizes)}).to_numpy()])

    # District, division and size deviations are centred each month on the frame's size weights (the
    # count formula's estimand on the PPS design, :class:`~monitor.demo.panel.Panel`), so the city's latent
    # index is the size-weighted population mean of the cells' indices: the truth a city estimate aims at.
    dev = deviation(ent)
    dev -= (pop["weight"].to_numpy() @ deviation(pop))[None, :]

    # Unit response: a firm's propensity, lower in the festival month, when stopped, and in February 2020.
    propensity = rng.beta(18, 1.4, F)[:, None] * np.ones((1, T))
    propensity *= np.where(festival > 0.5, 0.96, 1.0)[None, :]
    propensity *= np.where(status == 2, 0.7, 1.0)
    propensity[:, [i for i, m in enumerate(months) if str(m) == "2020-02"]] *= 0.85
    responded = panel.active & (rng.random((F, T)) < propensity)
    # Latent answers exist for every active firm-month (they drive output, inventory and staff);
    # only the returned questionnaires are kept as responses.
    fi, ti = np.nonzero(panel.active)
    n = len(fi)
    mu_grid = np.linspace(-5, 5, 2001)
    moy = np.array([m.month - 1 for m in months])
    dh = festival - np.concatenate([[festival[0]], festival[:-1]])
    worse = status[fi, ti] > np.where(ti > 0, status[fi, np.maximum(ti - 1, 0)], 0)
    better = status[fi, ti] < np.where(ti > 0, status[fi, np.maximum(ti - 1, 0)], 0)

    answers = np.empty((n, len(QCODES)), dtype=np.int8)
    latent = {c: np.full((F, T), np.nan) for c in LATENT_KEPT}
    for k, code in enumerate(QCODES):
        lam = question_loading(code)
        s = np.sqrt(1 + (lam * FIRM_SD) ** 2)
        di_grid = _di_of_mu(mu_grid, s)
        target = (cycle[code].to_numpy()[ti] + lam * dev[fi, ti]
                  + np.asarray(_SEASON[code])[moy[ti]] - _SF_BETA.get(code, 0.0) * dh[ti])
        mu = np.interp(np.clip(target, 1, 99), di_grid, mu_grid)
        z = mu + lam * FIRM_SD * firm[fi, ti] + _ar1(rng, F, T, 1.0, ANSWER_RHO)[fi, ti]
        if code in latent:
            latent[code][fi, ti] = z
        a = (z > TAU).astype(np.int8) - (z < -TAU).astype(np.int8)
        if code in _DROP_ON_STOP:
            a[worse & (rng.random(n) < 0.85)] = -1
        if code == "production":
            a[better & (rng.random(n) < 0.85)] = 1
        answers[:, k] = a

    kept = responded[fi, ti]
    fi, ti, answers, worse, n = fi[kept], ti[kept], answers[kept], worse[kept], int(kept.sum())

    # Item non-response: trade questions are skipped more often.
    skip_p = np.array([0.02 if c in ("imports", "new_export_orders") else 0.003 for c in QCODES])
    keep = rng.random((n, len(QCODES))) >= skip_p

    # Timing: survey of month t filled on the 18th-25th; late firms send it up to the 3rd of the next month.
    late_prone = rng.beta(1.2, 14, F)
    late = rng.random(n) < late_prone[fi]
    first = np.array([m.start_time for m in months], dtype="datetime64[ns]")
    on_time_day = rng.integers(17, 25, n)
    late_day = rng.integers(25, 34, n)
    day = np.where(late, late_day, on_time_day)
    submitted = (first[ti] + day.astype("timedelta64[D]") + rng.integers(8 * 60, 18 * 60, n).astype("timedelta64[m]")
                 + rng.integers(0, 60, n).astype("timedelta64[s]"))

    # Corrections: about 1.2 % of returns are corrected a few days later in one or two questions.
    corrected = rng.random(n) < 0.012
    periods = np.array([str(m) for m in months], dtype=object)
    rows_r, rows_q = np.nonzero(keep)
    frame = pd.DataFrame({
        "enterprise_id": ent["id"].to_numpy()[fi[rows_r]],
        "period": periods[ti[rows_r]],
        "question": np.array(QCODES, dtype=object)[rows_q],
        "answer": answers[rows_r, rows_q],
        "revision": np.ones(len(rows_r), dtype=np.int16),
        "submitted_at": submitted[rows_r],
    })
    hist = []
    if corrected.any():
        fix_q = rng.random((n, len(QCODES))) < 1.5 / len(QCODES)
        fix = corrected[rows_r] & fix_q[rows_r, rows_q]
        delay = rng.integers(1, 5, fix.sum()).astype("timedelta64[D]")
        old = frame.loc[fix].copy()
        shift = rng.choice([1, 2], fix.sum())
        old["answer"] = ((old["answer"].to_numpy() + 1 + shift) % 3 - 1).astype(np.int8)
        old["superseded_at"] = old["submitted_at"].to_numpy() + delay
        frame.loc[fix, "revision"] = 2
        frame.loc[fix, "submitted_at"] = old["superseded_at"].to_numpy()
        hist.append(old)
    history = pd.concat(hist) if hist else frame.iloc[:0].assign(superseded_at=pd.Series(dtype="datetime64[ns]"))

    problems = _draw_problems(cycle, fi, ti, firm, ent, months, rng)
    return SurveyDraw(frame, history.reset_index(drop=True), problems, responded, latent)


def _draw_problems(cycle: pd.DataFrame, fi: np.ndarray, ti: np.ndarray, firm: np.ndarray, ent: pd.DataFrame,
                   months: pd.PeriodIndex, rng: np.random.Generator) -> pd.DataFrame:
    def logistic(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    n = len(fi)
    f = firm[fi, ti]
    no = cycle["new_orders"].to_numpy()[ti]
    ip = cycle["input_prices"].to_numpy()[ti]
    small = ent["size_class"].isin(["small", "micro"]).to_numpy()[fi]
    year_month = np.array([(m.year, m.month) for m in months])[ti]
    covid = (year_month[:, 0] >= 2020) & (year_month[:, 0] <= 2022)
    power_cut = (year_month[:, 0] == 2021) & np.isin(year_month[:, 1], [5, 6, 9, 10])
    trade = ((year_month[:, 0] == 2018) & (year_month[:, 1] >= 7)) | (year_month[:, 0] == 2019)
    exporter = ent["industry_code"].isin(["17", "18", "19", "24", "38", "39"]).to_numpy()[fi]
    p = {
        "insufficient_demand": logistic(-0.3 - 0.25 * (no - 50) - 0.8 * f),
        "high_raw_material_cost": logistic(-1.2 + 0.07 * (ip - 50)),
        "high_labour_cost": np.full(n, 0.25),
        "labour_shortage": logistic(-2.2 + 0.6 * (year_month[:, 1] == 3)),
        "high_logistics_cost": logistic(-2.0 + 1.0 * covid),
        "tight_funding": logistic(-2.0 + 0.7 * small - 0.6 * f),
        "energy_supply": logistic(-3.5 + 3.0 * power_cut),
        "trade_frictions": logistic(-3.5 + 2.5 * (trade & exporter) + 0.8 * exporter),
    }
    codes = [c for c, _, _ in PROBLEMS]
    ticks = np.column_stack([rng.random(n) < p[c] for c in codes])
    r, c = np.nonzero(ticks)
    periods = np.array([str(m) for m in months], dtype=object)
    return pd.DataFrame({
        "enterprise_id": ent["id"].to_numpy()[fi[r]],
        "period": periods[ti[r]],
        "problem": np.array(codes, dtype=object)[c],
    })
