"""The quarterly dispatch report (《YYYY年第N季度工业经济运行调度报告》): per-district scorecards against the
annual targets with the probability of meeting each (``target_odds``), rankings, the dispatch list of
lagging districts, sectors and stopped/semi-stopped enterprises, and the actions due from last quarter.
"""

from __future__ import annotations

import pandas as pd

from .. import reference as ref
from ..exceptions import PublishError
from ..reference import CITY_CODE
from ..store import publications as publications_q
from ..store.publications import target_odds_as_of
from . import phrasing as ph
from .charts import NO_CJK_NOTE
from .common import BuildOptions, district_name, isnan, sector_name
from .document import Cell, Document, Para, Section, Table, flag_low_n, num_cell, text_cell
from .operations import lamp_keys, lamp_table, official
from .sources import Inputs
from .texts import text as tx

__all__ = ["build_dispatch", "INDICATOR_NAMES"]

#: Printed names of the target indicators.
INDICATOR_NAMES = {
    "iva/ytd_yoy": ("规上工业增加值增速", "Industrial value added growth"),
    "output/ytd_yoy": ("规上工业总产值增速", "Gross industrial output growth"),
    "investment/industrial/ytd_yoy": ("工业投资增速", "Industrial investment growth"),
    "investment/tech_transformation/ytd_yoy": ("技术改造投资增速", "Technical-transformation investment growth"),
    "energy_intensity/change": ("单位工业增加值能耗变化", "Energy intensity change"),
    "advanced_manufacturing/share": ("先进制造业增加值占比", "Advanced manufacturing share"),
    "private_economy/share": ("民营经济占比", "Private economy share"),
    "fibre_to_home/rate": ("光纤入户率", "Fibre-to-home rate"),
}


def _name(indicator: str, lang: str) -> str:
    names = INDICATOR_NAMES.get(indicator)
    return indicator if names is None else names[0 if lang == "zh" else 1]


def _contact(row: dict) -> str:
    """``王伟 13800000000`` from the enterprise's registered contact (— when none is on file)."""
    parts = [str(row.get(k) or "").strip() for k in ("contact_name", "contact_phone")]
    return " ".join(p for p in parts if p) or "—"


def _odds_cell(cell: Cell, row: dict | None, year: int) -> Cell:
    """The probability cell with the origin of the stored odds it prints (``publish check`` reads them again)."""
    if row is not None and row.get("origin"):
        cell.attrs.update(origin=str(row["origin"]), year=str(year))
    return cell


def _met(value: float, comparison: str, target: float) -> bool:
    v = ph.round_half_up(value)
    return v >= target if comparison == ">=" else v <= target


