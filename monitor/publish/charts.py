"""Charts of the publications: matplotlib figures rendered to deterministic PNG bytes.

No global state is touched: figures are :class:`matplotlib.figure.Figure` objects drawn on the Agg canvas
inside :func:`matplotlib.rc_context`, never through ``pyplot`` (no ``matplotlib.use``, no global rcParams).
PNG files carry no date or software metadata, so the same data give the same bytes.

Chinese labels need a CJK font.  :func:`find_cjk_font` looks for one among the fonts matplotlib knows
(Debian's ``fonts-noto-cjk`` gives Noto Sans CJK SC; ``make`` and ``.ci/run`` install it).  Without one
the charts are labelled in English and the publication says so (:data:`NO_CJK_NOTE`), so no glyph is
ever drawn as a box.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["ChartFont", "find_cjk_font", "line_chart", "bar_chart", "png_data_uri", "NO_CJK_NOTE", "CJK_FAMILIES"]

#: Font families tried in order for Chinese text.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN", "SimHei",
                "Microsoft YaHei")

NO_CJK_NOTE = {
    "zh": "注：本机未安装中文字体（例如 Debian 软件包 fonts-noto-cjk），图中文字以英文标注。",
    "en": "Note: no Chinese (CJK) font is installed (e.g. the Debian package fonts-noto-cjk); chart labels are "
          "in English.",
}

_COLOURS = ("#c0392b", "#1f4e79", "#7f8c8d", "#d68910", "#148f77", "#6c3483")


@dataclass(frozen=True)
class ChartFont:
    """The font family used in charts and whether it can draw Chinese."""

    family: str
    cjk: bool


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The first installed family of :data:`CJK_FAMILIES`, or None."""
    from ..fonts import installed_fonts

    installed = {f.name for f in installed_fonts()}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    return None


def chart_font(lang: str, *, allow_cjk: bool = True) -> ChartFont:
    """The font to use for a publication in ``lang``; ``allow_cjk=False`` simulates a machine without one."""
    family = find_cjk_font() if allow_cjk else None
    if family is None:
        return ChartFont("DejaVu Sans", False)
    return ChartFont(family, True)


def _rc(font: ChartFont) -> dict[RcKeyType, Any]:
    families = [font.family, "DejaVu Sans"] if font.cjk else ["DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False,
            "svg.hashsalt": "imon", "font.size": 9, "axes.titlesize": 10, "path.simplify": False}


def _png(fig: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # type: ignore[arg-type]
    buf = io.BytesIO()
    canvas.print_png(buf, metadata={"Software": None})
    return buf.getvalue()


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for embedding in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, font: ChartFont,
               title: str = "", ylabel: str = "", threshold: float | None = None, threshold_label: str = "",
               band: tuple[Sequence[float], Sequence[float]] | None = None, width: float = 7.2,
               height: float = 3.0, dpi: int = 150) -> bytes:
    """A line chart of one or more series over ``labels`` (months), with an optional 50 line and band.

    Returns
    -------
    bytes
        PNG bytes (deterministic for the same inputs).
    """
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc(font)):
        fig = Figure(figsize=(width, height), dpi=dpi)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(labels)))
        every: list[float] = []
        for i, (name, values) in enumerate(series):
            ys = [float("nan") if v is None else float(v) for v in values]
            ax.plot(x, ys, marker="o", markersize=3, linewidth=1.6, color=_COLOURS[i % len(_COLOURS)], label=name)
            every += _finite(ys)
        if band is not None:
            lo = [float("nan") if v is None else float(v) for v in band[0]]
            hi = [float("nan") if v is None else float(v) for v in band[1]]
            ax.fill_between(x, lo, hi, color=_COLOURS[1], alpha=0.15, linewidth=0)
            every += _finite(lo) + _finite(hi)
        if threshold is not None:
            ax.axhline(threshold, color="#555555", linewidth=0.9, linestyle="--", label=threshold_label or None)
            every.append(threshold)
        if every:
            lo_v, hi_v = min(every), max(every)
            pad = max(0.5, (hi_v - lo_v) * 0.12)
            ax.set_ylim(lo_v - pad, hi_v + pad)
        step = max(1, math.ceil(len(labels) / 13))
        ax.set_xticks(x[::step])
        ax.set_xticklabels([labels[i] for i in x[::step]], rotation=45, ha="right")
        ax.set_xlim(-0.5, len(labels) - 0.5)
        if title:
            ax.set_title(title)
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if len(series) > 1 or threshold_label:
            ax.legend(loc="best", frameon=False, fontsize=8)
        fig.tight_layout()
        return _png(fig)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, font: ChartFont, title: str = "",
              reference: float | None = None, reference_label: str = "", width: float = 7.2, height: float = 3.0,
              dpi: int = 150) -> bytes:
    """A horizontal bar chart (districts, sectors), negative bars in blue, positive in red, with a reference line."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc(font)):
        fig = Figure(figsize=(width, height), dpi=dpi)
        ax = fig.add_subplot(1, 1, 1)
        ys = list(range(len(labels)))[::-1]
        vals = [0.0 if v is None or math.isnan(v) else float(v) for v in values]
        base = reference if reference is not None else 0.0
        colours = [_COLOURS[0] if v >= base else _COLOURS[1] for v in vals]
        ax.barh(ys, [v - base for v in vals], left=base, color=colours, height=0.6)
        ax.set_yticks(ys)
        ax.set_yticklabels(list(labels))
        if reference is not None:
            ax.axvline(reference, color="#555555", linewidth=0.9, linestyle="--", label=reference_label or None)
            if reference_label:
                ax.legend(loc="lower right", frameon=False, fontsize=8)
        finite = _finite(vals) + [base]
        pad = max(0.5, (max(finite) - min(finite)) * 0.1)
        ax.set_xlim(min(finite) - pad, max(finite) + pad)
        if title:
            ax.set_title(title)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        return _png(fig)
