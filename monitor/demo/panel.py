"""The demo's sample panel: enterprises, their cells and weights, and rotation.

Proportions follow the shape of Guangzhou's manufacturing: Huangpu (with the
former Luogang), Panyu, Huadu, Nansha, Zengcheng and Baiyun hold most plants;
the old central districts few.  Autos and electronics have many large firms;
most sample firms are small.  Sample weights are post-stratified to a frame of
division x size cells (METHODOLOGY 7.2): ``weight = frame firms / sample firms``.

Rotation: every January about ``rotation`` of the active firms leave (chosen by
their permanent random number, oldest rotation group first) and a replacement
from the same district x division x size cell joins; in any month a firm may
also close (hazard ``closure``) and is replaced the next month.
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
#: Sample size mix by size class, and a division-specific tilt towards large firms.
SIZE_MIX = {"large": 0.10, "medium": 0.27, "small": 0.53, "micro": 0.10}
LARGE_TILT = {"36": 3.0, "39": 2.2, "25": 3.0, "26": 1.3, "27": 1.5, "37": 2.0, "16": 4.0, "38": 1.3}
#: Frame firms per sample firm, by size class (the frame is dominated by small firms).
EXPANSION = {"large": 1.4, "medium": 3.5, "small": 14.0, "micro": 45.0}
#: Revenue per employee (10k yuan per year) by division, roughly.
PRODUCTIVITY = {"25": 900.0, "36": 420.0, "39": 260.0, "26": 300.0, "31": 500.0, "32": 450.0, "16": 1500.0}

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
    """

    enterprises: pd.DataFrame
    months: pd.PeriodIndex
    active: np.ndarray


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
    bounds = {"large": (1000, 12000), "medium": (300, 999), "small": (20, 299), "micro": (5, 19)}
    employees = np.empty(len(size), dtype=np.int64)
    for code, (lo, hi) in bounds.items():
        mask = size == code
        employees[mask] = np.exp(rng.uniform(np.log(lo), np.log(hi), mask.sum())).astype(np.int64)
    prod = np.array([PRODUCTIVITY.get(d, 180.0) for d in division]) * np.exp(rng.normal(0, 0.35, len(size)))
    revenue = employees * prod
    # Both criteria must hold: a revenue outside the class's band is redrawn inside it.
    bands = {"large": (40000.0, 2_000_000.0), "medium": (2000.0, 39999.0), "small": (300.0, 1999.0),
             "micro": (30.0, 299.0)}
    for code, (lo, hi) in bands.items():
        bad = (size == code) & ((revenue < lo) | (revenue > hi))
        revenue[bad] = np.exp(rng.uniform(np.log(lo), np.log(hi), bad.sum()))
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


def build_panel(
    months: pd.PeriodIndex,
    n_active: int,
    rng: np.random.Generator,
    *,
    rotation: float = 0.08,
    closure: float = 0.0006,
) -> Panel:
    """Draw the panel: ``n_active`` firms in every month, rotating over ``months``.

    Parameters
    ----------
    months
        The panel's months.
    n_active
        Enterprises active in each month.
    rng
        Random generator.
    rotation
        Share of active firms replaced each January.
    closure
        Monthly probability that a firm closes (replaced the next month).
    """
    cells, p = _cell_probabilities()
    T = len(months)
    # Slots: each slot holds one firm at a time; a firm leaving is replaced in its slot from the same cell.
    slot_cell = rng.choice(len(cells), size=n_active, p=p)
    slot_district = np.array([cells[c][0] for c in slot_cell])
    slot_division = np.array([cells[c][1] for c in slot_cell])
    slot_size = _size_classes(slot_division, rng)
    firms: list[tuple[int, int, int]] = []  # (slot, start, end)
    start = np.zeros(n_active, dtype=np.int64)
    for t in range(1, T):
        leave = rng.random(n_active) < closure
        if months[t].month == 1:
            leave |= rng.random(n_active) < rotation
        leave &= start < t  # a replacement stays at least one month
        for slot in np.flatnonzero(leave):
            firms.append((int(slot), int(start[slot]), t - 1))
            start[slot] = t + 1 if rng.random() < 0.3 and t + 1 < T else t  # some replacements arrive a month late
    for slot in range(n_active):
        if start[slot] < T:
            firms.append((slot, int(start[slot]), T - 1))
    firms.sort(key=lambda f: (f[1], f[0]))
    slots = np.array([f[0] for f in firms])
    F = len(firms)
    district = slot_district[slots]
    division = slot_division[slots]
    size = slot_size[slots]
    employees, revenue = _size_attributes(size, division, rng)
    frame = pd.DataFrame({
        "id": np.arange(1, F + 1),
        "uscc": _credit_codes(district, rng),
        "name_zh": _names(F, division, rng),
        "district_code": district,
        "industry_code": division,
        "size_class": size,
        "employees": employees,
        "revenue": revenue,
        "prn": rng.random(F).round(6),
        "panel_group": rng.integers(1, 6, F),
        "start_idx": [f[1] for f in firms],
        "end_idx": [f[2] for f in firms],
        "slot": slots,
    })
    frame["panel_start"] = [str(months[i]) for i in frame["start_idx"]]
    frame["panel_end"] = [None if e == T - 1 else str(months[e]) for e in frame["end_idx"]]
    # Post-stratified weights: frame firms in the division x size cell / sample firms in it.
    cell_noise = {k: float(np.exp(rng.normal(0, 0.25))) for k in
                  frame.groupby(["industry_code", "size_class"]).groups}
    frame["sample_weight"] = [
        round(EXPANSION[s] * cell_noise[(i, s)], 3) for i, s in zip(frame["industry_code"], frame["size_class"])
    ]
    frame["contact_name"], frame["contact_phone"] = _contacts(frame["uscc"])
    active = np.zeros((F, T), dtype=bool)
    for row, (s, e) in enumerate(zip(frame["start_idx"], frame["end_idx"])):
        active[row, s : e + 1] = True
    return Panel(frame, months, active)
