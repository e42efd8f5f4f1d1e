"""Server-rendered SVG charts of the dashboard (matplotlib's object API, no pyplot state), with Chinese labels in
the installed CJK font (Debian ``fonts-noto-cjk``; English labels when none is installed) and text drawn as paths,
so every browser shows the same glyphs.  Each chart is drawn from the dictionary of
:func:`monitor.web.dashdata.chart_series`, whose numbers the pages also offer as a table and a CSV download."""

from __future__ import annotations

import io
import math
import threading
from typing import TYPE_CHECKING, Any

from ..publish import find_cjk_font
from .dash_texts import dtext

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["svg_chart", "png_chart"]

_RED, _BLUE, _GREY = "#c0392b", "#1f4e79", "#7f8c8d"
#: matplotlib's rcParams are process-wide: the server's threads draw one chart at a time, or one thread's
#: rc_context could end while another draws (and its Chinese labels would lose their font).
_DRAWING = threading.Lock()


def _rc(lang: str) -> dict[RcKeyType, Any]:
    family = find_cjk_font()
    fams = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": fams, "axes.unicode_minus": False,
            "svg.fonttype": "path", "svg.hashsalt": "imon-dash", "font.size": 10, "axes.titlesize": 11}


def _nums(rows: list[dict[str, Any]], field: str) -> list[float]:
    return [math.nan if r.get(field) is None else float(r[field]) for r in rows]


def _figure(data: dict[str, Any], lang: str) -> Any:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc(lang)):
        fig = Figure(figsize=(7.2, 3.2), dpi=100, layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.set_title(data.get("title", ""), loc="left")
        rows = data.get("rows", [])
        if data.get("kind") == "bars":
            labels = [r["label"] for r in rows]
            values = [math.nan if r["value"] is None else float(r["value"]) for r in rows]
            ref = data.get("reference")
            colours = [_RED if ref is not None and v >= ref else _BLUE for v in values]
            ax.bar(range(len(values)), values, color=colours)
            ax.set_xticks(range(len(values)), labels, rotation=30, ha="right")
            finite = [v for v in values if not math.isnan(v)]
            if finite:
                low, high = min(finite + ([ref] if ref is not None else [])), max(finite + ([ref] if ref else []))
                ax.set_ylim(low - 2, high + 2)
            for i, v in enumerate(values):
                ax.text(i, v if not math.isnan(v) else (ax.get_ylim()[0]), "—" if math.isnan(v) else f"{v:.1f}",
                        ha="center", va="bottom", fontsize=8, clip_on=True)
            if ref is not None:
                ax.axhline(ref, color=_RED, linewidth=0.9, linestyle="-.")
        else:
            labels = [r["period"] for r in rows]
            x = list(range(len(labels)))
            if rows and any(r.get("lower_95") is not None for r in rows):
                ax.fill_between(x, _nums(rows, "lower_95"), _nums(rows, "upper_95"), color=_BLUE, alpha=0.12,
                                linewidth=0, label="95 %")
            if rows and any(r.get("raw") is not None and r.get("raw") != r.get("value") for r in rows):
                ax.plot(x, _nums(rows, "raw"), color=_GREY, linewidth=1, linestyle=":",
                        label=dtext(lang, "lbl_unadjusted"))
            ax.plot(x, _nums(rows, "value"), color=_BLUE, linewidth=1.8,
                    label=dtext(lang, "lbl_adjusted"))
            fc = data.get("forecast") or []
            if fc:
                fx = list(range(len(labels), len(labels) + len(fc)))
                labels = labels + [r["period"] for r in fc]
                ax.fill_between(fx, _nums(fc, "lower_95"), _nums(fc, "upper_95"), color=_RED, alpha=0.10,
                                linewidth=0, label=dtext(lang, "lbl_fc95"))
                ax.fill_between(fx, _nums(fc, "lower_80"), _nums(fc, "upper_80"), color=_RED, alpha=0.22,
                                linewidth=0, label=dtext(lang, "lbl_fc80"))
                ax.plot(fx, _nums(fc, "mean"), color=_RED, linewidth=1.6, linestyle="--",
                        label=dtext(lang, "lbl_forecast"))
            step = max(1, len(labels) // 8)
            ax.set_xticks(list(range(0, len(labels), step)), labels[::step], rotation=0)
            ref = data.get("reference")
            if ref is not None:
                ax.axhline(ref, color=_RED if ref == 50.0 else _GREY, linewidth=0.9, linestyle="-.")
                ax.annotate(f"{ref:g}", xy=(0, ref), xycoords=("axes fraction", "data"), fontsize=8, color=_RED,
                            xytext=(2, 2), textcoords="offset points")
            ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=4)
            if not rows:
                ax.text(0.5, 0.5, dtext(lang, "no_data"), transform=ax.transAxes, ha="center")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, _rc(lang)


def svg_chart(data: dict[str, Any], lang: str) -> bytes:
    """The chart as SVG bytes (text as paths)."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.BytesIO()
    with _DRAWING:
        fig, rc = _figure(data, lang)
        with matplotlib.rc_context(rc):
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def png_chart(data: dict[str, Any], lang: str) -> bytes:
    """The chart as PNG bytes (for chat-robot links: clients preview PNG, not SVG)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    with _DRAWING:
        fig, rc = _figure(data, lang)
        with matplotlib.rc_context(rc):
            FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})
    return buf.getvalue()
