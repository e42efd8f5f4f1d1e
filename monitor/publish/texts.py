"""The publications' catalogue of fixed wording added by issue 13 (significance, sample flags, notes), in
Chinese (default) and English: builders look phrases up here instead of writing ``if zh else`` inline."""

from __future__ import annotations

__all__ = ["T", "text"]

T: dict[str, dict[str, str]] = {
    "zh": {
        # a change within its sampling error (|change| < its standard error)
        "not_significant": "变化在抽样误差范围内，与上月基本持平",
        "not_significant_short": "变化不显著",
        "low_n": "样本不足",
        "low_n_mark": "*",
        "low_n_note": "注：标“*”的数值样本数少于{n}家，仅供参考。",
        "significance_note": "比上月增减的绝对值小于其标准误（两月标准误的平方和开方）时，表述为“基本持平”。",
        "city": "全市",
        "total_row": "全市合计",
        "targets_note": "注：累计增速类目标以12月累计数考核，占比和能耗类目标以年度数考核；“—”表示统计部门尚未发布全年数。",
        "jan_feb_note": "注：1月不单独计算增速，2月为1-2月累计增速。",
        "no_alerts": "全年未触发预警。",
        "synthetic_comparison": "注：全省、全国数据为演示用合成数据（demo），不是官方发布数。",
        "comparison_missing": "注：本库暂无全省、全国可比数据，比较列从略。",
        "odds_missing": "注：“—”表示该季度末未测算该目标的达标概率。",
        "nowcast_published": "本月规上工业增加值已公布（{v}%），不再作即时预测。",
        "contribution_note": ("注：用电拉动=该区匹配样本企业用电量同比增量÷上年同月全市匹配样本用电量×100，"
                              "各区拉动之和等于全市样本企业用电量增速。"),
    },
    "en": {
        "not_significant": "within the sampling error (not significant)",
        "not_significant_short": "not significant",
        "low_n": "small sample",
        "low_n_mark": "*",
        "low_n_note": "* fewer than {n} respondents: indicative only.",
        "significance_note": ("A change smaller than its standard error (the root of the sum of the two months' "
                              "squared standard errors) is described as not significant."),
        "city": "City",
        "total_row": "City total",
        "targets_note": ("Year-to-date targets are judged on December's cumulative figure, shares and energy "
                         "intensity on the annual figure; — = the full-year figure is not published yet."),
        "jan_feb_note": "January has no growth rate of its own; February's is January-February cumulative.",
        "no_alerts": "No alert was raised during the year.",
        "synthetic_comparison": "Province and country figures are synthetic demo data, not official releases.",
        "comparison_missing": "The store has no province or country figures; the comparison columns are left out.",
        "odds_missing": "— = no probability was computed for this target at the end of the quarter.",
        "nowcast_published": "Value added for this month is published ({v}%); no nowcast is made for it.",
        "contribution_note": ("Contribution = the district's matched-sample change in electricity on the year / "
                              "the city's matched-sample use a year earlier x 100; the districts' contributions "
                              "add up to the city's growth."),
    },
}


def text(lang: str, name: str, **fields: object) -> str:
    """The catalogue phrase ``name`` in ``lang`` with ``fields`` filled in."""
    return T["zh" if lang == "zh" else "en"][name].format(**fields)
