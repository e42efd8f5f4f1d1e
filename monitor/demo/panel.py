"""The demo's sample panel: a frame of enterprises, a PPS sample drawn the NBS way, and rotation.

Design (METHODOLOGY 1.3 and 7.2, the NBS PMI design).  A *frame* of
``FRAME_RATIO`` x ``n`` enterprises is drawn first, in Guangzhou-like
proportions: Huangpu (with the former Luogang), Panyu, Huadu, Nansha, Zengcheng
and Baiyun hold most plants, the old central districts few; autos and
electronics have many large firms; most firms are small.  The frame's divisions
(GB/T 4754) are the strata.  Each stratum *h* gets ``n_h`` sample slots in
proportion to its value added ``VA_h`` (revenue x the division's value-added
rate, :data:`VA_RATE`), and inside the stratum firms are selected with
probability proportional to their revenue ``x_i``: ``pi_i = n_h x_i / X_h``,
firms with ``pi_i >= 1`` being taken with certainty and ``pi`` recomputed for
the others.  Then ``x_i / pi_i = X_h / n_h`` is the same for every sampled firm
of a stratum, and with ``n_h`` proportional to ``VA_h`` the *unweighted* share of
firms answering "higher" is the Horvitz-Thompson estimator of the size-weighted
share: the NBS count formula is self-weighting for size.  The design weight
``sample_weight`` is ``1 / pi_i``.

Selection is sequential Poisson (order) sampling with permanent random numbers:
firm *i* has a PRN ``u_i`` and the ranking key ``xi_i = frac(u_i + r pi_i y) / pi_i``
in year *y*; each stratum takes its ``n_h`` smallest keys among the open firms.
Shifting the PRN by ``r pi_i`` a year rotates about a share ``r`` (``rotation``)
of every firm's chances each January, whatever its size, while keeping each
firm's inclusion probability.  A firm that has rotated out does not come back;
a firm that closes (hazard ``closure`` a month) leaves the frame, and the next
firm in its stratum's order takes its place the same month.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from collectors.uscc import ALPHABET, make_uscc

__all__ = ["Panel", "build_panel"]

#: Share of sample enterprises by district (sums to 1).
DISTRICT_SHARE = {
    "440103": 0.03, "440104": 0.015, "440105": 0.035, "440106": 0.04, "440111": 0.14, "440112": 0.22,
    "440113": 0.13, "440114": 0.12, "440115": 0.10, "440117": 0.045, "440118": 0.105,
}
#: Share of sample enterprises by division before district affinity (sums to 1 after normalising).
DIVISION_SHARE = {
    "13": 2.0, "14": 3.0, "15": 2.0, "16": 0.3, "17": 2.5, "18": 5.0, "19": 3.0, "20": 0.8, "21": 3.0,
    "22": 2.5, "23": 3.0, "24": 3.5, "25": 0.7, "26": 8.0, "27": 4.0, "28": 0.4, "29": 6.5, "30": 3.5,
    "31": 0.8, "32": 1.5, "33": 5.0, "34": 5.5, "35": 4.0, "36": 11.0, "37": 2.0, "38": 6.5, "39": 11.0,
    "40": 2.0, "41": 1.0, "42": 0.5, "43": 0.5,
}
#: Districts where a division is concentrated (multiplier on the base share).
AFFINITY = {
    "36": {"440112": 2.0, "440114": 2.5, "440115": 2.5, "440118": 2.0, "440113": 1.5},
    "39": {"440112": 2.5, "440118": 1.5, "440113": 1.2},
    "25": {"440112": 4.0, "440115": 2.0},
    "26": {"440111": 2.0, "440112": 1.5},
    "27": {"440112": 2.5, "440111": 1.3},
    "18": {"440118": 2.5, "440111": 1.5, "440105": 2.5, "440113": 1.5},
    "37": {"440115": 3.0, "440112": 1.5},
    "15": {"440117": 3.0},
    "13": {"440117": 2.0, "440118": 1.5},
}
#: Frame size mix by size class, and a division-specific tilt towards large firms.
SIZE_MIX = {"large": 0.025, "medium": 0.22, "small": 0.53, "micro": 0.225}
LARGE_TILT = {"36": 2.0, "39": 2.2, "25": 3.0, "26": 1.3, "27": 1.5, "37": 2.0, "16": 4.0, "38": 1.3}
#: Frame enterprises per sample slot.
FRAME_RATIO = 8.0
#: Value-added rate (value added / output) by division; the others :data:`DEFAULT_VA_RATE`.  Guangzhou 2016:
#: 4,878 / 19,556 = 0.25 over all industry.
VA_RATE = {"16": 0.60, "25": 0.15, "36": 0.22, "39": 0.20, "27": 0.35, "15": 0.35, "26": 0.24, "38": 0.22}
DEFAULT_VA_RATE = 0.27
#: Median annual revenue of a large firm (10k yuan), and the division's factor on it.
LARGE_MEDIAN = 276_000.0
LARGE_SCALE = {"25": 3.0, "36": 1.2, "16": 2.0, "39": 1.0, "31": 1.5, "32": 1.3}

_NAME_STEMS = list("华信达安明宏广瑞泰鸿丰盛恒兴中天金鑫源海越穗珠粤南方新远嘉康美创智科龙凯华邦")
_NAME_SUFFIX = {
    "13": "食品", "14": "食品", "15": "饮料", "16": "烟草", "17": "纺织", "18": "服饰", "19": "皮具", "20": "木业",
    "21": "家具", "22": "纸业", "23": "印务", "24": "文体用品", "25": "石化", "26": "化工", "27": "药业",
    "28": "化纤", "29": "塑胶", "30": "建材", "31": "钢铁", "32": "有色金属", "33": "五金", "34": "机械",
    "35": "装备", "36": "汽车", "37": "船舶", "38": "电器", "39": "电子", "40": "仪器", "41": "工艺", "42": "再生资源",
    "43": "设备维修",
}


@dataclass
class Panel:
    """Enterprises of the demo panel and their months of membership.

    Attributes
    ----------
    enterprises : pandas.DataFrame
        One row per enterprise (``id`` 1..F) with the ``enterprise`` table's
        columns plus ``start_idx``/``end_idx`` (month positions, inclusive).
    months : pandas.PeriodIndex
        The months of the panel.
    active : numpy.ndarray
        Boolean ``F x T`` membership matrix.
    population : pandas.DataFrame
        The frame's size weights by cell: ``district_code, industry_code, size_class, weight`` (the
        cell's share of the expected sample count ``sum pi_i / n``: revenue within a stratum, capped at
        the certainty threshold, strata by value added; the weights add up to 1).  The demo's latent
        truth is the ``weight``-weighted mean over these cells.
    """

    enterprises: pd.DataFrame
    months: pd.PeriodIndex
    active: np.ndarray
    population: pd.DataFrame


def _cell_probabilities() -> tuple[list[tuple[str, str]], np.ndarray]:
    cells, weights = [], []
    for d, dshare in DISTRICT_SHARE.items():
        for ind, ishare in DIVISION_SHARE.items():
            cells.append((d, ind))
            weights.append(dshare * ishare * AFFINITY.get(ind, {}).get(d, 1.0))
    w = np.asarray(weights)
    return cells, w / w.sum()


def _size_classes(divisions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    codes = list(SIZE_MIX)
    out = np.empty(len(divisions), dtype=object)
    for div in np.unique(divisions):
        mask = divisions == div
        p = np.array([SIZE_MIX[c] * (LARGE_TILT.get(div, 1.0) if c == "large" else 1.0) for c in codes])
        if div in LARGE_TILT:
            p[codes.index("micro")] /= LARGE_TILT[div]
        out[mask] = rng.choice(codes, size=mask.sum(), p=p / p.sum())
    return out


def _size_attributes(size: np.ndarray, division: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Employees and annual revenue (10k yuan, the frame's reference year) inside each size class's bands."""
    bounds = {"large": (1000, 12000), "medium": (300, 999), "small": (20, 299), "micro": (5, 19)}
    employees = np.empty(len(size), dtype=np.int64)
    for code, (lo, hi) in bounds.items():
        mask = size == code
        employees[mask] = np.exp(rng.uniform(np.log(lo), np.log(hi), mask.sum())).astype(np.int64)
    # Revenue: log-uniform inside the class's band; large firms lognormal with a heavy tail (the car makers
    # and the refinery run to hundreds of yi yuan).  Both criteria of the size class hold.
    bands = {"large": (40000.0, 8_000_000.0), "medium": (5000.0, 39999.0), "small": (300.0, 1999.0),
             "micro": (30.0, 299.0)}
    revenue = np.empty(len(size))
    for code, (low, high) in bands.items():
        mask = size == code
        if code == "large":
            scale = np.array([LARGE_SCALE.get(d, 1.0) for d in division[mask]])
            revenue[mask] = np.clip(LARGE_MEDIAN * scale * np.exp(rng.normal(0, 0.8, mask.sum())), low, high)
        else:
            revenue[mask] = np.exp(rng.uniform(np.log(low), np.log(high), mask.sum()))
    return employees, np.round(revenue, 1)


