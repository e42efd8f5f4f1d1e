"""The monthly industrial-operation report (《YYYY年M月全市工业经济运行监测报告》), after the municipal
skeleton of METHODOLOGY 5.2: overall situation; the survey; industries and districts; the early-warning
panel (signal lamps, METHODOLOGY 6.3); problems enterprises report; forecasts and the nowcast.

Sections whose inputs are not in the store (no official figures yet, an empty ``nowcast`` or
``forecast`` table) say so instead of failing.
"""

from __future__ import annotations

import json

import pandas as pd

from .. import reference as ref
from ..exceptions import PublishError
from ..indicators.lamps import COLOURS, COLOURS_ZH, DEFAULT_LAMPS
from ..reference import CITY_CODE
from ..store import publications as publications_q
from ..store.monitoring import status_counts
from . import phrasing as ph
from .charts import NO_CJK_NOTE, bar_chart, line_chart
from .common import (
    BuildOptions,
    district_name,
    industry_name,
    isnan,
    month_label,
    month_short,
    months_back,
    question_name,
)
from .document import Cell, Document, Figure, Para, Section, Table, chart_attrs, num_cell, text_cell
from .outlook import forecast_tables, leading_paragraph
from .pmi import TABLE1, TABLE2
from .sources import Inputs
from .texts import text as tx

__all__ = ["build_operations", "official", "forecast_section", "lamp_table", "PROVINCE_CODE", "COUNTRY_CODE",
           "LAMPS", "lamp_keys"]

#: Region codes of the comparison figures, where the store has them.
PROVINCE_CODE = "440000"
COUNTRY_CODE = "100000"


def _part(cell: Cell, group: str) -> Cell:
    """Mark a cell as one of the parts that add up to the total of ``group`` (checked by ``publish check``)."""
    if cell.text != "—":
        cell.attrs["sum-part"] = group
    return cell


def _total(cell: Cell, group: str) -> Cell:
    cell.attrs["sum-total"] = group
    return cell


def _synthetic_comparison(inputs: Inputs) -> bool:
    """True when the province/country figures came from the demo's synthetic generator."""
    rows = inputs.call("comparison_source", publications_q.official_source_kinds, a=PROVINCE_CODE, b=COUNTRY_CODE)
    return any(str(r["kind"]) == "demo" or "synthetic" in str(r["kind"]) for r in rows)


def official(inputs: Inputs, series: str, region: str, period: str) -> float:
    """An official statistic (NaN when absent)."""
    rows = inputs.call("official", publications_q.official_value, s=series, r=region, p=period)
    return float(rows[0]["value"]) if rows and rows[0]["value"] is not None else float("nan")


#: The signal lamps of :data:`monitor.indicators.lamps.DEFAULT_LAMPS` as (code, name_zh, name_en, source), and
#: the lamp colours of scores 1..5.
LAMPS: tuple[tuple[str, str, str, str], ...] = tuple((i.code, i.name_zh, i.name_en, i.source) for i in DEFAULT_LAMPS)


def lamp_keys() -> list[str]:
    """Series keys the lamp panel reads (for :meth:`Inputs.prefetch`)."""
    return [f"lamps/{c}" for c, *_ in LAMPS] + [s for *_, s in LAMPS if not s.startswith("iva/")] + \
        ["lamps/composite"]


