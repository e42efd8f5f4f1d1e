"""User-facing words of the warnings, in Chinese (default) and English."""

from __future__ import annotations

import json
from typing import Any

from ..reference import CITY_CODE, DISTRICTS, QUESTIONS

__all__ = ["region_name", "series_label", "describe", "rule_title", "SEVERITY", "STATE", "T"]

_DISTRICTS = {d.code: d for d in DISTRICTS}
_QUESTIONS = {q.code: q for q in QUESTIONS}

SEVERITY = {"zh": {"info": "提示", "warning": "警告", "critical": "严重"},
            "en": {"info": "info", "warning": "warning", "critical": "critical"}}
STATE = {"zh": {"firing": "预警", "repeat": "持续预警", "resolved": "已解除"},
         "en": {"firing": "firing", "repeat": "still firing", "resolved": "resolved"}}

#: Fixed phrases of the digests.
T: dict[str, dict[str, str]] = {
    "zh": {
        "subject": "【工业经济预警】{group}：{firing} 条预警，{resolved} 条解除（{period}）",
        "title": "工业经济运行预警",
        "intro": "以下为本次扫描发现的预警（数据月份 {period}）。请及时核实并跟进处置。",
        "firing": "新预警 / 持续预警", "resolved": "已解除的预警",
        "col_severity": "级别", "col_rule": "规则", "col_subject": "对象", "col_detail": "说明", "col_month": "月份",
        "chart": "图：相关指标近期走势（虚线为预警阈值）",
        "chart_counts": "图：本次预警数量（按规则）",
        "footer": "本邮件由工业经济监测平台（industry-monitor）自动发送，请勿直接回复。静默某条预警：imon alerts silence。",
        "city": "全市", "leaders": "市领导（全市汇总）",
        "low_n": "（样本不足：{n}家企业应答，少于{min}家，数值仅供参考）",
    },
    "en": {
        "subject": "[Industry early warning] {group}: {firing} firing, {resolved} resolved ({period})",
        "title": "Industrial economy early warning",
        "intro": "The alerts below were found by this scan (data month {period}). Please check and follow up.",
        "firing": "New and continuing alerts", "resolved": "Resolved alerts",
        "col_severity": "Severity", "col_rule": "Rule", "col_subject": "Subject", "col_detail": "Detail",
        "col_month": "Month",
        "chart": "Chart: recent values of the series concerned (dashed: the alert threshold)",
        "chart_counts": "Chart: alerts of this scan by rule",
        "footer": "Sent automatically by industry-monitor; do not reply. To silence an alert: imon alerts silence.",
        "city": "City", "leaders": "Leaders (city summary)",
        "low_n": " (small sample: {n} respondents, fewer than {min}; indicative only)",
    },
}

_RULE_TITLES = {
    "zh": {"level": "指标越限", "change": "指数显著下降", "power": "企业用电低于基线", "no_response": "企业连续未填报",
           "target_path": "累计增速落后目标进度", "target_odds": "完成年度目标概率偏低", "response_rate": "问卷回收率偏低",
           "leading_turn": "先行指数拐头向下"},
    "en": {"level": "threshold crossed", "change": "significant fall", "power": "electricity below baseline",
           "no_response": "no survey answer", "target_path": "behind the target path", "target_odds": "target at risk",
           "response_rate": "low response rate", "leading_turn": "leading indicator turned down"},
}

_MEASURES = {
    "zh": {"electricity/yoy": "用电量同比(%)", "electricity/total": "用电量", "response_rate": "问卷回收率(%)",
           "iva/ytd_yoy": "规上工业增加值累计增速(%)", "output/ytd_yoy": "规上工业总产值累计增速(%)",
           "investment/industrial/ytd_yoy": "工业投资累计增速(%)",
           "investment/tech_transformation/ytd_yoy": "技术改造投资累计增速(%)", "pmi/headline": "制造业PMI",
           "cli": "综合先行指数"},
    "en": {"electricity/yoy": "electricity y/y (%)", "electricity/total": "electricity", "response_rate":
           "response rate (%)", "iva/ytd_yoy": "value added, ytd growth (%)", "output/ytd_yoy": "output, ytd growth (%)",
           "investment/industrial/ytd_yoy": "industrial investment, ytd growth (%)",
           "investment/tech_transformation/ytd_yoy": "technical-transformation investment, ytd growth (%)",
           "pmi/headline": "manufacturing PMI", "cli": "composite leading indicator"},
}