def _names(n: int, division: np.ndarray, rng: np.random.Generator) -> list[str]:
    a = rng.integers(0, len(_NAME_STEMS), n)
    b = rng.integers(0, len(_NAME_STEMS), n)
    return [f"广州{_NAME_STEMS[i]}{_NAME_STEMS[j]}{_NAME_SUFFIX[d]}有限公司" for i, j, d in zip(a, b, division)]


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余叶程魏苏吕丁卢钟谭陆廖"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建文辉玲红志峰波宁斌健俊飞浩凯婷雪琳燕晨欣嘉宇锦荣"
_MOBILE = ("135", "136", "137", "138", "139", "150", "158", "159", "186", "188", "189", "133", "177")


def _contacts(uscc: pd.Series) -> tuple[list[str], list[str]]:
    """Fake contact persons (a Chinese name) and mobile numbers, one per enterprise.

    Drawn from their own generator seeded by the panel's credit codes (themselves drawn from the panel's
    generator), so they are reproducible and the main generator's stream, hence the rest of the demo, is
    unchanged.
    """
    rng = np.random.default_rng(zlib.crc32("".join(uscc).encode("ascii")))
    n = len(uscc)
    sur = rng.integers(0, len(_SURNAMES), n)
    g1 = rng.integers(0, len(_GIVEN), n)
    g2 = rng.integers(0, len(_GIVEN), n)
    two = rng.random(n) < 0.7
    prefix = rng.integers(0, len(_MOBILE), n)
    digits = rng.integers(0, 100_000_000, n)
    names = [_SURNAMES[s] + _GIVEN[a] + (_GIVEN[b] if t else "") for s, a, b, t in zip(sur, g1, g2, two)]
    phones = [f"{_MOBILE[p]}{d:08d}" for p, d in zip(prefix, digits)]
    return names, phones