def lamp_table(inputs: Inputs, p: str, lang: ph.Lang, caption: str) -> Table | None:
    """The signal-lamp panel of month ``p`` (None when no lamp is stored)."""
    zh = lang == "zh"
    rows = []
    for code, name_zh, name_en, source in LAMPS:
        key = f"lamps/{code}"
        score = inputs.value(key, p, "raw")
        if isnan(score):
            continue
        colour = int(score)
        value = official(inputs, "iva/yoy", CITY_CODE, p) if source.startswith("iva/") else \
            inputs.value(source, p)
        rows.append([text_cell(name_zh if zh else name_en),
                     num_cell(value, src="official" if source.startswith("iva/") else "series",
                              key=source, period=p),
                     text_cell(COLOURS_ZH[colour - 1] if zh else COLOURS[colour - 1].replace("_", " "),
                               f"lamp-{COLOURS[colour - 1]}")])
    w = inputs.value("lamps/composite", p, "raw")
    if not rows:
        return None
    if not isnan(w):
        score = w * 3 / 100
        band = 0 if score <= 2.0 else 1 if score <= 2.5 else 2 if score <= 3.5 else 3 if score <= 4.0 else 4
        rows.append([text_cell("综合预警指数" if zh else "Composite warning index"),
                     num_cell(w, src="series", key="lamps/composite", period=p, col="raw"),
                     text_cell(COLOURS_ZH[band] if zh else COLOURS[band].replace("_", " "), f"lamp-{COLOURS[band]}")])
    return Table(caption, ["指标", "本月数值", "信号灯"] if zh else ["Indicator", "Value", "Lamp"], rows,
                 note=("注：信号灯临界值为待与市局确认的建议值；综合指数100为理想水平（全部绿灯）。" if zh else
                       "Critical values are proposals to confirm with the bureau; 100 = all lamps green."))


def forecast_section(inputs: Inputs, p: str, lang: ph.Lang, heading: str) -> Section:
    """Forecasts from origin ``p`` with 80/95 % intervals, and the nowcast with its news (or "not available")."""
    zh = lang == "zh"
    sec = Section(heading)
    rows = inputs.call("forecast", publications_q.forecasts_from, o=p)
    if rows:
        for table in forecast_tables(inputs, p, lang, rows):
            sec.add(table)
    else:
        sec.add(Para(("本月预测：" if zh else "Forecasts: ") + ph.NOT_AVAILABLE[lang] + "。" if zh else
                     "Forecasts: " + ph.NOT_AVAILABLE[lang] + ".", "note"))
    lead = leading_paragraph(inputs, p, lang)
    if lead is not None:
        sec.add(lead)
    now = inputs.call("nowcast", publications_q.nowcasts_from, o=p, r=CITY_CODE)
    # a nowcast is made only for months whose official figure is not yet published (issue 13)
    published = [r for r in now if r["series_key"].startswith("iva/yoy") and
                 not isnan(official(inputs, "iva/yoy", CITY_CODE, r["period"]))]
    for r in published:
        sec.add(Para(tx(lang, "nowcast_published", v=ph.fmt(official(inputs, "iva/yoy", CITY_CODE, r["period"]))),
                     "note"))
    now = [r for r in now if r not in published]
    if now or published:
        for r in now:
            text = (f"{r['period']}规上工业增加值增速即时预测为{ph.fmt(r['mean'])}%"
                    f"{'' if r['lower_80'] is None else '（80%区间' + ph.fmt(r['lower_80']) + '%至' + ph.fmt(r['upper_80']) + '%）'}"
                    if zh else
                    f"Nowcast of industrial value-added growth for {r['period']}: {ph.fmt(r['mean'])}%"
                    f"{'' if r['lower_80'] is None else ' (80% interval ' + ph.fmt(r['lower_80']) + ' to ' + ph.fmt(r['upper_80']) + ')'}")
            if r["previous"] is not None:
                text += ("，" + ph.change_phrase(r["mean"], r["previous"], lang).replace("上月", "上期预测")
                         if zh else ", " + ph.change_phrase(r["mean"], r["previous"], lang)
                         .replace("the previous month", "the previous nowcast"))
            sec.add(Para(text + ("。" if zh else "."), attrs={"src": "nowcast", "key": r["series_key"],
                                                             "period": r["period"]}))
            news = json.loads(r["news"]) if r["news"] else []
            news = sorted(news, key=lambda n: -abs(n.get("impact") or 0))[:5]
            if news and str(r.get("model") or "").startswith("bridge:"):
                # a bridge nowcast: what each input adds to the change since the last published value
                sec.add(Table("表 即时预测的构成（各输入对较上次公布值变化的贡献）" if zh else
                              "Table What the nowcast is made of (each input's contribution to the change "
                              "since the last published value)",
                              ["输入", "月份", "贡献（百分点）"] if zh else ["Input", "Month", "Contribution (points)"],
                              [[text_cell(_series_label(n.get("series", ""), lang)), text_cell(str(n.get("period", ""))),
                                num_cell(n.get("impact"), src="nowcast-news", digits=2)] for n in news]))
            elif news:
                sec.add(Table("表 即时预测修正的来源（新信息）" if zh else "Table News behind the nowcast revision",
                              ["序列", "月份", "实际值", "预期值", "影响"] if zh else
                              ["Series", "Month", "Actual", "Expected", "Impact"],
                              [[text_cell(_series_label(n.get("series", ""), lang)), text_cell(str(n.get("period", ""))),
                                num_cell(n.get("actual"), src="nowcast-news", digits=2),
                                num_cell(n.get("expected"), src="nowcast-news", digits=2),
                                num_cell(n.get("impact"), src="nowcast-news", digits=2)] for n in news]))
    else:
        sec.add(Para(("规上工业增加值即时预测：" + ph.NOT_AVAILABLE[lang] + "。") if zh else
                     ("Nowcast of industrial value added: " + ph.NOT_AVAILABLE[lang] + "."), "note"))
    return sec


