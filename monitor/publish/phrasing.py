"""Sentences of the publications, generated from numbers: rises, falls, no change, crossings of 50.

Every function here is pure: it takes numbers (already read from the store) and returns text in
Chinese (``zh``, the default) or English (``en``).  Numbers are rounded half-up to the published
precision *before* the direction is decided, so the words always agree with the figures printed
beside them: 50.04 and 49.96 both print as 50.0 and read "no change", never "rose 0.0 points".

Wording follows the NBS monthly release (METHODOLOGY 5.1): "制造业采购经理指数(PMI)为50.6%，比上月上升0.3个
百分点，高于临界点"; "与上月持平"; a crossing of the 50 line reads "升至临界点以上" / "降至临界点以下".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = [
    "Lang",
    "as_lang",
    "THRESHOLD",
    "round_half_up",
    "fmt",
    "fmt_signed",
    "direction",
    "change_phrase",
    "threshold_phrase",
    "index_sentence_tail",
    "ComponentWords",
    "COMPONENT_WORDS",
    "component_sentence",
    "interpretation",
    "growth_phrase",
    "growth_change_phrase",
    "updown_count",
    "NOT_AVAILABLE",
    "significant",
    "se_of_change",
]

Lang = Literal["zh", "en"]


def as_lang(value: str) -> Lang:
    """``value`` as a publication language; ValueError unless it is ``zh`` or ``en``."""
    if value == "zh":
        return "zh"
    if value == "en":
        return "en"
    raise ValueError(f"a publication language is zh or en; got {value!r}")
Direction = Literal["up", "down", "flat"]

#: The 50 line of a diffusion index (临界点).
THRESHOLD = 50.0

NOT_AVAILABLE = {"zh": "暂无数据", "en": "not available"}


def round_half_up(value: float, digits: int = 1) -> float:
    """Round ``value`` half away from zero at ``digits`` decimals (as statistical offices publish).

    The decimal text of the float (``repr``) is rounded, so 50.25 gives 50.3 (binary rounding gives 50.2).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def fmt(value: float | None, digits: int = 1) -> str:
    """The value as printed: rounded half-up to ``digits`` decimals, ``-0.0`` shown as ``0.0``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    r = round_half_up(value, digits)
    if r == 0:
        r = 0.0
    return f"{r:.{digits}f}"


def fmt_signed(value: float | None, digits: int = 1) -> str:
    """The value with an explicit sign (``+0.3``, ``-1.2``, ``0.0``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = fmt(value, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def direction(current: float, previous: float, digits: int = 1) -> tuple[Direction, float]:
    """Direction and size of the change between two values as published (rounded first).

    Returns
    -------
    tuple
        ``("up" | "down" | "flat", absolute change)`` where the change is the difference of the
        rounded values, itself rounded (so it is the number the reader can check by subtraction).
    """
    diff = round_half_up(round_half_up(current, digits) - round_half_up(previous, digits), digits)
    if diff > 0:
        return "up", diff
    if diff < 0:
        return "down", -diff
    return "flat", 0.0


def change_phrase(current: float, previous: float | None, lang: Lang = "zh", *, unit: str = "pp",
                  digits: int = 1) -> str:
    """"比上月上升0.3个百分点" / "与上月持平" / "up 0.3 points from the previous month".

    ``unit`` is ``pp`` (percentage points, for indices and growth rates) or ``%`` (relative change).
    An empty string when there is no previous value.
    """
    if previous is None or (isinstance(previous, float) and math.isnan(previous)):
        return ""
    d, size = direction(current, previous, digits)
    amount = fmt(size, digits)
    if lang == "zh":
        if d == "flat":
            return "与上月持平"
        word = "上升" if d == "up" else "下降"
        return f"比上月{word}{amount}{'个百分点' if unit == 'pp' else '%'}"
    if d == "flat":
        return "unchanged from the previous month"
    word = "up" if d == "up" else "down"
    plural = "point" if amount == "1.0" else "points"
    return f"{word} {amount} {plural if unit == 'pp' else '%'} from the previous month"


def se_of_change(se_now: float | None, se_before: float | None) -> float | None:
    """Standard error of a month-on-month change, ``sqrt(se_now**2 + se_before**2)`` (the two months' sampling
    errors taken as independent, which overstates it for a matched panel: the cautious side); None without both."""
    if se_now is None or se_before is None or math.isnan(se_now) or math.isnan(se_before):
        return None
    return math.sqrt(se_now ** 2 + se_before ** 2)


def significant(current: float, previous: float | None, se_change: float | None, digits: int = 1) -> bool:
    """True unless the printed change is smaller than its standard error ``se_change`` (no SE: significant)."""
    if se_change is None or previous is None or (isinstance(previous, float) and math.isnan(previous)):
        return True
    return abs(round_half_up(round_half_up(current, digits) - round_half_up(previous, digits), digits)) >= se_change


def _side(value: float, digits: int = 1) -> int:
    r = round_half_up(value, digits)
    return 1 if r > THRESHOLD else -1 if r < THRESHOLD else 0


def threshold_phrase(current: float, previous: float | None, lang: Lang = "zh", digits: int = 1) -> str:
    """Where a diffusion index stands against 50, and whether it crossed it this month.

    ``高于临界点`` / ``低于临界点`` / ``位于临界点``; ``升至临界点以上`` / ``降至临界点以下`` when it crossed
    from the other side (or from 50); ``仍高于临界点`` when it fell but stayed above, ``仍低于临界点`` when
    it rose but stayed below (the NBS wording).
    """
    now = _side(current, digits)
    before = None if previous is None or (isinstance(previous, float) and math.isnan(previous)) \
        else _side(previous, digits)
    zh = lang == "zh"
    if now == 0:
        return "位于临界点" if zh else "at the 50 mark"
    if before is not None and before != now:
        if now > 0:
            return "升至临界点以上" if zh else "rising above the 50 mark"
        return "降至临界点以下" if zh else "falling below the 50 mark"
    d = direction(current, previous, digits)[0] if previous is not None and before is not None else "flat"
    if now > 0:
        if d == "down":
            return "仍高于临界点" if zh else "still above the 50 mark"
        return "高于临界点" if zh else "above the 50 mark"
    if d == "up":
        return "仍低于临界点" if zh else "still below the 50 mark"
    return "低于临界点" if zh else "below the 50 mark"


def index_sentence_tail(current: float, previous: float | None, lang: Lang = "zh",
                        se_change: float | None = None) -> str:
    """"为50.6%，比上月上升0.3个百分点，高于临界点" (without the subject); with ``se_change``, a change smaller
    than its standard error adds "变化在抽样误差范围内，与上月基本持平" / "within the sampling error (not
    significant)" (catalogue :mod:`.texts`)."""
    from .texts import text

    parts = [f"为{fmt(current)}%" if lang == "zh" else f"was {fmt(current)}"]
    change = change_phrase(current, previous, lang)
    quiet = False
    if change:
        parts.append(change)
        quiet = (previous is not None and not significant(current, previous, se_change)
                 and direction(current, previous)[0] != "flat")
        if quiet:
            parts.append(text(lang, "not_significant"))
    # a change within the sampling error moves nothing across 50: only where the index stands is said
    parts.append(threshold_phrase(current, None if quiet else previous, lang))
    return ("，" if lang == "zh" else ", ").join(parts)


@dataclass(frozen=True)
class ComponentWords:
    """Interpretive words of one index: "表明<subject><more|less>..."."""

    subject_zh: str
    more_zh: str
    less_zh: str
    subject_en: str
    more_en: str
    less_en: str


#: The fixed interpretive wording of the release, per index (METHODOLOGY 5.1).
COMPONENT_WORDS: dict[str, ComponentWords] = {
    "headline": ComponentWords("制造业", "扩张", "收缩", "manufacturing", "expanded", "contracted"),
    "production": ComponentWords("制造业生产", "扩张", "收缩", "production", "expanded", "contracted"),
    "new_orders": ComponentWords("制造业市场需求", "扩张", "收缩", "demand", "expanded", "contracted"),
    "new_export_orders": ComponentWords("制造业出口订单", "增加", "减少", "export orders", "increased", "decreased"),
    "backlog_orders": ComponentWords("制造业在手订单", "增加", "减少", "backlogs", "increased", "decreased"),
    "finished_goods_inventory": ComponentWords("制造业产成品库存", "增加", "减少", "finished-goods stocks",
                                               "increased", "decreased"),
    "purchase_quantity": ComponentWords("制造业采购量", "增加", "减少", "purchases", "increased", "decreased"),
    "imports": ComponentWords("制造业进口", "增加", "减少", "imports", "increased", "decreased"),
    "input_prices": ComponentWords("制造业主要原材料购进价格", "上涨", "下降", "input prices", "rose", "fell"),
    "output_prices": ComponentWords("制造业产品出厂价格", "上涨", "下降", "output prices", "rose", "fell"),
    "raw_materials_inventory": ComponentWords("制造业主要原材料库存量", "增加", "减少", "stocks of inputs",
                                              "increased", "decreased"),
    "employment": ComponentWords("制造业企业用工量", "增加", "减少", "employment", "increased", "decreased"),
    "supplier_delivery_time": ComponentWords("制造业原材料供应商交货时间", "加快", "放慢",
                                             "suppliers' delivery times", "quickened", "lengthened"),
    "expectations": ComponentWords("企业对近期市场发展", "信心增强", "信心减弱", "business confidence",
                                   "improved", "weakened"),
}


def interpretation(code: str, current: float, previous: float | None, lang: Lang,
                   se_change: float | None = None) -> str:
    """"表明制造业扩张加快" from the level and the change (a change within its standard error reads as none)."""
    w = COMPONENT_WORDS[code]
    if not significant(current, previous, se_change):
        previous = None  # a change within its standard error: say where it stands, not how it moved
    now = _side(current)
    before = None if previous is None or (isinstance(previous, float) and math.isnan(previous)) \
        else _side(previous)
    d = direction(current, previous)[0] if previous is not None and before is not None else "flat"
    if lang == "zh":
        if now == 0:
            return f"表明{w.subject_zh}总体稳定"
        if before is not None and before != now and before != 0:
            return f"表明{w.subject_zh}由{w.less_zh if now > 0 else w.more_zh}转为{w.more_zh if now > 0 else w.less_zh}"
        word = w.more_zh if now > 0 else w.less_zh
        if before in (None, 0) or d == "flat":
            return f"表明{w.subject_zh}{word}" if before != now else f"表明{w.subject_zh}继续{word}"
        # above: rising = faster expansion; below: rising = milder contraction
        faster = (d == "up") == (now > 0)
        return f"表明{w.subject_zh}{word}{'加快' if faster else '放缓'}" if now > 0 else \
            f"表明{w.subject_zh}{word}幅度{'扩大' if faster else '收窄'}"
    if now == 0:
        return f"indicating that {w.subject_en} held steady"
    word = w.more_en if now > 0 else w.less_en
    if before is not None and before != now and before != 0:
        return f"indicating that {w.subject_en} {word} after the previous month's opposite move"
    if before in (None, 0) or d == "flat":
        return f"indicating that {w.subject_en} {word}"
    faster = (d == "up") == (now > 0)
    return f"indicating that {w.subject_en} {word} {'faster' if faster else 'more slowly'}"


def component_sentence(code: str, name: str, current: float, previous: float | None, lang: Lang = "zh",
                       se_change: float | None = None) -> str:
    """One sentence of the release for an index: "生产指数为52.6%，比上月上升0.1个百分点，高于临界点，表明…。"

    ``code`` selects the interpretive words (:data:`COMPONENT_WORDS`); ``name`` is the printed name
    (``生产指数``).
    """
    tail = index_sentence_tail(current, previous, lang, se_change)
    if lang == "zh":
        return f"{name}{tail}，{interpretation(code, current, previous, lang, se_change)}。"
    return f"The {name} index {tail}, {interpretation(code, current, previous, lang, se_change)}."


def growth_phrase(value: float, lang: Lang = "zh", *, what_zh: str = "同比", what_en: str = "year on year") -> str:
    """"同比增长5.2%" / "同比下降1.0%" / "与上年同期持平" (a growth rate in percent)."""
    r = round_half_up(value)
    if lang == "zh":
        if r > 0:
            return f"{what_zh}增长{fmt(r)}%"
        if r < 0:
            return f"{what_zh}下降{fmt(-r)}%"
        return "与上年同期持平"
    if r > 0:
        return f"up {fmt(r)}% {what_en}"
    if r < 0:
        return f"down {fmt(-r)}% {what_en}"
    return f"unchanged {what_en}"


def growth_change_phrase(current: float, previous: float | None, lang: Lang = "zh", *,
                         against_zh: str = "上月", against_en: str = "the previous month") -> str:
    """How a growth rate moved: "增速比上月加快0.3个百分点" / "回落" / "与上月持平"; "" without a previous."""
    if previous is None or (isinstance(previous, float) and math.isnan(previous)):
        return ""
    d, size = direction(current, previous)
    if lang == "zh":
        if d == "flat":
            return f"增速与{against_zh}持平"
        return f"增速比{against_zh}{'加快' if d == 'up' else '回落'}{fmt(size)}个百分点"
    if d == "flat":
        return f"growth unchanged from {against_en}"
    return f"growth {'up' if d == 'up' else 'down'} {fmt(size)} points from {against_en}"


def updown_count(values: list[float], lang: Lang = "zh") -> str:
    """"7正4负" for the districts' growth rates (zero, as printed, counts as neither: "6正4负1平")."""
    up = sum(1 for v in values if round_half_up(v) > 0)
    down = sum(1 for v in values if round_half_up(v) < 0)
    flat = len(values) - up - down
    if lang == "zh":
        return f"{up}正{down}负" + (f"{flat}平" if flat else "")
    return f"{up} up, {down} down" + (f", {flat} flat" if flat else "")
