"""The monthly PMI release (《YYYY年M月全市制造业采购经理指数运行情况》), after the NBS release (METHODOLOGY 5.1).

Structure: headline sentence; size breakdown; the five components of the PMI, one sentence each in the
release's fixed wording; the other eight indices; key sectors; districts with standard errors and
low-sample flags; Figure 1 (the PMI over 13 months with the 50 line); Table 1 (PMI and its five
components) and Table 2 (the other eight indices) over 13 months; notes on definitions, coverage,
sample, method and seasonal adjustment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from .. import reference as ref
from ..exceptions import PublishError
from ..store import Store
from . import phrasing as ph
from .charts import NO_CJK_NOTE, line_chart
from .common import (
    BuildOptions,
    district_name,
    industry_name,
    isnan,
    month_label,
    month_short,
    months_back,
    question_name,
    sector_name,
    size_name,
)
from .document import Document, Figure, Para, Section, Table, chart_attrs, flag_low_n, num_cell, text_cell
from .sources import Inputs
from .texts import text as tx

__all__ = ["build_pmi", "pmi_table", "PMI_TABLE_BREAKDOWNS", "TABLE1", "TABLE2"]

#: Table 1: the PMI and its five components (NBS order).
TABLE1 = ("headline", "production", "new_orders", "raw_materials_inventory", "employment", "supplier_delivery_time")
#: Table 2: the other eight indices (NBS order).
TABLE2 = ("new_export_orders", "imports", "purchase_quantity", "input_prices", "output_prices",
          "finished_goods_inventory", "backlog_orders", "expectations")
_COMPONENTS = TABLE1[1:]


def _key(code: str) -> str:
    return f"pmi/{code}"


def _adjusted(inputs: Inputs, key: str, periods: list[str]) -> bool:
    frame = inputs.series(key)
    idx = [pd.Period(p, "M") for p in periods if pd.Period(p, "M") in frame.index]
    return bool(idx) and bool(frame.loc[idx, "sa"].notna().all())


def _facts(key: str, period: str, prev: str, src: str = "series", se_change: float | None = None) -> dict[str, str]:
    out = {"src": src, "key": key, "period": period, "prev": prev}
    if se_change is not None:
        out["se-change"] = f"{se_change:.4f}"
    return out


def se_change(inputs: Inputs, key: str, period: str, prev: str) -> float | None:
    """Standard error of the month-on-month change of ``key`` (:func:`.phrasing.se_of_change`; None without SEs)."""
    return ph.se_of_change(inputs.value(key, period, "se"), inputs.value(key, prev, "se"))


def _sentence(inputs: Inputs, code: str, key: str, name: str, period: str, prev: str, lang: ph.Lang) -> Para | None:
    cur = inputs.value(key, period)
    if isnan(cur):
        return None
    before = inputs.value(key, prev)
    se = se_change(inputs, key, period, prev)
    return Para(ph.component_sentence(code, name, cur, None if isnan(before) else before, lang, se),
                attrs=_facts(key, period, prev, se_change=se))


def _history_table(inputs: Inputs, codes: tuple[str, ...], months: list[str], caption: str, lang: ph.Lang) -> Table:
    header = ["月份" if lang == "zh" else "Month"] + [question_name(c, lang, index=False) if c != "headline"
                                                     else "PMI" for c in codes]
    rows = []
    for p in reversed(months):
        rows.append([text_cell(p)] + [num_cell(inputs.value(_key(c), p), src="series", key=_key(c), period=p)
                                      for c in codes])
    return Table(caption, header, rows)


def build_pmi(inputs: Inputs, period: pd.Period, opts: BuildOptions) -> Document:
    """Build the monthly PMI release for ``period``.

    Raises
    ------
    PublishError
        When the store has no PMI for the month.
    """
    lang = opts.lang
    zh = lang == "zh"
    p, prev = str(period), str(period - 1)
    inputs.prefetch([_key(c) for c in TABLE1 + TABLE2] + ["response_rate"] +
                    [f"pmi/headline/size/{s}" for s in ("large", "medium", "small")] +
                    [f"pmi/headline/key_sector/{k.code}" for k in ref.KEY_SECTORS] +
                    [f"pmi/headline/district/{d.code}" for d in ref.DISTRICTS])
    head = inputs.value("pmi/headline", p)
    if isnan(head):
        raise PublishError(f"the store has no PMI (pmi/headline) for {p}; run `imon compute --period {p}` "
                           "(and `imon adjust`) first, or choose a month with data")
    months = months_back(period, 13)
    adjusted = _adjusted(inputs, "pmi/headline", months)
    sa_zh, sa_en = ("（经季节调整）", " (seasonally adjusted)") if adjusted else ("（未经季节调整）", " (not seasonally adjusted)")

    s1 = Section("一、制造业采购经理指数运行情况" if zh else "1. Manufacturing PMI")
    before = inputs.value("pmi/headline", prev)
    bef = None if isnan(before) else before
    hse = se_change(inputs, "pmi/headline", p, prev)
    if zh:
        text = (f"{month_short(period, lang)}，{opts.city}制造业采购经理指数（PMI）"
                f"{ph.index_sentence_tail(head, bef, lang, hse)}，{ph.interpretation('headline', head, bef, lang, hse)}。")
    else:
        text = (f"{month_short(period, lang)}, the manufacturing purchasing managers' index (PMI) of {opts.city} "
                f"{ph.index_sentence_tail(head, bef, lang, hse)}, "
                f"{ph.interpretation('headline', head, bef, lang, hse)}.")
    s1.add(Para(text, attrs=_facts("pmi/headline", p, prev, se_change=hse)))

    # size breakdown
    parts = []
    for s in ("large", "medium", "small"):
        key = f"pmi/headline/size/{s}"
        v = inputs.value(key, p)
        if isnan(v):
            continue
        b = inputs.value(key, prev)
        parts.append((s, key, v, None if isnan(b) else b, se_change(inputs, key, p, prev)))
    if parts:
        clauses = [f"{size_name(s, lang)}PMI{ph.index_sentence_tail(v, b, lang, se)}" if zh else
                   f"the PMI of {size_name(s, lang).lower()} enterprises {ph.index_sentence_tail(v, b, lang, se)}"
                   for s, _, v, b, se in parts]
        text = ("从企业规模看，" + "；".join(clauses) + "。") if zh else ("By size, " + "; ".join(clauses) + ".")
        s1.add(Para(text, attrs={"src": "series", "keys": ",".join(k for _, k, _, _, _ in parts), "period": p,
                                 "prev": prev}))

    # components
    above = [question_name(c, lang) for c in _COMPONENTS if ph.round_half_up(inputs.value(_key(c), p)) > 50]
    below = [question_name(c, lang) for c in _COMPONENTS if ph.round_half_up(inputs.value(_key(c), p)) < 50]
    at = [question_name(c, lang) for c in _COMPONENTS if ph.round_half_up(inputs.value(_key(c), p)) == 50]
    if zh:
        bits = []
        if above:
            bits.append("、".join(above) + "高于临界点")
        if at:
            bits.append("、".join(at) + "位于临界点")
        if below:
            bits.append("、".join(below) + "低于临界点")
        s1.add(Para("从分类指数看，在构成制造业PMI的5个分类指数中，" + "，".join(bits) + "。"))
    else:
        bits = []
        for names, where in ((above, "above 50"), (at, "at 50"), (below, "below 50")):
            if names:
                lowered = [n.lower() for n in names]
                listed = lowered[0] if len(lowered) == 1 else ", ".join(lowered[:-1]) + " and " + lowered[-1]
                bits.append(f"{listed} {'was' if len(lowered) == 1 else 'were'} {where}")
        s1.add(Para("Of the five components of the PMI, " + "; ".join(bits) + "."))
    for c in _COMPONENTS:
        para = _sentence(inputs, c, _key(c), question_name(c, lang) if zh else question_name(c, lang).lower(),
                         p, prev, lang)
        if para:
            s1.add(para)

    s2 = Section("二、其他相关指数" if zh else "2. Other indices")
    for c in TABLE2:
        para = _sentence(inputs, c, _key(c), question_name(c, lang) if zh else question_name(c, lang).lower(),
                         p, prev, lang)
        if para:
            s2.add(para)

    # key sectors
    s3 = Section("三、重点行业" if zh else "3. Key sectors")
    clauses, keys = [], []
    for k in ref.KEY_SECTORS:
        key = f"pmi/headline/key_sector/{k.code}"
        v = inputs.value(key, p)
        if isnan(v):
            continue
        b = inputs.value(key, prev)
        keys.append(key)
        name = sector_name(k.code, lang)
        se = se_change(inputs, key, p, prev)
        clauses.append(f"{name}PMI{ph.index_sentence_tail(v, None if isnan(b) else b, lang, se)}" if zh else
                       f"{name} {ph.index_sentence_tail(v, None if isnan(b) else b, lang, se)}")
    if clauses:
        s3.add(Para(("从重点行业看，" + "；".join(clauses) + "。") if zh else
                    ("By key sector: " + "; ".join(clauses) + "."),
                    attrs={"src": "series", "keys": ",".join(keys), "period": p, "prev": prev}))
    else:
        s3.add(Para(ph.NOT_AVAILABLE[lang], kind="note"))

    # districts
    s4 = Section("四、分区情况" if zh else "4. Districts")
    rows, above_n, shown = [], 0, 0
    for d in ref.DISTRICTS:
        key = f"pmi/headline/district/{d.code}"
        v = inputs.value(key, p)
        b = inputs.value(key, prev)
        se = inputs.value(key, p, "se")
        n = inputs.value(key, p, "n")
        if isnan(v):
            continue
        shown += 1
        above_n += ph.round_half_up(v) > 50
        low = not isnan(n) and n < opts.min_respondents
        change = None if isnan(b) else ph.round_half_up(ph.round_half_up(v) - ph.round_half_up(b))
        sec = se_change(inputs, key, p, prev)
        quiet = change is not None and change != 0 and not ph.significant(v, b, sec)
        remarks = ([tx(lang, "low_n")] if low else []) + ([tx(lang, "not_significant_short")] if quiet else [])
        rows.append([text_cell(district_name(d.code, lang)),
                     flag_low_n(num_cell(v, src="series", key=key, period=p), n, opts.min_respondents),
                     num_cell(change, src="change", key=key, period=p),
                     num_cell(se, src="series", key=key, period=p, col="se", digits=2),
                     num_cell(n, src="series", key=key, period=p, col="n", digits=0),
                     text_cell(("；" if zh else "; ").join(remarks), "flag")])
    if rows:
        s4.add(Para(f"全市{shown}个区中，{above_n}个区PMI高于临界点，{shown - above_n}个区位于或低于临界点。" if zh else
                    f"Of {shown} districts, {above_n} had a PMI above 50 and {shown - above_n} at or below 50."))
        s4.add(Table("表3 分区制造业PMI" if zh else "Table 3 PMI by district",
                     ["辖区", "PMI", "比上月增减", "标准误", "样本数", "备注"] if zh else
                     ["District", "PMI", "Change", "Std. error", "n", "Flag"], rows,
                     note=(f"注：样本数少于{opts.min_respondents}家的区标注“样本不足”（数值后加“*”），其指数仅供参考；"
                           "标准误按分层线性化估计。" if zh else f"Districts with fewer than {opts.min_respondents} "
                           "respondents are flagged (* after the index); their index is indicative only. Standard "
                           "errors: linearised stratified estimator. ") + tx(lang, "significance_note")))
    else:
        s4.add(Para(ph.NOT_AVAILABLE[lang], kind="note"))

    # chart and tables
    s5 = Section("五、图表" if zh else "5. Charts and tables")
    vals = inputs.values("pmi/headline", months)
    png = line_chart([m[2:] for m in months], [("PMI", vals)], font=opts.font, threshold=50.0,
                     threshold_label="临界点 50" if opts.font.cjk and zh else "50 = no change",
                     ylabel="%")
    s5.add(Figure(("图1 制造业PMI" + sa_zh) if zh else ("Figure 1 Manufacturing PMI" + sa_en), png,
                  attrs=chart_attrs(["pmi/headline"], months, [vals], ["PMI"])))
    s5.add(_history_table(inputs, TABLE1, months, ("表1 制造业PMI及构成指数" + sa_zh + "（%）") if zh else
                          ("Table 1 PMI and its components" + sa_en), lang))
    s5.add(_history_table(inputs, TABLE2, months, ("表2 制造业PMI其他相关指标情况" + sa_zh + "（%）") if zh else
                          ("Table 2 Other indices" + sa_en), lang))

    n_resp = inputs.value("pmi/headline", p, "n")
    rate = inputs.value("response_rate", p)
    notes = Section("附注" if zh else "Notes")
    if zh:
        notes.add(
            Para("1. 主要指标解释：采购经理指数（PMI）是通过对企业采购经理的月度调查结果统计汇总、编制而成的指数，"
                 "涵盖企业采购、生产、流通等各个环节。PMI高于50%时，反映制造业较上月扩张；低于50%，反映制造业较上月收缩。", "note"),
            Para("2. 统计范围：调查涉及全市制造业样本企业，覆盖国民经济行业分类（GB/T 4754-2017）制造业门类的行业大类和全市11个区。",
                 "note"),
            Para(f"3. 调查方法：按行业和规模分层抽样，企业填报月度调查问卷。本月有效回收问卷{ph.fmt(n_resp, 0)}份"
                 f"{'' if isnan(rate) else '，回收率' + ph.fmt(rate) + '%'}；无应答在行业×规模层内重新加权处理，不作“不变”填补。",
                 "note", {"src": "series", "key": "pmi/headline", "period": p, "col": "n", "digits": "0"}),
            Para("4. 计算方法：分类指数采用扩散指数方法，即正向回答的企业个数百分比加上回答不变的百分比的一半（加权）。"
                 "PMI由5个分类指数加权而成：新订单30%、生产25%、从业人员20%、供应商配送时间15%（逆指数，取100减去该指数）、"
                 "原材料库存10%。", "note"),
            Para("5. 季节调整：月度调查受季节因素影响，数据波动较大。" +
                 ("本发布中的指数均为季节调整后的数据（X-13ARIMA-SEATS，含春节和工作日效应），PMI由调整后的分类指数合成。"
                  if adjusted else "本期数据尚未经季节调整，发布的为原始指数。"), "note"),
        )
    else:
        notes.add(
            Para("1. Definition: the PMI summarises a monthly survey of purchasing managers. Above 50 it indicates "
                 "expansion against the previous month; below 50, contraction.", "note"),
            Para("2. Coverage: the city's sample of manufacturing enterprises across the divisions of GB/T "
                 "4754-2017 section C and the 11 districts.", "note"),
            Para(f"3. Survey: stratified by division and size. {ph.fmt(n_resp, 0)} valid returns this month"
                 f"{'' if isnan(rate) else ' (response rate ' + ph.fmt(rate) + '%)'}; non-response is handled by "
                 "reweighting within division x size cells, never by imputing 'same'.", "note",
                 {"src": "series", "key": "pmi/headline", "period": p, "col": "n", "digits": "0"}),
            Para("4. Method: each index is a weighted diffusion index, the share answering 'higher' plus half the "
                 "share answering 'same'. PMI = 0.30 new orders + 0.25 production + 0.20 employment + 0.15 "
                 "(100 - suppliers' delivery time) + 0.10 stocks of inputs.", "note"),
            Para("5. Seasonal adjustment: " + ("the indices are seasonally adjusted (X-13ARIMA-SEATS with Spring "
                                               "Festival and working-day effects); the PMI is rebuilt from the "
                                               "adjusted components." if adjusted else
                                               "the indices of this release are not yet seasonally adjusted."),
                 "note"),
        )
    doc = Document("pmi", p, lang,
                   (f"{month_label(period, lang)}{opts.city}制造业采购经理指数运行情况" if zh else
                    f"Manufacturing PMI of {opts.city}, {month_label(period, lang)}"),
                   opts.issuer, opts.release_line, [s1, s2, s3, s4, s5, notes])
    if not opts.font.cjk and zh:
        doc.notices.append(NO_CJK_NOTE[lang])
    return doc


#: The breakdowns :func:`pmi_table` knows.
PMI_TABLE_BREAKDOWNS = ("city", "size", "key_sector", "district", "industry")


def pmi_table(store: Store, period: pd.Period, *, breakdowns: Sequence[str], lang: str, city_name: str,
              min_respondents: int, record: dict[str, Any] | None = None, as_of: str | None = None) -> pd.DataFrame:
    """The month's PMI table as the release prints it: the 14 indices by breakdown, read as the release reads
    them (:class:`monitor.publish.sources.Inputs`: the adjusted value where there is one), with the change
    computed from the values rounded to one decimal, as printed.

    Parameters
    ----------
    breakdowns
        Any of :data:`PMI_TABLE_BREAKDOWNS`.
    record
        The inputs recorded by a publication (read its vintages), or None.
    as_of
        A vintage limit (ISO timestamp) applied to every series when ``record`` is None.

    Returns
    -------
    pandas.DataFrame
        ``breakdown, code, name, index, index_name, value, previous, change, se, n, low_n, adjusted``; empty
        when the month has no PMI.

    Raises
    ------
    ValueError
        An unknown breakdown.
    """
    codes = {"city": [""], "size": ["large", "medium", "small"], "key_sector": [k.code for k in ref.KEY_SECTORS],
             "district": [d.code for d in ref.DISTRICTS], "industry": [i.code for i in ref.INDUSTRIES]}
    unknown = [b for b in breakdowns if b not in codes]
    if unknown:
        raise ValueError(f"unknown breakdown(s) {unknown}; choose among {', '.join(codes)}")
    names: dict[str, Callable[[str], str]] = {
        "city": lambda c: city_name, "size": lambda c: size_name(c, lang), "key_sector": lambda c: sector_name(c, lang),
        "district": lambda c: district_name(c, lang), "industry": lambda c: industry_name(c, lang)}
    indices = TABLE1 + TABLE2

    def key(index: str, breakdown: str, code: str) -> str:
        return f"pmi/{index}" + ("" if breakdown == "city" else f"/{breakdown}/{code}")

    if record is None and as_of is not None:
        wanted = [key(i, b, c) for b in breakdowns for c in codes[b] for i in indices]
        record = {"series": {k: as_of for k in wanted}, "queries": {}}
    inputs = Inputs(store, record)
    rows = []
    for b in breakdowns:
        for c in codes[b]:
            for i in indices:
                k = key(i, b, c)
                v = inputs.value(k, str(period))
                if math.isnan(v):
                    continue
                before = inputs.value(k, str(period - 1))
                n = inputs.value(k, str(period), "n")
                frame = inputs.series(k)
                sa = frame["sa"].get(period) if period in frame.index else None
                change = (float("nan") if math.isnan(before) else
                          ph.round_half_up(ph.round_half_up(v) - ph.round_half_up(before)))
                rows.append({"breakdown": b, "code": c or "city", "name": names[b](c), "index": i,
                             "index_name": question_name(i, lang), "value": v, "previous": before,
                             "change": change, "se": inputs.value(k, str(period), "se"),
                             "n": pd.NA if math.isnan(n) else int(n),
                             "low_n": (not math.isnan(n)) and n < min_respondents,
                             "adjusted": sa is not None and pd.notna(sa)})
    return pd.DataFrame(rows)