def _credit_codes(district: np.ndarray, rng: np.random.Generator) -> list[str]:
    codes: list[str] = []
    seen: set[str] = set()
    alphabet = np.array(list(ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY"))
    for d in district:
        while True:
            body = "".join(rng.choice(alphabet[:10], 2)) + "".join(rng.choice(alphabet, 6))
            code = make_uscc(d, body)
            if code not in seen:
                seen.add(code)
                codes.append(code)
                break
    return codes


def inclusion_probabilities(size: np.ndarray, n: int) -> np.ndarray:
    """PPS inclusion probabilities ``min(1, n x_i / X)`` of ``n`` draws, certainty units taken out iteratively."""
    pi = np.zeros(len(size))
    if n <= 0 or not len(size):
        return pi
    n = min(n, len(size))
    certain = np.zeros(len(size), dtype=bool)
    while True:
        rest = ~certain
        left = n - int(certain.sum())
        pi[certain] = 1.0
        pi[rest] = left * size[rest] / size[rest].sum() if left > 0 else 0.0
        more = rest & (pi >= 1.0)
        if not more.any():
            return np.clip(pi, 0.0, 1.0)
        certain |= more


def _allocation(va: pd.Series, firms: pd.Series, n: int) -> pd.Series:
    """Sample slots per stratum proportional to value added (largest remainder, at least one per stratum,
    at most the stratum's firms; what a small stratum cannot take goes to the others by value added)."""
    slots = pd.Series(0, index=va.index)
    free = pd.Series(True, index=va.index)
    n = min(n, int(firms.sum()))
    while True:
        left = n - int(slots[~free].sum())
        share = left * va[free] / va[free].sum()
        base = np.maximum(np.floor(share).astype(int), 1)
        extra = left - int(base.sum())
        if extra > 0:
            base[(share - np.floor(share)).sort_values(ascending=False).index[:extra]] += 1
        while base.sum() > left:  # the minimum of one pushed the total over: take from the largest strata
            base[base.idxmax()] -= 1
        slots[free] = base
        full = free & (slots >= firms)
        if not full.any():
            return slots
        slots[full] = firms[full]
        free &= ~full


def build_panel(
    months: pd.PeriodIndex,
    n_active: int,
    rng: np.random.Generator,
    *,
    rotation: float = 0.08,
    closure: float = 0.0006,
) -> Panel:
    """Draw the frame and the panel: ``n_active`` firms in every month, PPS within divisions, rotating.

    Parameters
    ----------
    months
        The panel's months.
    n_active
        Enterprises active in each month.
    rng
        Random generator.
    rotation
        Share of each firm's chances shifted each January (about that share of the sample rotates).
    closure
        Monthly probability that a frame firm closes (it is replaced the same month).
    """
    cells, p = _cell_probabilities()
    T = len(months)
    N = int(round(FRAME_RATIO * n_active))
    cell = rng.choice(len(cells), size=N, p=p)
    district = np.array([cells[c][0] for c in cell])
    division = np.array([cells[c][1] for c in cell])
    size = _size_classes(division, rng)
    employees, revenue = _size_attributes(size, division, rng)
    va_rate = np.array([VA_RATE.get(d, DEFAULT_VA_RATE) for d in division])
    frame = pd.DataFrame({"district_code": district, "industry_code": division, "size_class": size,
                          "revenue": revenue, "va": revenue * va_rate})
    strata = frame.groupby("industry_code")
    slots = _allocation(strata["va"].sum(), strata.size(), n_active)
    pi = np.zeros(N)
    for code, rows in strata.indices.items():
        pi[rows] = inclusion_probabilities(revenue[rows], int(slots[code]))
    # What the count formula estimates: each firm weighted by its inclusion probability (its expected count
    # in the sample), i.e. by revenue within the stratum up to the certainty threshold, strata by value added.
    population = (frame.assign(weight=pi / pi.sum())
                  .groupby(["district_code", "industry_code", "size_class"], as_index=False)["weight"].sum())

    prn = rng.random(N)
    closed_at = np.where(rng.random((N, T)) < closure, np.arange(T)[None, :], T).min(axis=1)
    closed_at[closed_at == 0] = T  # nobody closes before the panel starts
    retired = np.zeros(N, dtype=bool)
    active = np.zeros((N, T), dtype=bool)
    year0 = months[0].year
    rows_of = {code: rows for code, rows in strata.indices.items()}
    key = np.empty(N)
    for t in range(T):
        if t == 0 or months[t].month == 1:
            shift = np.mod(prn + rotation * pi * (months[t].year - year0), 1.0)
            key = np.where(pi >= 1.0, -1.0, shift / np.maximum(pi, 1e-12))
        for code, rows in rows_of.items():
            ok = rows[(closed_at[rows] > t) & ~retired[rows]]
            chosen = ok[np.argsort(key[ok], kind="stable")[: int(slots[code])]]
            active[chosen, t] = True
        if t:
            left = active[:, t - 1] & ~active[:, t]
            retired |= left
    ever = np.flatnonzero(active.any(axis=1))
    first = active[ever].argmax(axis=1)
    last = T - 1 - active[ever][:, ::-1].argmax(axis=1)
    order = np.lexsort((ever, first))
    ever, first, last = ever[order], first[order], last[order]
    F = len(ever)
    out = pd.DataFrame({
        "id": np.arange(1, F + 1),
        "uscc": _credit_codes(district[ever], rng),
        "name_zh": _names(F, division[ever], rng),
        "district_code": district[ever],
        "industry_code": division[ever],
        "size_class": size[ever],
        "employees": employees[ever],
        "revenue": revenue[ever],
        "prn": prn[ever].round(6),
        "panel_group": rng.integers(1, 6, F),
        "start_idx": first,
        "end_idx": last,
        "slot": ever,
    })
    out["panel_start"] = [str(months[i]) for i in out["start_idx"]]
    out["panel_end"] = [None if e == T - 1 else str(months[e]) for e in out["end_idx"]]
    out["sample_weight"] = np.round(1.0 / pi[ever], 3)
    out["contact_name"], out["contact_phone"] = _contacts(out["uscc"])
    return Panel(out, months, active[ever], population)
