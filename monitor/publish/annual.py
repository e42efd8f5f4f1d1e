"""The annual summary (《YYYY年全市工业经济运行年度总结》): the year in figures against the targets, the PMI's
turning points (crossings of the 50 line), the accuracy of the year's one-month-ahead forecasts, and the
outlook (forecasts from December).
"""

from __future__ import annotations

import pandas as pd

from ..exceptions import PublishError
from ..reference import CITY_CODE
from . import phrasing as ph
from .charts import NO_CJK_NOTE, line_chart
from .common import BuildOptions, isnan, months_back
from .dispatch import INDICATOR_NAMES, _met
from .document import Document, Figure, Para, Section, Table, num_cell, text_cell
from .operations import _series_label, forecast_section, official
from .outlook import is_city_key
from .sources import Inputs

__all__ = ["build_annual", "turning_points"]


def turning_points(months: list[str], values: list[float]) -> list[tuple[str, str]]:
    """Months where the rounded index crossed 50: ``[(month, "up" | "down")]``."""
    out = []
    side_prev = None
    for m, v in zip(months, values):
        if isnan(v):
            continue
        r = ph.round_half_up(v)
        side = 1 if r > 50 else -1 if r < 50 else 0
        if side_prev is not None and side != 0 and side_prev != 0 and side != side_prev:
            out.append((m, "up" if side > 0 else "down"))
        if side != 0:
            side_prev = side
    return out


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def build_annual(inputs: Inputs, period: pd.Period, opts: BuildOptions) -> Document:
    """Build the annual summary of year ``period``."""
    lang = opts.lang
    zh = lang == "zh"
    year = period.year
    dec = pd.Period(year=year, month=12, freq="M")
    months = months_back(dec, 12)
    pmis = inputs.values("pmi/headline", months)
    if all(isnan(v) for v in pmis):
        raise PublishError(f"the store has no PMI for {year}; the annual summary needs the year's data "
                           "(run `imon compute` over it)")
    s1 = Section("一、全年主要指标与目标" if zh else "1. The year in figures against the targets")
    targets = inputs.query("targets", "SELECT indicator, comparison, value FROM target WHERE year = :y AND region = :r "
                           "ORDER BY indicator", y=year, r=CITY_CODE)
    rows = []
    for t in targets:
        ind = t["indicator"]
        actual = official(inputs, ind, CITY_CODE, str(dec)) if "ytd" in ind else official(inputs, ind, CITY_CODE,
                                                                                            str(year))
        names = INDICATOR_NAMES.get(ind, (ind, ind))
        rows.append([text_cell(names[0] if zh else names[1]), text_cell(f"{'≥' if t['comparison'] == '>=' else '≤'} {ph.fmt(t['value'])}"),
                     num_cell(actual, src="official", key=f"{ind}@{CITY_CODE}",
                              period=str(dec) if "ytd" in ind else str(year)),
                     text_cell("—" if isnan(actual) else (("完成" if zh else "met") if _met(actual, t["comparison"],
                                                                                          t["value"])
                                                          else ("未完成" if zh else "missed")), "flag")])
    if rows:
        met = sum(1 for r in rows if r[3].text in ("完成", "met"))
        known = sum(1 for r in rows if r[3].text != "—")
        s1.add(Para((f"{year}年{len(rows)}项年度目标中，已有数据的{known}项中完成{met}项。") if zh else
                    (f"Of {len(rows)} targets for {year}, {met} of the {known} with data were met.")))
        s1.add(Table(f"表1 {year}年主要目标完成情况" if zh else f"Table 1 Targets {year}",
                     ["指标", "目标", "全年完成", "状态"] if zh else ["Indicator", "Target", "Outcome", "Status"], rows))
    else:
        s1.add(Para(("年度目标：" + ph.NOT_AVAILABLE[lang]) if zh else "Targets: " + ph.NOT_AVAILABLE[lang], "note"))
    ok = [v for v in pmis if not isnan(v)]
    avg = sum(ok) / len(ok)
    above = sum(1 for v in ok if ph.round_half_up(v) > 50)
    s2 = Section("二、景气走势与拐点" if zh else "2. The cycle and its turning points")
    s2.add(Para((f"全年制造业PMI平均为{ph.fmt(avg)}%，{len(ok)}个月中{above}个月高于临界点；最高"
                 f"{ph.fmt(max(ok))}%（{months[pmis.index(max(ok))]}），最低{ph.fmt(min(ok))}%（{months[pmis.index(min(ok))]}）。")
                if zh else
                (f"The PMI averaged {ph.fmt(avg)} in {year}, above 50 in {above} of {len(ok)} months; high "
                 f"{ph.fmt(max(ok))} ({months[pmis.index(max(ok))]}), low {ph.fmt(min(ok))} ({months[pmis.index(min(ok))]})."),
                attrs={"src": "derived", "key": "pmi/headline", "period": str(year)}))
    long = months_back(dec, 24)
    turns = turning_points(long, inputs.values("pmi/headline", long))
    turns = [t for t in turns if t[0].startswith(str(year))]
    if turns:
        s2.add(Para(("全年PMI穿越临界点的月份：" + "；".join(
            f"{m}{'升至临界点以上' if d == 'up' else '降至临界点以下'}" for m, d in turns) + "。") if zh else
                    (f"The PMI crossed 50 {_times(len(turns))}: " + ", ".join(
                        f"{'up' if d == 'up' else 'down'} in {m}" for m, d in turns) + ".")))
    else:
        s2.add(Para("全年PMI未穿越临界点。" if zh else "The PMI did not cross 50 during the year."))
    s2.add(Figure(f"图1 {year - 1}-{year}年制造业PMI" if zh else f"Figure 1 PMI, {year - 1}-{year}",
                  line_chart([m[2:] for m in long], [("PMI", inputs.values("pmi/headline", long))], font=opts.font,
                             threshold=50.0, threshold_label="临界点 50" if zh and opts.font.cjk else "50")))
    # 三、预测准确度
    s3 = Section("三、预测准确度回顾" if zh else "3. Forecast accuracy over the year")
    fc = inputs.query("forecasts_year", "SELECT series_key, origin, period, mean FROM forecast WHERE period >= :a AND "
                      "period <= :b ORDER BY series_key, period, origin", a=months[0], b=months[-1])
    acc: dict[str, list[float]] = {}
    for r in fc:
        if str(pd.Period(r["period"], "M") - 1) != r["origin"] or not is_city_key(r["series_key"]):
            continue  # one month ahead only, the city's series (the districts' are in the operation reports)
        actual = inputs.value(r["series_key"], r["period"])
        if not isnan(actual):
            acc.setdefault(r["series_key"], []).append(abs(actual - r["mean"]))
    if acc:
        s3.add(Table("表2 一个月前预测的平均绝对误差" if zh else "Table 2 Mean absolute error, one month ahead",
                     ["序列", "预测次数", "平均绝对误差"] if zh else ["Series", "Forecasts", "MAE"],
                     [[text_cell(_series_label(k, lang)), text_cell(str(len(v))), num_cell(sum(v) / len(v), src="derived", key=k,
                                                                      period=str(year), digits=2)]
                      for k, v in sorted(acc.items())]))
    else:
        s3.add(Para(("预测准确度：" + ph.NOT_AVAILABLE[lang] + "（当年未存储一个月前的预测）。") if zh else
                    ("Forecast accuracy: " + ph.NOT_AVAILABLE[lang] + " (no one-month-ahead forecasts stored)."),
                    "note"))
    s4 = forecast_section(inputs, str(dec), lang, "四、明年展望" if zh else "4. Outlook for next year")
    doc = Document("annual", str(year), lang, f"{year}年{opts.city}工业经济运行年度总结" if zh else
                   f"Annual summary of {opts.city}'s industrial economy, {year}", opts.issuer, opts.release_line,
                   [s1, s2, s3, s4])
    if not opts.font.cjk and zh:
        doc.notices.append(NO_CJK_NOTE[lang])
    return doc
