"""The annual summary (《YYYY年全市工业经济运行年度总结》): the year in figures against the targets, the PMI's
turning points (crossings of the 50 line), the accuracy of the year's one-month-ahead forecasts, and the
outlook (forecasts from December).
"""

from __future__ import annotations

import pandas as pd

from ..exceptions import PublishError
from ..reference import CITY_CODE
from ..store import publications as publications_q
from ..store.publications import alerts_started, status_counts, target_odds_as_of, targets_of_year
from . import phrasing as ph
from .charts import NO_CJK_NOTE, line_chart
from .common import BuildOptions, district_name, isnan, months_back
from .dispatch import INDICATOR_NAMES, _met
from .document import Document, Figure, Para, Section, Table, chart_attrs, num_cell, text_cell
from .operations import _series_label, forecast_section, official
from .outlook import is_city_key
from .sources import Inputs
from .texts import text as tx

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
    targets = inputs.call("targets_of_year", targets_of_year, year=year)
    rows = []
    for t in targets:
        ind, region = t["indicator"], t["region"]
        when = str(dec) if "ytd" in ind else str(year)
        actual = official(inputs, ind, region, when)
        names = INDICATOR_NAMES.get(ind, (ind, ind))
        where = tx(lang, "city") if region == CITY_CODE else district_name(region, lang)
        rows.append([text_cell(where, "nowrap"), text_cell(names[0] if zh else names[1]),
                     text_cell(f"{'≥' if t['comparison'] == '>=' else '≤'} {ph.fmt(t['value'])}"),
                     num_cell(actual, src="official", key=f"{ind}@{region}", period=when),
                     text_cell("—" if isnan(actual) else (("完成" if zh else "met") if _met(actual, t["comparison"],
                                                                                          t["value"])
                                                          else ("未完成" if zh else "missed")), "flag")])
    if rows:
        met = sum(1 for r in rows if r[4].text in ("完成", "met"))
        known = sum(1 for r in rows if r[4].text != "—")
        city_rows = [r for r in rows if r[0].text == tx(lang, "city")]
        city_met = sum(1 for r in city_rows if r[4].text in ("完成", "met"))
        s1.add(Para((f"{year}年全市{len(city_rows)}项年度目标完成{city_met}项；全市和各区共{len(rows)}项目标中，"
                     f"已有全年数据的{known}项完成{met}项。") if zh else
                    (f"The city met {city_met} of its {len(city_rows)} targets for {year}; of all {len(rows)} targets "
                     f"of the city and the districts, {met} of the {known} with full-year data were met.")))
        s1.add(Table(f"表1 {year}年全市和各区目标完成情况" if zh else f"Table 1 Targets of the city and districts, {year}",
                     ["地区", "指标", "目标", "全年完成", "状态"] if zh else ["Region", "Indicator", "Target", "Outcome",
                                                                      "Status"], rows,
                     note=tx(lang, "targets_note")))
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
    long_values = inputs.values("pmi/headline", long)
    s2.add(Figure(f"图1 {year - 1}-{year}年制造业PMI" if zh else f"Figure 1 PMI, {year - 1}-{year}",
                  line_chart([m[2:] for m in long], [("PMI", long_values)], font=opts.font,
                             threshold=50.0, threshold_label="临界点 50" if zh and opts.font.cjk else "50"),
                  attrs=chart_attrs(["pmi/headline"], long, [long_values], ["PMI"])))
    s_el = _electricity_section(inputs, months, opts, "三、工业用电" if zh else "3. Industrial electricity")
    s_st = _stopped_section(inputs, months, lang, "四、停产、半停产企业" if zh else "4. Stopped and semi-stopped enterprises")
    s_al = _alerts_section(inputs, months, lang, "五、全年预警" if zh else "5. The year's warnings")
    # 六、预测准确度
    s3 = Section("六、预测准确度回顾" if zh else "6. Forecast accuracy over the year")
    fc = inputs.call("forecasts_year", publications_q.forecasts_between, a=months[0], b=months[-1])
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
    s4 = forecast_section(inputs, str(dec), lang, "七、明年展望" if zh else "7. Outlook for next year")
    _next_year_odds(inputs, s4, year, lang)
    doc = Document("annual", str(year), lang, f"{year}年{opts.city}工业经济运行年度总结" if zh else
                   f"Annual summary of {opts.city}'s industrial economy, {year}", opts.issuer, opts.release_line,
                   [s1, s2, s_el, s_st, s_al, s3, s4])
    if not opts.font.cjk and zh:
        doc.notices.append(NO_CJK_NOTE[lang])
    return doc


def _electricity_section(inputs: Inputs, months: list[str], opts: BuildOptions, heading: str) -> Section:
    """The sample enterprises' electricity growth month by month, with a chart."""
    lang = opts.lang
    zh = lang == "zh"
    sec = Section(heading)
    key = "electricity/yoy/city"
    vals = inputs.values(key, months, "raw")
    ok = [(m, v) for m, v in zip(months, vals) if not isnan(v)]
    if not ok:
        sec.add(Para(("工业用电：" if zh else "Electricity: ") + ph.NOT_AVAILABLE[lang], "note"))
        return sec
    hi = max(ok, key=lambda mv: mv[1])
    lo = min(ok, key=lambda mv: mv[1])
    up = sum(1 for _, v in ok if ph.round_half_up(v) > 0)
    sec.add(Para((f"全年{len(ok)}个月中样本企业工业用电量{up}个月同比增长；增速最高{ph.fmt(hi[1])}%（{hi[0]}），"
                  f"最低{ph.fmt(lo[1])}%（{lo[0]}）。") if zh else
                 (f"The sample's electricity use grew on the year in {up} of {len(ok)} months; fastest {ph.fmt(hi[1])}% "
                  f"({hi[0]}), slowest {ph.fmt(lo[1])}% ({lo[0]}).")))
    sec.add(Table("表2 样本企业工业用电量同比增速（%）" if zh else "Table 2 Electricity use of the sample, growth y/y (%)",
                  ["月份", "同比增速"] if zh else ["Month", "Growth y/y"],
                  [[text_cell(m), num_cell(v, src="series", key=key, period=m, col="raw")] for m, v in ok],
                  note=tx(lang, "jan_feb_note")))
    label = "用电量" if zh and opts.font.cjk else "Electricity"
    sec.add(Figure("图2 样本企业工业用电量同比增速（%）" if zh else "Figure 2 Electricity use, growth y/y (%)",
                   line_chart([m[2:] for m in months], [(label, vals)], font=opts.font, threshold=0.0,
                              threshold_label="0", ylabel="%"),
                   attrs=chart_attrs([key], months, [vals], ["用电量" if zh else "Electricity"])))
    return sec