def region_name(code: str | None, lang: str) -> str:
    """``天河区`` / ``Tianhe`` for a district code, the city for the city's code."""
    if code is None or code == CITY_CODE:
        return T[lang]["city"]
    d = _DISTRICTS.get(code)
    return (d.name_zh if lang == "zh" else d.name_en) if d else code


def series_label(key: str, lang: str) -> str:
    """A readable name for a series key (``pmi/new_orders/district/440106`` -> ``天河区 新订单指数``)."""
    parts = key.split("/")
    region = ""
    if "district" in parts:
        i = parts.index("district")
        region = region_name(parts[i + 1] if i + 1 < len(parts) else None, lang) + " "
        parts = parts[:i]
    elif parts[-1] == "city":
        parts = parts[:-1]
    base = "/".join(parts)
    if base in _MEASURES[lang]:
        return region + _MEASURES[lang][base]
    if parts[0] in ("pmi", "pmi_change") and len(parts) > 1 and parts[1] in _QUESTIONS:
        q = _QUESTIONS[parts[1]]
        name = q.name_zh + "指数" if lang == "zh" else q.name_en + " index"
        return region + name
    return region + base


#: Names of the default rules (:data:`monitor.alerts.rules.DEFAULT_RULES`): an e-mail names rules in its
#: language, never by their ids.
_RULE_NAMES = {
    "zh": {"pmi_contraction": "全市PMI连续低于临界点", "district_pmi_contraction": "区PMI连续低于临界点",
           "orders_below_inventory": "新订单低于产成品库存", "price_scissors": "价格剪刀差过大",
           "district_electricity_drop": "区用电量同比大幅下降", "new_orders_fall": "新订单指数显著下降",
           "enterprise_stopped": "企业停产", "enterprise_semi_stopped": "企业半停产",
           "survey_no_answer": "企业连续未填报", "target_behind_path": "累计增速落后目标进度",
           "target_odds_low": "完成年度目标概率偏低", "response_rate_low": "问卷回收率偏低"},
    "en": {"pmi_contraction": "city PMI below 50", "district_pmi_contraction": "district PMI below 50",
           "orders_below_inventory": "new orders below inventories", "price_scissors": "wide price scissors",
           "district_electricity_drop": "district electricity falling", "new_orders_fall": "new orders falling",
           "enterprise_stopped": "enterprise stopped", "enterprise_semi_stopped": "enterprise semi-stopped",
           "survey_no_answer": "no survey answer", "target_behind_path": "behind the target path",
           "target_odds_low": "target at risk", "response_rate_low": "low response rate"},
}


def rule_title(rule_name: str, kind: str, lang: str, custom: str = "") -> str:
    """The rule's title in ``lang``: its own, else the catalogue's name of a default rule, else its kind's
    title (a rule id never appears in an e-mail)."""
    return custom or _RULE_NAMES[lang].get(rule_name) or _RULE_TITLES[lang].get(kind, kind)


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{float(v):.1f}"


