"""Small helpers shared by the publication builders: period labels, names, options."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import reference as ref
from .charts import ChartFont
from .phrasing import Lang

__all__ = ["BuildOptions", "month_label", "month_short", "months_back", "question_name", "district_name",
           "size_name", "sector_name", "industry_name", "isnan", "KINDS"]

#: Publication kinds and their period form.
KINDS: dict[str, str] = {"pmi": "month", "operations": "month", "dispatch": "quarter", "annual": "year"}


@dataclass(frozen=True)
class BuildOptions:
    """What a builder needs besides the data: language, fonts, names, thresholds."""

    lang: Lang
    font: ChartFont
    issuer: str
    city: str
    min_respondents: int
    release_line: str


def isnan(value: float | None) -> bool:
    """True for None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def month_label(p: pd.Period, lang: str) -> str:
    """``2026年10月`` / ``October 2026``."""
    return f"{p.year}年{p.month}月" if lang == "zh" else p.strftime("%B %Y")


def month_short(p: pd.Period, lang: str) -> str:
    """``10月份`` / ``In October``."""
    return f"{p.month}月份" if lang == "zh" else f"In {p.strftime('%B')}"


def months_back(p: pd.Period, n: int) -> list[str]:
    """The ``n`` months ending at ``p``, oldest first, as ``YYYY-MM`` text."""
    return [str(q) for q in pd.period_range(p - (n - 1), p, freq="M")]


_Q = {q.code: q for q in ref.QUESTIONS}
_D = {d.code: d for d in ref.DISTRICTS}
_S = {s.code: s for s in ref.SIZE_CLASSES}
_K = {k.code: k for k in ref.KEY_SECTORS}
_I = {i.code: i for i in ref.INDUSTRIES}


def question_name(code: str, lang: str, *, index: bool = True) -> str:
    """``生产指数`` / ``Production``; ``headline`` is the PMI itself."""
    if code == "headline":
        return "制造业PMI" if lang == "zh" else "PMI"
    q = _Q[code]
    if lang == "zh":
        return q.name_zh + ("指数" if index else "")
    return q.name_en


def district_name(code: str, lang: str) -> str:
    """District name (the code when unknown)."""
    d = _D.get(code)
    return code if d is None else d.name_zh if lang == "zh" else d.name_en


def size_name(code: str, lang: str) -> str:
    """``大型企业`` / ``Large``."""
    s = _S.get(code)
    return code if s is None else (s.name_zh + "企业") if lang == "zh" else s.name_en


def sector_name(code: str, lang: str) -> str:
    """Key-sector name."""
    k = _K.get(code)
    return code if k is None else k.name_zh if lang == "zh" else k.name_en


def industry_name(code: str, lang: str) -> str:
    """Manufacturing-division name."""
    i = _I.get(code)
    return code if i is None else i.name_zh if lang == "zh" else i.name_en
