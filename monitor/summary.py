"""What the store holds: the panel by district, division and size; response rates by month."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .store import Store
from .store import survey as survey_q
from .textout import table_lines

__all__ = ["PanelSummary", "panel_summary", "format_summary", "SURVEY_DEADLINE_DAY"]

#: Questionnaires for month t are due by the end of this day of month t.
SURVEY_DEADLINE_DAY = 25

_LABELS = {
    "zh": {
        "title": "样本面板（{period}）", "district": "辖区", "industry": "行业大类", "size": "规模",
        "active": "在样本", "ever": "累计入样", "others": "其他行业", "response": "按月回收率",
        "period": "月份", "sample": "样本", "responded": "回收", "rate": "回收率", "late": "迟报",
        "range": "{first}至{last}共{n}个月：回收率最低{min:.1%}（{min_at}），平均{mean:.1%}",
        "store": "数据库", "size_on_disk": "大小", "outputs": "输出目录", "total": "合计",
    },
    "en": {
        "title": "Sample panel ({period})", "district": "District", "industry": "Division", "size": "Size",
        "active": "active", "ever": "ever", "others": "other divisions", "response": "Response by month",
        "period": "month", "sample": "sample", "responded": "returned", "rate": "rate", "late": "late",
        "range": "{first} to {last}, {n} months: lowest {min:.1%} ({min_at}), mean {mean:.1%}",
        "store": "Store", "size_on_disk": "size", "outputs": "Outputs", "total": "total",
    },
}


@dataclass
class PanelSummary:
    """Tables describing the panel in a store (see :func:`panel_summary`)."""

    period: str
    by_district: pd.DataFrame
    by_industry: pd.DataFrame
    by_size: pd.DataFrame
    response: pd.DataFrame
    store_url: str
    store_bytes: int | None


def panel_summary(store: Store, *, lang: str = "zh") -> PanelSummary:
    """Summarise the panel of ``store`` as of its last surveyed month.

    Returns
    -------
    PanelSummary
        ``by_*`` frames have a name column plus ``active`` (firms in the panel
        in the last month) and ``ever``; ``response`` has, per month, ``sample``,
        ``responded``, ``rate`` and ``late`` (returned after the deadline).
    """
    ent = survey_q.panel_register(store, lang=lang)
    returns = survey_q.first_returns(store)
    if returns.empty:
        periods = pd.PeriodIndex([], freq="M")
    else:
        periods = pd.period_range(returns["period"].min(), returns["period"].max(), freq="M")
    last = str(periods[-1]) if len(periods) else ""
    end = ent["panel_end"].fillna("9999-12")
    ent["active"] = (ent["panel_start"] <= last) & (end >= last)

    def breakdown(col: str, order: str | None = None) -> pd.DataFrame:
        g = ent.groupby(col).agg(active=("active", "sum"), ever=("id", "count"))
        if order:
            g = g.join(ent.groupby(col)[order].first()).sort_values(order).drop(columns=order)
        else:
            g = g.sort_values(["active", "ever"], ascending=False)
        return g.reset_index()

    rows = []
    if len(periods):
        returns["first_submitted"] = pd.to_datetime(returns["first_submitted"])
        deadline = {str(p): p.start_time + pd.Timedelta(days=SURVEY_DEADLINE_DAY) for p in periods}
        returns["late"] = returns["first_submitted"] >= returns["period"].map(deadline)
        got = returns.groupby("period").agg(responded=("enterprise_id", "count"), late=("late", "sum"))
        for p in periods:
            key = str(p)
            sample = int(((ent["panel_start"] <= key) & (end >= key)).sum())
            responded = int(got["responded"].get(key, 0))
            rows.append((key, sample, responded, responded / sample if sample else float("nan"),
                         int(got["late"].get(key, 0))))
    response = pd.DataFrame(rows, columns=["period", "sample", "responded", "rate", "late"])
    return PanelSummary(last, breakdown("district"), breakdown("industry"), breakdown("size", "size_rank"), response,
                        store.url, store.size_bytes())


def format_summary(summary: PanelSummary, *, lang: str = "zh", outputs: Path | None = None,
                   top_industries: int = 10, months: int = 12) -> str:
    """Render a :class:`PanelSummary` as the short text ``imon demo`` prints."""
    lab = _LABELS[lang]
    lines = [lab["title"].format(period=summary.period)]
    for key, frame in (("district", summary.by_district), ("size", summary.by_size)):
        total = pd.DataFrame([[lab["total"], frame["active"].sum(), frame["ever"].sum()]], columns=frame.columns)
        lines += table_lines(pd.concat([frame, total]), [lab[key], lab["active"], lab["ever"]]) + [""]
    ind = summary.by_industry.drop(columns="industry_code", errors="ignore")
    top = ind.head(top_industries)
    rest = ind.iloc[top_industries:]
    if len(rest):
        top = pd.concat([top, pd.DataFrame([[lab["others"], rest["active"].sum(), rest["ever"].sum()]],
                                           columns=top.columns)])
    lines += table_lines(top, [lab["industry"], lab["active"], lab["ever"]]) + [""]
    resp = summary.response
    if len(resp):
        lines.append(lab["response"])
        shown = resp.tail(months).assign(rate=lambda f: f["rate"].map("{:.1%}".format))
        lines += table_lines(shown, [lab["period"], lab["sample"], lab["responded"], lab["rate"], lab["late"]])
        worst = resp.loc[resp["rate"].idxmin()]
        lines.append("  " + lab["range"].format(first=resp["period"].iloc[0], last=resp["period"].iloc[-1],
                                                 n=len(resp), min=worst["rate"], min_at=worst["period"],
                                                 mean=resp["rate"].mean()))
        lines.append("")
    size = f" ({summary.store_bytes / 1e6:,.0f} MB)" if summary.store_bytes else ""
    lines.append(f"{lab['store']}: {summary.store_url}{size}")
    if outputs is not None:
        lines.append(f"{lab['outputs']}: {outputs}")
    return "\n".join(lines)