def describe(kind: str, value: float | None, labels: str | dict[str, Any] | None, lang: str) -> str:
    """One sentence about an alert from its kind, value and labels."""
    lab: dict[str, Any] = json.loads(labels) if isinstance(labels, str) else dict(labels or {})
    zh = lang == "zh"
    if kind == "level":
        name = series_label(lab.get("series", ""), lang)
        if lab.get("minus"):
            name = f"{name} − {series_label(lab['minus'], lang)}"
        op = lab.get("op", "<")
        months = int(lab.get("months", 1))
        if zh:
            word = "低于" if op == "<" else "高于"
            streak = f"，已连续 {months} 个月" if months > 1 else ""
            return f"{name} 为 {_fmt(value)}，{word}阈值 {_fmt(lab.get('threshold'))}{streak}"
        word = "below" if op == "<" else "above"
        streak = f" for {months} months running" if months > 1 else ""
        return f"{name} is {_fmt(value)}, {word} the threshold {_fmt(lab.get('threshold'))}{streak}"
    if kind == "change":
        name = series_label(lab.get("series", ""), lang)
        se, k = lab.get("se"), lab.get("se_multiple", 2)
        if zh:
            return f"{name} 环比变动 {_fmt(value)} 个点，超过 {k:g} 倍标准误（标准误 {_fmt(se)}）"
        return f"{name} changed by {_fmt(value)} points on the month, more than {k:g} standard errors (SE {_fmt(se)})"
    if kind == "power":
        name = str(lab.get("name_zh") if zh else (lab.get("name_en") or lab.get("name_zh")))
        pct = f"{100 * float(value or 0):.0f}%"
        status = ("停产" if float(lab.get("below", 0.5)) <= 0.1 else "半停产") if zh else (
            "stopped" if float(lab.get("below", 0.5)) <= 0.1 else "semi-stopped")
        if zh:
            return f"{name}（{lab.get('enterprise')}）用电量仅为基线的 {pct}，疑似{status}"
        return f"{name} ({lab.get('enterprise')}) drew {pct} of its baseline electricity: probably {status}"
    if kind == "no_response":
        name = str(lab.get("name_zh") if zh else (lab.get("name_en") or lab.get("name_zh")))
        n = int(lab.get("months", 2))
        if zh:
            return f"{name}（{lab.get('enterprise')}）已连续 {n} 个月未填报问卷"
        return f"{name} ({lab.get('enterprise')}) has not answered the survey for {n} months"
    if kind == "target_path":
        name = series_label(str(lab.get("indicator", "")), lang)
        if zh:
            return f"{name} 为 {_fmt(value)}%，落后于 {lab.get('year')} 年目标 {lab.get('comparison')} {_fmt(lab.get('target'))}%"
        return (f"{name} is {_fmt(value)}%, behind the {lab.get('year')} target {lab.get('comparison')} "
                f"{_fmt(lab.get('target'))}%")
    if kind == "target_odds":
        name = series_label(str(lab.get("indicator", "")), lang)
        pct = f"{100 * float(value or 0):.0f}%"
        if zh:
            return f"{name} 完成 {lab.get('year')} 年目标（{lab.get('comparison')} {_fmt(lab.get('target'))}）的概率仅 {pct}"
        return (f"the probability that {name} meets its {lab.get('year')} target ({lab.get('comparison')} "
                f"{_fmt(lab.get('target'))}) is only {pct}")
    if kind == "response_rate":
        name = series_label(lab.get("series", ""), lang)
        if zh:
            return f"截止时{name}为 {_fmt(value)}%，低于 {_fmt(lab.get('threshold'))}%"
        return f"at survey close the {name} was {_fmt(value)}%, below {_fmt(lab.get('threshold'))}%"
    if kind == "leading_turn":
        key = str(lab.get("series", ""))
        where = region_name(key.rsplit("/", 1)[-1] if "/district/" in key else CITY_CODE, lang)
        if zh:
            return (f"{where}综合先行指数于 {lab.get('turn_period')} 出现峰值后回落（{lab.get('months_ago')} 个月前），"
                    f"当前为 {_fmt(value)}")
        return (f"the composite leading indicator of {where} peaked in {lab.get('turn_period')} "
                f"({lab.get('months_ago')} months ago) and has turned down; now {_fmt(value)}")
    return f"{kind}: {_fmt(value)}"