def _stopped_section(inputs: Inputs, months: list[str], lang: ph.Lang, heading: str) -> Section:
    """Stopped and semi-stopped sample enterprises, month by month."""
    zh = lang == "zh"
    sec = Section(heading)
    rows = inputs.call("status_counts", status_counts, first=months[0], last=months[-1])
    if not rows:
        sec.add(Para(("停产、半停产企业：" if zh else "Stopped enterprises: ") + ph.NOT_AVAILABLE[lang], "note"))
        return sec
    peak = max(rows, key=lambda r: int(r["stopped"]) + int(r["semi_stopped"]))
    sec.add(Para((f"全年停产、半停产样本企业最多的是{peak['period']}，停产{int(peak['stopped'])}家、半停产"
                  f"{int(peak['semi_stopped'])}家；12月停产{int(rows[-1]['stopped'])}家、半停产"
                  f"{int(rows[-1]['semi_stopped'])}家。") if zh else
                 (f"Most sample enterprises were stopped or semi-stopped in {peak['period']} ({int(peak['stopped'])} "
                  f"stopped, {int(peak['semi_stopped'])} semi-stopped); in {rows[-1]['period']}, "
                  f"{int(rows[-1]['stopped'])} and {int(rows[-1]['semi_stopped'])}.")))
    body = []
    for r in rows:
        n = int(r["reporting"])
        share = 100 * (int(r["stopped"]) + int(r["semi_stopped"])) / n if n else float("nan")
        body.append([text_cell(r["period"]), text_cell(str(int(r["stopped"])), "num"),
                     text_cell(str(int(r["semi_stopped"])), "num"), text_cell(f"{n:,}", "num"),
                     num_cell(share, src="derived", key="enterprise_month/status", period=r["period"])])
    sec.add(Table("表3 停产、半停产样本企业（家）" if zh else "Table 3 Stopped and semi-stopped sample enterprises",
                  ["月份", "停产", "半停产", "报送企业", "合计占比（%）"] if zh else
                  ["Month", "Stopped", "Semi-stopped", "Reporting", "Share (%)"], body))
    return sec


def _alerts_section(inputs: Inputs, months: list[str], lang: ph.Lang, heading: str) -> Section:
    """The alerts whose condition started during the year, by rule (names from the warning catalogue)."""
    from ..alerts.texts import SEVERITY, rule_title

    zh = lang == "zh"
    sec = Section(heading)
    rows = inputs.call("alerts_started", alerts_started, first=months[0], last=months[-1])
    if not rows:
        sec.add(Para(tx(lang, "no_alerts"), "note"))
        return sec
    total = sum(int(r["n"]) for r in rows)
    sec.add(Para((f"全年共触发预警{total}条。") if zh else (f"{total} alerts started during the year.")))
    sec.add(Table("表4 全年预警（按规则）" if zh else "Table 4 The year's alerts by rule",
                  ["规则", "级别", "预警数", "涉及地区数"] if zh else ["Rule", "Severity", "Alerts", "Regions"],
                  [[text_cell(rule_title(r["rule"], "", lang) or r["rule"]), text_cell(SEVERITY[lang].get(r["severity"],
                                                                                            r["severity"])),
                    text_cell(str(int(r["n"])), "num"), text_cell(str(int(r["regions"])), "num")] for r in rows]))
    return sec


def _next_year_odds(inputs: Inputs, sec: Section, year: int, lang: ph.Lang) -> None:
    """The odds of next year's targets as seen from December (when stored)."""
    zh = lang == "zh"
    rows = inputs.call("target_odds_as_of", target_odds_as_of, year=year + 1, origin=f"{year}-12")
    rows = [r for r in rows if r.get("probability") is not None]
    if not rows:
        return
    sec.add(Table(f"表 {year + 1}年目标达标概率（{year}年12月测算）" if zh else
                  f"Table Odds of meeting the {year + 1} targets (as of December {year})",
                  ["地区", "指标", "达标概率（%）"] if zh else ["Region", "Indicator", "Probability (%)"],
                  [[text_cell(tx(lang, "city") if r["region"] == CITY_CODE else district_name(r["region"], lang)),
                    text_cell(INDICATOR_NAMES.get(r["indicator"], (r["indicator"],) * 2)[0 if zh else 1]),
                    _odds(num_cell(r["probability"] * 100, src="target_odds", key=f"{r['indicator']}@{r['region']}",
                                   period=f"{year}-12", col="probability*100", digits=0), r, year + 1)]
                   for r in rows]))


def _odds(cell, row, year):  # type: ignore[no-untyped-def]
    cell.attrs.update(origin=str(row["origin"]), year=str(year))
    return cell
