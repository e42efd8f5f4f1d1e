"""Render a digest as an email: plain text, HTML with the chart inline (a CID image), Chinese by default.

The chart is drawn with matplotlib's object API (no pyplot state) in a CJK font when one is installed
(Debian ``fonts-noto-cjk``); without one the chart's labels fall back to English so no glyph is lost.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

import pandas as pd

from .texts import SEVERITY, STATE, T, describe, region_name, rule_title, series_label

__all__ = ["DigestItem", "Digest", "render_digest", "cjk_font", "chart_png"]

_CJK_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
              "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


@dataclass
class DigestItem:
    """One alert in a digest."""

    event_id: int
    kind: str  # firing | repeat | resolved
    rule: str
    rule_kind: str
    severity: str
    subject: str
    region: str | None
    period: str
    value: float | None
    labels: str | None
    title_zh: str = ""
    title_en: str = ""
    n: int | None = None  # respondents behind a survey figure (its cell's n)
    low_n_min: int | None = None  # set when n is under compute.min_respondents: the figure is flagged


@dataclass
class Digest:
    """Everything one email to one recipient group says."""

    group: str
    recipients: tuple[str, ...]
    items: list[DigestItem]
    language: str = "zh"
    charts: dict[str, pd.Series] = field(default_factory=dict)  # series key -> recent values
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def period(self) -> str:
        return max((i.period for i in self.items), default="")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Path of an installed font with Chinese glyphs, or None."""
    from ..fonts import installed_fonts

    fonts = installed_fonts()
    by_name = {f.name: f.fname for f in fonts}
    for name in _CJK_NAMES:
        if name in by_name:
            return by_name[name]
    for f in fonts:
        if "CJK" in f.name:
            return f.fname
    return None