def _series_label(key: str, lang: str) -> str:
    from .outlook import series_label

    return series_label(key, lang)


def build_operations(inputs: Inputs, period: pd.Period, opts: BuildOptions) -> Document:
    """Build the monthly industrial-operation report for ``period``."""
    lang = opts.lang
    zh = lang == "zh"
    p, prev = str(period), str(period - 1)
    inputs.prefetch([f"pmi/{c}" for c in TABLE1 + TABLE2] + lamp_keys() +
                    ["electricity/yoy/city", "electricity/total/city", "costs/price_scissors/city"] +
                    [f"electricity/yoy/industry/{i.code}" for i in ref.INDUSTRIES] +
                    [f"electricity/{w}/district/{d.code}" for d in ref.DISTRICTS for w in ("yoy", "total")] +
                    [f"problems/{code}" for code, _, _ in ref.PROBLEMS])
    head = inputs.value("pmi/headline", p)
    iva = official(inputs, "iva/yoy", CITY_CODE, p)
    if isnan(head) and isnan(iva):
        raise PublishError(f"the store has neither the PMI nor official value-added growth for {p}; collect and "
                           f"compute that month first (`imon collect`, `imon compute --period {p}`)")
    # 一、总体情况
    s1 = Section("一、总体情况" if zh else "1. Overall situation")
    rows = []
    for series, zh_name, en_name in (("iva/yoy", "规上工业增加值（当月）", "Value added, month"),
                                     ("iva/ytd_yoy", "规上工业增加值（累计）", "Value added, year to date"),
                                     ("output/ytd_yoy", "规上工业总产值（累计）", "Gross output, year to date"),
                                     ("investment/industrial/ytd_yoy", "工业投资（累计）", "Industrial investment, ytd"),
                                     ("investment/tech_transformation/ytd_yoy", "技术改造投资（累计）",
                                      "Technical-transformation investment, ytd")):
        v = official(inputs, series, CITY_CODE, p)
        if isnan(v):
            continue
        b = official(inputs, series, CITY_CODE, prev)
        prov = official(inputs, series, PROVINCE_CODE, p)
        nat = official(inputs, series, COUNTRY_CODE, p)
        rows.append([text_cell(zh_name if zh else en_name),
                     num_cell(v, src="official", key=f"{series}@{CITY_CODE}", period=p),
                     num_cell(b, src="official", key=f"{series}@{CITY_CODE}", period=prev),
                     num_cell(prov, src="official", key=f"{series}@{PROVINCE_CODE}", period=p),
                     num_cell(nat, src="official", key=f"{series}@{COUNTRY_CODE}", period=p)])
    # the comparison columns are kept only where the store has the figures (synthetic ones are said to be)
    keep = [j for j in range(5) if j < 3 or any(r[j].text != "—" for r in rows)]
    header1 = ["指标", "本期", "上期", "全省", "全国"] if zh else ["Indicator", "This period", "Previous", "Province",
                                                             "Country"]
    cmp_note = tx(lang, "comparison_missing") if len(keep) == 3 else \
        tx(lang, "synthetic_comparison") if _synthetic_comparison(inputs) else ""
    rows = [[r[j] for j in keep] for r in rows]
    header1 = [header1[j] for j in keep]
    ytd = official(inputs, "iva/ytd_yoy", CITY_CODE, p)
    if not isnan(iva):
        b = official(inputs, "iva/yoy", CITY_CODE, prev)
        text = (f"{month_short(period, lang)}，{opts.city}规模以上工业增加值{ph.growth_phrase(iva, lang)}"
                f"{'' if isnan(b) else '，' + ph.growth_change_phrase(iva, b, lang)}"
                f"{'' if isnan(ytd) else '；1-' + str(period.month) + '月累计' + ph.growth_phrase(ytd, lang)}。"
                if zh else
                f"{month_short(period, lang)}, industrial value added of {opts.city} was {ph.growth_phrase(iva, lang)}"
                f"{'' if isnan(b) else ', ' + ph.growth_change_phrase(iva, b, lang)}"
                f"{'' if isnan(ytd) else '; year to date ' + ph.growth_phrase(ytd, lang)}.")
        prov = official(inputs, "iva/yoy", PROVINCE_CODE, p)
        nat = official(inputs, "iva/yoy", COUNTRY_CODE, p)
        if not isnan(prov) or not isnan(nat):
            cmp = []
            for v, zn, en in ((prov, "全省", "the province"), (nat, "全国", "the country")):
                if isnan(v):
                    continue
                d, size = ph.direction(iva, v)
                cmp.append((f"{'高于' if d == 'up' else '低于' if d == 'down' else '持平于'}{zn}"
                            f"{'' if d == 'flat' else ph.fmt(size) + '个百分点'}") if zh else
                           f"{'above' if d == 'up' else 'below' if d == 'down' else 'level with'} {en}"
                           f"{'' if d == 'flat' else ' by ' + ph.fmt(size) + ' points'}")
            text = text[:-1] + ("，增速" + "、".join(cmp) + "。" if zh else ", " + " and ".join(cmp) + ".")
        s1.add(Para(text, attrs={"src": "official", "key": f"iva/yoy@{CITY_CODE}", "period": p, "prev": prev}))
    else:
        s1.add(Para(("本月规上工业增加值：" + ph.NOT_AVAILABLE[lang] + "。") if zh else
                    ("Industrial value added this month: " + ph.NOT_AVAILABLE[lang] + "."), "note"))
    ele = inputs.value("electricity/yoy/city", p)
    if not isnan(ele):
        eb = inputs.value("electricity/yoy/city", prev)
        s1.add(Para((f"样本企业工业用电量{ph.growth_phrase(ele, lang)}"
                     f"{'' if isnan(eb) else '，' + ph.growth_change_phrase(ele, eb, lang)}。") if zh else
                    (f"Electricity use of the sample enterprises was {ph.growth_phrase(ele, lang)}"
                     f"{'' if isnan(eb) else ', ' + ph.growth_change_phrase(ele, eb, lang)}."),
                    attrs={"src": "series", "key": "electricity/yoy/city", "period": p, "prev": prev}))
    if rows:
        s1.add(Table("表1 主要指标（同比增长，%）" if zh else "Table 1 Main indicators (growth y/y, %)",
                     header1, rows, note=cmp_note))
    # 二、景气调查
    s2 = Section("二、景气调查" if zh else "2. The survey")
    if not isnan(head):
        hb = inputs.value("pmi/headline", prev)
        hse = ph.se_of_change(inputs.value("pmi/headline", p, "se"), inputs.value("pmi/headline", prev, "se"))
        tail = ph.index_sentence_tail(head, None if isnan(hb) else hb, lang, hse)
        s2.add(Para((f"{month_short(period, lang)}，制造业采购经理指数（PMI）{tail}。") if zh else
                    (f"{month_short(period, lang)}, the PMI {tail}."),
                    attrs={"src": "series", "key": "pmi/headline", "period": p, "prev": prev} |
                    ({} if hse is None else {"se-change": f"{hse:.4f}"})))
        body = []
        for code in TABLE1 + TABLE2:
            key = f"pmi/{code}"
            v, b = inputs.value(key, p), inputs.value(key, prev)
            change = None if isnan(v) or isnan(b) else ph.round_half_up(ph.round_half_up(v) - ph.round_half_up(b))
            body.append([text_cell(question_name(code, lang)), num_cell(v, src="series", key=key, period=p),
                         num_cell(change, src="change", key=key, period=p)])
        s2.add(Table("表2 制造业PMI及分项指数（%）" if zh else "Table 2 PMI and its sub-indices",
                     ["指数", "本月", "比上月增减"] if zh else ["Index", "This month", "Change"], body))
    else:
        s2.add(Para(ph.NOT_AVAILABLE[lang], "note"))
    # 三、分行业和分区
    s3 = Section("三、分行业、分区情况" if zh else "3. Industries and districts")
    growth = [(i.code, inputs.value(f"electricity/yoy/industry/{i.code}", p)) for i in ref.INDUSTRIES]
    growth = [(c, v) for c, v in growth if not isnan(v)]
    if growth:
        up = sum(1 for _, v in growth if ph.round_half_up(v) > 0)
        top = sorted(growth, key=lambda cv: -cv[1])[:3]
        s3.add(Para((f"从行业看，{len(growth)}个行业大类中{up}个行业用电量同比增长，增长面{ph.fmt(100 * up / len(growth))}%；"
                     "增长较快的是" + "、".join(f"{industry_name(c, lang)}（{ph.fmt(v)}%）" for c, v in top) + "。")
                    if zh else
                    (f"By industry, electricity use rose in {up} of {len(growth)} divisions (breadth "
                     f"{ph.fmt(100 * up / len(growth))}%); fastest: " +
                     ", ".join(f"{industry_name(c, lang)} ({ph.fmt(v)}%)" for c, v in top) + "."),
                    attrs={"src": "series", "keys": ",".join(f"electricity/yoy/industry/{c}" for c, _ in top),
                           "period": p}))
    drows, dvals, labels = [], [], []
    # contributions are the districts' matched-sample parts of the city's growth (electricity/contribution/...):
    # they add up to the city's rate; totals of a rotating panel would not (issue 13)
    for district in ref.DISTRICTS:
        v = official(inputs, "iva/yoy", district.code, p)
        e = inputs.value(f"electricity/yoy/district/{district.code}", p, "raw")
        contrib = inputs.value(f"electricity/contribution/district/{district.code}", p, "raw")
        if isnan(v) and isnan(e):
            continue
        drows.append((district.code, v, e, contrib))
    if drows:
        with_iva = [r for r in drows if not isnan(r[1])]
        ranked = sorted(with_iva, key=lambda r: -r[1]) + [r for r in drows if isnan(r[1])]
        if with_iva:
            s3.add(Para((f"从辖区看，{len(with_iva)}个区规上工业增加值增速“{ph.updown_count([r[1] for r in with_iva], lang)}”，"
                         f"增速最高的是{district_name(ranked[0][0], lang)}（{ph.fmt(ranked[0][1])}%），"
                         f"最低的是{district_name(sorted(with_iva, key=lambda r: r[1])[0][0], lang)}"
                         f"（{ph.fmt(sorted(with_iva, key=lambda r: r[1])[0][1])}%）。") if zh else
                        (f"By district, value-added growth was {ph.updown_count([r[1] for r in with_iva], lang)} "
                         f"across {len(with_iva)} districts; highest {district_name(ranked[0][0], lang)} "
                         f"({ph.fmt(ranked[0][1])}%), lowest {district_name(sorted(with_iva, key=lambda r: r[1])[0][0], lang)} "
                         f"({ph.fmt(sorted(with_iva, key=lambda r: r[1])[0][1])}%)."),
                        attrs={"src": "official", "key": "iva/yoy", "period": p}))
        body = []
        for rank, (code, v, e, c) in enumerate(ranked, start=1):
            body.append([text_cell(str(rank) if not isnan(v) else ""), text_cell(district_name(code, lang)),
                         num_cell(v, src="official", key=f"iva/yoy@{code}", period=p),
                         num_cell(e, src="series", key=f"electricity/yoy/district/{code}", period=p, col="raw"),
                         _part(num_cell(c, src="series", key=f"electricity/contribution/district/{code}", period=p,
                                        col="raw", digits=2), "contribution")])
            labels.append(district_name(code, lang if opts.font.cjk else "en"))
            dvals.append(v)
        city_e = inputs.value("electricity/yoy/city", p, "raw")
        body.append([text_cell(""), text_cell(tx(lang, "total_row")),
                     num_cell(iva, src="official", key=f"iva/yoy@{CITY_CODE}", period=p),
                     num_cell(city_e, src="series", key="electricity/yoy/city", period=p, col="raw"),
                     _total(num_cell(city_e, src="series", key="electricity/yoy/city", period=p, col="raw",
                                     digits=2), "contribution")])
        s3.add(Table("表3 分区主要指标（同比增长，%）" if zh else "Table 3 Districts (growth y/y, %)",
                     ["排名", "辖区", "规上工业增加值", "样本企业用电量", "用电拉动（百分点）"] if zh else
                     ["Rank", "District", "Value added", "Electricity", "Electricity contribution (pp)"], body,
                     note=tx(lang, "contribution_note")))
        if any(not isnan(v) for v in dvals):
            png = bar_chart(labels, dvals, font=opts.font, reference=0.0)
            s3.add(Figure("图1 分区规上工业增加值增速（%）" if zh else "Figure 1 Value-added growth by district (%)", png,
                          attrs=chart_attrs([f"iva/yoy@{c}" for c, *_ in ranked], [p], [[v] for v in dvals],
                                            ["增加值" if zh else "alue-added"])))
    # 四、预警监测
    s4 = Section("四、预警监测" if zh else "4. Early warning")
    lamps = lamp_table(inputs, p, lang, "表4 景气信号灯" if zh else "Table 4 Signal lamps")
    if lamps is not None:
        s4.add(lamps)
    else:
        s4.add(Para("信号灯：" + ph.NOT_AVAILABLE[lang] if zh else "Signal lamps: " + ph.NOT_AVAILABLE[lang], "note"))
    stopped = inputs.call("status", status_counts, p=p)
    counts = {r["status"]: int(r["n"]) for r in stopped}
    if counts:
        total = sum(counts.values())
        s4.add(Para((f"本月报送经营数据的{total}家样本企业中，停产{counts.get('stopped', 0)}家、半停产"
                     f"{counts.get('semi_stopped', 0)}家，合计占{ph.fmt(100 * (counts.get('stopped', 0) + counts.get('semi_stopped', 0)) / total)}%。")
                    if zh else
                    (f"Of {total} sample enterprises reporting, {counts.get('stopped', 0)} were stopped and "
                     f"{counts.get('semi_stopped', 0)} semi-stopped "
                     f"({ph.fmt(100 * (counts.get('stopped', 0) + counts.get('semi_stopped', 0)) / total)}%)."),
                    attrs={"src": "enterprise_month", "period": p}))
    sc = inputs.value("costs/price_scissors/city", p)
    if not isnan(sc):
        s4.add(Para((f"购进价格与出厂价格指数剪刀差为{ph.fmt(sc)}个百分点，"
                     f"{'成本压力上升' if sc > 0 else '成本压力缓和'}。") if zh else
                    f"The price scissors (input minus output price index) stood at {ph.fmt(sc)} points.",
                    attrs={"src": "series", "key": "costs/price_scissors/city", "period": p}))
    months = months_back(period, 13)
    lampw = inputs.values("lamps/composite", months, "raw")
    if any(not isnan(v) for v in lampw):
        png = line_chart([m[2:] for m in months], [("综合预警指数" if zh and opts.font.cjk else "Composite index",
                                                   lampw)], font=opts.font, threshold=100.0,
                         threshold_label="理想水平 100" if zh and opts.font.cjk else "100 = all green")
        s4.add(Figure("图2 综合预警指数" if zh else "Figure 2 Composite warning index", png,
                      attrs=chart_attrs(["lamps/composite"], months, [lampw],
                                        ["综合预警指数" if zh else "Composite warning index"])))
    # 五、问题与预判
    s5 = Section("五、企业反映的主要问题" if zh else "5. Problems enterprises report")
    probs = []
    for code, name_zh, name_en in ref.PROBLEMS:
        v = inputs.value(f"problems/{code}", p)
        if not isnan(v):
            probs.append((code, name_zh if zh else name_en, v, inputs.value(f"problems/{code}", prev)))
    if probs:
        probs.sort(key=lambda r: -r[2])
        s5.add(Table("表5 反映主要问题的企业占比（%）" if zh else "Table 5 Share of enterprises reporting each problem (%)",
                     ["问题", "本月", "上月"] if zh else ["Problem", "This month", "Previous month"],
                     [[text_cell(n), num_cell(v, src="series", key=f"problems/{c}", period=p),
                       num_cell(b, src="series", key=f"problems/{c}", period=prev)] for c, n, v, b in probs]))
        most = probs[0]
        s5.add(Para((f"反映“{most[1]}”的企业占比最高，为{ph.fmt(most[2])}%。") if zh else
                    (f"The most reported problem was {most[1].lower()} ({ph.fmt(most[2])}%)."),
                    attrs={"src": "series", "key": f"problems/{most[0]}", "period": p}))
    else:
        s5.add(Para(ph.NOT_AVAILABLE[lang], "note"))
    s6 = forecast_section(inputs, p, lang, "六、预测与预判" if zh else "6. Outlook")
    notes = Section("附注" if zh else "Notes")
    notes.add(Para(("1. 规上工业增加值、总产值和投资为统计部门发布数；用电量、PMI、信号灯由本平台根据样本企业数据计算。"
                    "2. 信号灯分红、黄、绿、浅蓝、蓝五档，综合预警指数以100为理想水平。3. 预测区间为80%和95%预测区间。")
                   if zh else
                   ("1. Value added, output and investment are official statistics; electricity, the PMI and the "
                    "lamps are computed by this platform from the sample. 2. Five lamps from red to blue; the "
                    "composite index is 100 when all lamps are green. 3. Intervals are 80 % and 95 % forecast "
                    "intervals."), "note"))
    doc = Document("operations", p, lang,
                   f"{month_label(period, lang)}{opts.city}工业经济运行监测报告" if zh else
                   f"Industrial operation report of {opts.city}, {month_label(period, lang)}",
                   opts.issuer, opts.release_line, [s1, s2, s3, s4, s5, s6, notes])
    if not opts.font.cjk and zh:
        doc.notices.append(NO_CJK_NOTE[lang])
    return doc