def build_dispatch(inputs: Inputs, period: pd.Period, opts: BuildOptions) -> Document:
    """Build the quarterly dispatch report for quarter ``period``."""
    lang = opts.lang
    zh = lang == "zh"
    last = pd.Period(year=period.year, month=period.quarter * 3, freq="M")
    p = str(last)
    months = [str(pd.Period(year=period.year, month=m, freq="M")) for m in range(last.month - 2, last.month + 1)]
    inputs.prefetch(["pmi/headline"] + lamp_keys() + [f"pmi/headline/district/{d.code}" for d in ref.DISTRICTS] +
                    [f"pmi/headline/key_sector/{k.code}" for k in ref.KEY_SECTORS])
    targets = inputs.call("targets", publications_q.year_targets, y=period.year)
    if not targets and isnan(inputs.value("pmi/headline", p)):
        raise PublishError(f"the store has neither targets for {period.year} nor data for {p}; load the year's "
                           "targets and compute the quarter first")
    # per target, the odds stored at the latest origin up to the month after the quarter (a store query)
    odds = {(r["indicator"], r["region"]): r for r in inputs.call(
        "target_odds_as_of", target_odds_as_of, year=period.year, origin=str(last + 1))}
    # the odds as of the month after the quarter: the first origin at which the quarter's official figures
    # are published (the release lag is a month), so probability and year-to-date column agree
    title = (f"{period.year}年第{period.quarter}季度{opts.city}工业经济运行调度报告" if zh else
             f"Quarterly dispatch report of {opts.city}, {period.year} Q{period.quarter}")
    # 一、总体
    s1 = Section("一、本季度总体情况" if zh else "1. The quarter")
    iva = official(inputs, "iva/ytd_yoy", CITY_CODE, p)
    pmis = inputs.values("pmi/headline", months)
    if not isnan(iva):
        s1.add(Para((f"1-{last.month}月，{opts.city}规模以上工业增加值累计{ph.growth_phrase(iva, lang)}。") if zh else
                    (f"January-{last.strftime('%B')}, industrial value added of {opts.city} was "
                     f"{ph.growth_phrase(iva, lang)}."), attrs={"src": "official", "key": f"iva/ytd_yoy@{CITY_CODE}",
                                                                 "period": p}))
    ok = [v for v in pmis if not isnan(v)]
    if ok:
        avg = sum(ok) / len(ok)
        s1.add(Para((f"本季度制造业PMI平均为{ph.fmt(avg)}%，" + ("高于" if ph.round_half_up(avg) > 50 else "低于" if
                     ph.round_half_up(avg) < 50 else "位于") + "临界点。") if zh else
                    (f"The PMI averaged {ph.fmt(avg)} over the quarter."),
                    attrs={"src": "derived", "key": "pmi/headline", "period": ",".join(months)}))
    # 二、分区目标完成情况
    s2 = Section("二、分区目标完成情况" if zh else "2. District scorecards against the annual targets")
    rows = []
    behind: list[tuple[str, str, float, float]] = []
    for t in targets:
        ind, region = t["indicator"], t["region"]
        actual = official(inputs, ind, region, p)
        o = odds.get((ind, region))
        prob = None if o is None else o["probability"] * 100
        if not isnan(actual) and not _met(actual, t["comparison"], t["value"]):
            behind.append((region, ind, actual, t["value"]))
        rows.append([text_cell(("全市" if zh else "City") if region == CITY_CODE else district_name(region, lang)),
                     text_cell(_name(ind, lang)),
                     text_cell(f"{'≥' if t['comparison'] == '>=' else '≤'} {ph.fmt(t['value'])}"),
                     num_cell(actual, src="official", key=f"{ind}@{region}", period=p),
                     _odds_cell(num_cell(prob, src="target_odds", key=f"{ind}@{region}", period=p,
                                         col="probability*100", digits=0), o, period.year),
                     text_cell(("—" if isnan(actual) else ("达标" if _met(actual, t["comparison"], t["value"]) else
                                                           "未达标")) if zh else
                               ("—" if isnan(actual) else ("on track" if _met(actual, t["comparison"], t["value"])
                                                           else "behind")), "flag")])
    if rows:
        s2.add(Table("表1 年度目标完成情况" if zh else "Table 1 Annual targets",
                     ["地区", "指标", "年度目标", "累计完成", "达标概率（%）", "状态"] if zh else
                     ["Region", "Indicator", "Target", "Year to date", "Probability (%)", "Status"], rows,
                     note=("注：达标概率为模型模拟的全年达到目标的概率。" if zh else
                           "Probability: simulated chance of meeting the target over the full year. ") +
                     (tx(lang, "odds_missing") if any(r[4].text == "—" for r in rows) else "")))
    else:
        s2.add(Para(ph.NOT_AVAILABLE[lang], "note"))
    # 三、排名
    s3 = Section("三、分区排名" if zh else "3. Rankings")
    growth = [(d.code, official(inputs, "iva/ytd_yoy", d.code, p)) for d in ref.DISTRICTS]
    growth = sorted([(c, v) for c, v in growth if not isnan(v)], key=lambda cv: -cv[1])
    if growth:
        s3.add(Para(("规上工业增加值累计增速“" + ph.updown_count([v for _, v in growth], lang) + "”。") if zh else
                    ("Value-added growth year to date: " + ph.updown_count([v for _, v in growth], lang) + ".")))
        s3.add(Table("表2 分区规上工业增加值累计增速排名（%）" if zh else "Table 2 Districts ranked by value-added growth",
                     ["排名", "辖区", "累计增速", "PMI（季末月）"] if zh else ["Rank", "District", "Growth ytd",
                                                                      "PMI (last month)"],
                     [[text_cell(str(i)), text_cell(district_name(c, lang)),
                       num_cell(v, src="official", key=f"iva/ytd_yoy@{c}", period=p),
                       flag_low_n(num_cell(inputs.value(f"pmi/headline/district/{c}", p), src="series",
                                           key=f"pmi/headline/district/{c}", period=p),
                                  inputs.value(f"pmi/headline/district/{c}", p, "n"), opts.min_respondents)]
                      for i, (c, v) in enumerate(growth, start=1)],
                     note=tx(lang, "low_n_note", n=opts.min_respondents)))
    else:
        s3.add(Para(ph.NOT_AVAILABLE[lang], "note"))
    # 四、调度清单
    s4 = Section("四、调度清单" if zh else "4. Dispatch list")
    if behind:
        by_region: dict[str, list[str]] = {}
        for r, i, a, tv in behind:
            name = _name(i, lang) if zh else _name(i, lang)[0].lower() + _name(i, lang)[1:]
            by_region.setdefault(r, []).append(f"{name}（{ph.fmt(a)}，目标{ph.fmt(tv)}）" if zh else
                                               f"{name} ({ph.fmt(a)}, target {ph.fmt(tv)})")
        parts = [f"{('全市' if zh else 'City') if r == CITY_CODE else district_name(r, lang)}"
                 f"{'：' if zh else ': '}{('、' if zh else ', ').join(items)}" for r, items in by_region.items()]
        s4.add(Para(("未达到年度目标进度的地区和指标：" if zh else "Regions and indicators behind their targets: ") +
                    ("；" if zh else "; ").join(parts) + ("。" if zh else ".")))
    weak = [(k.code, inputs.value(f"pmi/headline/key_sector/{k.code}", p)) for k in ref.KEY_SECTORS]
    weak = sorted([(c, v) for c, v in weak if not isnan(v) and ph.round_half_up(v) < 50], key=lambda cv: cv[1])
    if weak:
        def few(code: str) -> str:  # a sector's PMI from fewer than compute.min_respondents firms is flagged
            n = inputs.value(f"pmi/headline/key_sector/{code}", p, "n")
            return "" if isnan(n) or n >= opts.min_respondents else (
                f"，{tx(lang, 'low_n')}，{int(n)}家" if zh else f", {tx(lang, 'low_n')}: {int(n)} firms")

        s4.add(Para(("PMI低于临界点的重点行业：" if zh else "Key sectors with a PMI below 50: ") +
                    ("、" if zh else ", ").join(f"{sector_name(c, lang)}（{ph.fmt(v)}%{few(c)}）" if zh else
                                                f"{sector_name(c, lang)} ({ph.fmt(v)}{few(c)})" for c, v in weak) +
                    ("。" if zh else "."), attrs={"src": "series", "period": p,
                                                 "keys": ",".join(f"pmi/headline/key_sector/{c}" for c, _ in weak)}))
    ents = inputs.call("stopped", publications_q.stopped_enterprises, p=p)
    if ents:
        s4.add(Table("表3 停产、半停产企业调度清单" if zh else "Table 3 Stopped and semi-stopped enterprises",
                     ["序号", "企业名称", "统一社会信用代码", "辖区", "状态", "产能利用率（%）", "联系人"] if zh else
                     ["No.", "Enterprise", "Credit code", "District", "Status", "Utilisation (%)", "Contact"],
                     [[text_cell(str(i), "nowrap"),
                       text_cell(e["name_zh"] if zh or not e["name_en"] else e["name_en"]),
                       text_cell(e["uscc"]), text_cell(district_name(e["district_code"], lang), "nowrap"),
                       text_cell(("停产" if e["production_status"] == "stopped" else "半停产") if zh else
                                 e["production_status"].replace("_", "-"), "nowrap"),
                       num_cell(e["capacity_utilisation"], src="enterprise_month", key=e["uscc"], period=p),
                       text_cell(_contact(e), "nowrap")] for i, e in enumerate(ents, start=1)],
                     note=("注：联系人为企业登记的联系人，“—”表示尚未登记，由各区工信部门补充。" if zh else
                           "Enterprise names are the registered (Chinese) names where no English name is on file; "
                           "contacts are those the enterprises registered, — where none is on file (the districts "
                           "fill them in).")))
    else:
        s4.add(Para(("本季度末月无停产、半停产样本企业。") if zh else "No stopped or semi-stopped sample enterprise.",
                    "note"))
    lamps = lamp_table(inputs, p, lang, "表4 季末月景气信号灯" if zh else "Table 4 Signal lamps, last month")
    if lamps is not None:
        s4.add(lamps)
    # 五、上季度事项
    s5 = Section("五、上季度调度事项跟踪" if zh else "5. Actions due from last quarter")
    prev_q = period - 1
    prev_last = str(pd.Period(year=prev_q.year, month=prev_q.quarter * 3, freq="M"))
    before = inputs.call("stopped_prev", publications_q.stopped_enterprises_brief, p=prev_last)
    now_status = {r["uscc"]: r["status"] for r in inputs.call(
        "status_now", publications_q.production_status_of, p=p)}
    if before:
        resumed = [b for b in before if now_status.get(b["uscc"]) == "normal"]
        s5.add(Para((f"上季度末列入调度清单的{len(before)}家停产、半停产企业中，{len(resumed)}家已恢复正常生产，"
                     f"{len(before) - len(resumed)}家仍需跟踪。") if zh else
                    (f"Of {len(before)} enterprises on last quarter's list, {len(resumed)} resumed normal production and "
                     f"{len(before) - len(resumed)} still need follow-up.")))
    else:
        s5.add(Para(("上季度调度清单：" + ph.NOT_AVAILABLE[lang] + "。") if zh else
                    ("Last quarter's list: " + ph.NOT_AVAILABLE[lang] + "."), "note"))
    doc = Document("dispatch", f"{period.year}Q{period.quarter}", lang, title, opts.issuer, opts.release_line,
                   [s1, s2, s3, s4, s5])
    if not opts.font.cjk and zh:
        doc.notices.append(NO_CJK_NOTE[lang])
    return doc