def chart_png(digest: Digest) -> bytes:
    """A PNG of the digest's series (up to four panels), or of its alerts by rule when it has no series."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font_path = cjk_font()
    lang = digest.language if font_path else "en"
    fp = FontProperties(fname=font_path) if font_path else FontProperties()
    keys = list(digest.charts)[:4]
    if keys:
        fig = Figure(figsize=(7.0, 2.1 * len(keys)), dpi=90)
        axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
        for ax, key in zip(axes, keys, strict=False):
            s = digest.charts[key]
            x = s.index.to_timestamp() if isinstance(s.index, pd.PeriodIndex) else s.index
            ax.plot(x, s.to_numpy(float), color="#1f4e79", linewidth=1.6)
            if key in digest.thresholds:
                ax.axhline(digest.thresholds[key], color="#c00000", linestyle="--", linewidth=1)
            ax.set_title(series_label(key, lang), fontproperties=fp, fontsize=10)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
    else:
        counts = pd.Series([rule_title(i.rule, i.rule_kind, lang, i.title_zh if lang == "zh" else i.title_en)
                            for i in digest.items]).value_counts().sort_values()
        fig = Figure(figsize=(7.0, 0.5 + 0.35 * max(len(counts), 1)), dpi=90)
        ax = fig.subplots()
        ax.barh(range(len(counts)), counts.to_numpy(), color="#1f4e79")
        ax.set_yticks(range(len(counts)))
        ax.set_yticklabels(list(counts.index), fontproperties=fp, fontsize=8)
        ax.set_title(T[lang]["chart_counts"].split("：", 1)[-1].removeprefix("Chart: "), fontproperties=fp, fontsize=10)
        ax.set_xlabel("预警数（条）" if lang == "zh" else "alerts", fontproperties=fp, fontsize=8)
        locator = ax.xaxis.get_major_locator()
        if isinstance(locator, MaxNLocator):  # the default AutoLocator: whole numbers of alerts only
            locator.set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _rows(digest: Digest, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    t = T[lang]
    firing: list[dict[str, Any]] = []
    resolved: list[dict[str, Any]] = []
    for item in sorted(digest.items, key=lambda i: ({"critical": 0, "warning": 1, "info": 2}.get(i.severity, 3),
                                                    i.rule, i.subject)):
        row = {
            "severity": SEVERITY[lang].get(item.severity, item.severity),
            "state": STATE[lang][item.kind],
            "rule": rule_title(item.rule, item.rule_kind, lang, item.title_zh if lang == "zh" else item.title_en),
            "where": region_name(item.region, lang),
            "detail": describe(item.rule_kind, item.value, item.labels, lang) + (
                "" if item.low_n_min is None else t["low_n"].format(n=item.n, min=item.low_n_min)),
            "period": item.period,
        }
        (resolved if item.kind == "resolved" else firing).append(row)
    return firing, resolved


def render_digest(digest: Digest, *, sender: str, now: dt.datetime | None = None,
                  domain: str = "imon.local") -> EmailMessage:
    """The email for ``digest``: text and HTML alternatives, the chart as a related inline image."""
    lang = digest.language
    t = T[lang]
    firing, resolved = _rows(digest, lang)
    group_label = t["leaders"] if digest.group == "leaders" else (
        region_name(digest.group.removeprefix("district-"), lang) if digest.group.startswith("district-")
        else digest.group)
    msg = EmailMessage()
    msg["Subject"] = t["subject"].format(group=group_label, firing=len(firing), resolved=len(resolved),
                                         period=digest.period)
    msg["From"] = sender
    msg["To"] = ", ".join(digest.recipients)
    msg["Date"] = format_datetime((now or dt.datetime.now()).astimezone())
    msg["Message-ID"] = make_msgid(idstring="imon-alerts", domain=domain)
    msg["X-Imon-Group"] = digest.group
    lines = [t["title"], "", t["intro"].format(period=digest.period), ""]
    for heading, rows in ((t["firing"], firing), (t["resolved"], resolved)):
        if rows:
            lines += [heading, "-" * 40]
            lines += [f"[{r['severity']}][{r['state']}] {r['where']} · {r['rule']} · {r['period']}\n    {r['detail']}"
                      for r in rows]
            lines.append("")
    lines += ["--", t["footer"]]
    msg.set_content("\n".join(lines))
    cid = make_msgid(idstring="chart", domain=domain)
    parts = [f"<h2>{html.escape(t['title'])}</h2>", f"<p>{html.escape(t['intro'].format(period=digest.period))}</p>"]
    for heading, rows in ((t["firing"], firing), (t["resolved"], resolved)):
        if not rows:
            continue
        head = "".join(f"<th>{html.escape(t[c])}</th>" for c in
                       ("col_severity", "col_subject", "col_rule", "col_detail", "col_month"))
        body = "".join(
            f"<tr><td style='white-space:nowrap'>{html.escape(r['severity'])} · {html.escape(r['state'])}</td>"
            f"<td style='white-space:nowrap'>{html.escape(r['where'])}</td>"
            f"<td>{html.escape(r['rule'])}</td><td>{html.escape(r['detail'])}</td><td>{html.escape(r['period'])}</td>"
            "</tr>" for r in rows)
        parts.append(f"<h3>{html.escape(heading)}</h3><table border='1' cellpadding='4' cellspacing='0' "
                     f"style='border-collapse:collapse;font-size:13px;width:100%;table-layout:auto'><tr>{head}</tr>"
                     f"{body}</table>")
    # the caption says what the chart shows: the series' trend, or (without series) the alerts by rule
    caption = t["chart"] if digest.charts else t["chart_counts"]
    parts.append(f"<p><img src='cid:{cid[1:-1]}' alt='{html.escape(caption)}' style='max-width:100%'></p>"
                 f"<p style='color:#666'>{html.escape(caption)}</p>")
    parts.append(f"<hr><p style='color:#888;font-size:12px'>{html.escape(t['footer'])}</p>")
    lang_attr = "zh-CN" if lang == "zh" else "en"
    msg.add_alternative(f"<html lang='{lang_attr}'><head><meta charset='utf-8'></head><body>"
                        + "".join(parts) + "</body></html>", subtype="html")
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
    html_part.add_related(chart_png(digest), "image", "png", cid=cid, filename="chart.png")
    return msg
