"""The outlook parts of the operation report (issue 15): forecasts with their track record, the key series of
the districts and key sectors, and the composite leading indicator with its latest turning point.

Every number comes from the store through :class:`~monitor.publish.sources.Inputs` (recorded, replayed on a
re-render): the ``forecast`` rows of the origin, the ``forecast_skill`` rows as of the origin ("how good our
forecasts have been": MASE against seasonal naive and the share of outcomes inside the 80 % interval, at the
same horizon), and the ``cli/...`` series.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..reference import CITY_CODE, DISTRICTS, KEY_SECTORS
from . import phrasing as ph
from .common import district_name, question_name
from .document import Cell, Para, Table, num_cell, text_cell
from .sources import Inputs

__all__ = ["series_label", "forecast_tables", "leading_paragraph", "is_city_key"]

_SECTORS = {k.code: k for k in KEY_SECTORS}
_DISTRICT_CODES = {d.code for d in DISTRICTS}
_OFFICIAL = {"iva/yoy": ("规上工业增加值增速", "Value added growth"),
             "iva/ytd_yoy": ("规上工业增加值累计增速", "Value added growth, ytd"),
             "output/ytd_yoy": ("规上工业总产值累计增速", "Gross output growth, ytd"),
             "investment/industrial/ytd_yoy": ("工业投资累计增速", "Industrial investment growth, ytd"),
             "investment/tech_transformation/ytd_yoy": ("技术改造投资累计增速", "Tech-transformation investment, ytd")}


def series_label(key: str, lang: str) -> str:
    """A readable name of a forecast key: ``pmi/headline/district/440103`` -> ``荔湾区 制造业PMI``."""
    zh = lang == "zh"
    if "@" in key:
        name, region = key.rsplit("@", 1)
        label = _OFFICIAL.get(name, (name, name))[0 if zh else 1]
        return label if region == CITY_CODE else f"{district_name(region, lang)} {label}"
    parts = key.split("/")
    prefix = ""
    if "district" in parts:
        i = parts.index("district")
        prefix = district_name(parts[i + 1], lang) + " " if i + 1 < len(parts) else ""
        parts = parts[:i]
    elif "key_sector" in parts:
        i = parts.index("key_sector")
        sector = _SECTORS.get(parts[i + 1]) if i + 1 < len(parts) else None
        prefix = (sector.name_zh if zh else sector.name_en) + " " if sector else ""
        parts = parts[:i]
    if parts[0] == "pmi" and len(parts) >= 2:
        base = question_name(parts[1], lang) if parts[1] != "headline" else "PMI"
    elif parts[0] == "electricity" and len(parts) >= 2:
        base = ("工业用电量" if zh else "Electricity") if parts[1] == "total" else ("用电量增速" if zh else
                                                                                "Electricity growth")
    elif parts[0] == "iva":
        base = "规上工业增加值增速" if zh else "Industrial value added growth"
    else:
        base = "/".join(parts)
    return prefix + base


def is_city_key(key: str) -> bool:
    """A city-level forecast key (no district, no key sector, official keys of the city)."""
    if "@" in key:
        return key.rsplit("@", 1)[1] == CITY_CODE
    return "/district/" not in key and "/key_sector/" not in key and "/industry/" not in key


def _scale(key: str) -> tuple[float, int]:
    return (1e8, 2) if key.startswith("electricity/total") else (1.0, 1)


def _skill(inputs: Inputs, p: str) -> dict[tuple[str, int], dict[str, Any]]:
    from ..store.forecast_queries import skill_at

    rows = inputs.call("forecast_skill", skill_at, o=p)
    return {(r["series_key"], int(r["horizon"])): r for r in rows}


def _skill_cells(skill: dict[tuple[str, int], dict[str, Any]], key: str, horizon: int, p: str) -> list[Cell]:
    s = skill.get((key, horizon))
    if not s or not s.get("n"):
        return [text_cell("—"), text_cell("—")]
    cover = None if s.get("coverage_80") is None else 100 * float(s["coverage_80"])
    return [num_cell(s.get("mase"), src="forecast_skill", key=key, period=p, col=f"mase/h{horizon}", digits=2),
            num_cell(cover, src="forecast_skill", key=key, period=p, col=f"coverage_80/h{horizon}", digits=0)]


def forecast_tables(inputs: Inputs, p: str, lang: str, rows: list[dict[str, Any]]) -> list[Table]:
    """The city's forecasts (first three months) and the districts' and key sectors' next forecast, each with
    the track record of its horizon."""
    zh = lang == "zh"
    skill = _skill(inputs, p)
    origin = pd.Period(p, "M")
    header_skill = ["以往MASE", "以往80%区间命中率(%)"] if zh else ["Past MASE", "Past in 80% (%)"]
    city, regional = [], []
    first: dict[str, dict[str, Any]] = {}
    count: dict[str, int] = {}
    for r in rows:
        key = r["series_key"]
        count[key] = count.get(key, 0) + 1
        if key not in first:
            first[key] = r
        horizon = (pd.Period(r["period"], "M") - origin).n
        if is_city_key(key) and count[key] <= 3:
            scale, digits = _scale(key)
            city.append([text_cell(series_label(key, lang)), text_cell(r["period"])] +
                        [num_cell(None if r[c] is None else r[c] / scale, src="forecast", key=key, period=r["period"],
                                  col=c if scale == 1.0 else c + "/1e8", digits=digits)
                         for c in ("mean", "lower_80", "upper_80")] + _skill_cells(skill, key, horizon, p))
    for key, r in first.items():
        if is_city_key(key):
            continue
        scale, digits = _scale(key)
        horizon = (pd.Period(r["period"], "M") - origin).n
        regional.append([text_cell(series_label(key, lang)), text_cell(r["period"])] +
                        [num_cell(None if r[c] is None else r[c] / scale, src="forecast", key=key, period=r["period"],
                                  col=c if scale == 1.0 else c + "/1e8", digits=digits)
                         for c in ("mean", "lower_80", "upper_80")] + _skill_cells(skill, key, horizon, p))
    head = (["指标", "月份", "预测值", "80%下限", "80%上限"] if zh else ["Series", "Month", "Forecast", "80% low",
                                                                 "80% high"]) + header_skill
    note = ("注：用电量单位为亿千瓦时；预测为多模型组合，区间为80%预测区间。“以往MASE”为过去各期同一预测步长的平均绝对误差"
            "除以季节性朴素预测的误差尺度（小于1即优于“与去年同月持平”），“命中率”为实际值落入80%区间的比例；"
            "统计局数据按发布日历仅用到上月。" if zh else
            "Electricity in 100 million kWh; forecasts combine several models; 80% forecast intervals. Past MASE: "
            "mean absolute error of the past forecasts at the same horizon over the seasonal-naive scale (below 1 "
            "beats 'same as a year ago'); past in 80%: share of outcomes inside the 80% interval. Official "
            "statistics are used as published by the month before (release calendar).")
    tables = []
    if city:
        tables.append(Table("表 未来数月预测及以往准确度" if zh else "Table Forecasts and their track record", head, city,
                            note=note))
    if regional:
        tables.append(Table("表 分区及重点行业下月预测" if zh else "Table Next forecast by district and key sector",
                            head, regional))
    return tables


def leading_paragraph(inputs: Inputs, p: str, lang: str) -> Para | None:
    """The composite leading indicator of the city: value, lead, latest turning point and phase (None if absent)."""
    from ..leading import leading_signal

    zh = lang == "zh"
    cli = inputs.series("cli/city")
    if cli.empty:
        return None
    values = cli["raw"].dropna()
    values = values[values.index <= pd.Period(p, "M")]
    if values.empty or str(values.index[-1]) != p:
        return None
    lead = inputs.value("cli/lead/city", p, "raw")
    signal = leading_signal(values)
    phase = {"expansion": ("扩张", "expansion"), "downturn": ("高位回落", "downturn"),
             "slowdown": ("放缓", "slowdown"), "recovery": ("复苏", "recovery")}.get(str(signal["phase"]), ("", ""))
    v = float(values.iloc[-1])
    if zh:
        text = f"综合先行指数（OECD方法）为{ph.fmt(v)}（100为趋势水平）"
        if lead == lead:
            text += f"，领先规上工业增加值增速约{lead:.0f}个月"
        if signal["kind"]:
            kind = "峰值" if signal["kind"] == "peak" else "谷值"
            text += f"；最近一次拐点为{signal['period']}的{kind}（{signal['months_ago']}个月前）"
        if phase[0]:
            text += f"，目前处于{phase[0]}阶段"
        text += "。"
    else:
        text = f"The composite leading indicator (OECD method) stands at {ph.fmt(v)} (100 = trend)"
        if lead == lead:
            text += f", leading value-added growth by about {lead:.0f} months"
        if signal["kind"]:
            text += f"; its latest turning point is a {signal['kind']} in {signal['period']} ({signal['months_ago']} " \
                    "months ago)"
        if phase[1]:
            text += f"; phase: {phase[1]}"
        text += "."
    return Para(text, attrs={"src": "series", "key": "cli/city", "period": p})
