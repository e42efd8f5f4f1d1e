"""Charts for analysts: each function returns a :class:`matplotlib.figure.Figure`.

No pyplot, no global state: figures are built with :class:`matplotlib.figure.Figure` inside
:func:`matplotlib.rc_context` (Jupyter displays a returned ``Figure``; save one with
``fig.savefig("pmi.png")``).  Chinese labels (``lang="zh"``) use the CJK font the publications use
(:func:`monitor.publish.charts.find_cjk_font`); without one the labels fall back to English with a
:class:`~monitor.exceptions.MonitorWarning`.  matplotlib is imported by these functions, not by
``import monitor``.

>>> import pandas as pd
>>> from monitor import plots
>>> pmi = pd.Series([49.5, 50.2, 51.0], index=pd.period_range("2017-01", periods=3, freq="M"))
>>> fig = plots.pmi_chart(pmi)
>>> type(fig).__name__, fig.axes[0].get_lines()[-1].get_ydata()[0]
('Figure', 50.0)
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["pmi_chart", "fan_chart", "small_multiples", "lamp_heatmap", "LAMP_COLOURS"]

#: Lamp colours by score: 1 blue (过冷), 2 light blue (偏冷), 3 green (正常), 4 yellow (偏热), 5 red (过热).
LAMP_COLOURS = ("#1f4e9c", "#7fb3e6", "#2e9e4f", "#f2c12e", "#d0312d")
_LINE = "#c0392b"
_BAND = "#1f4e79"


def _font_family(lang: str) -> tuple[str, list[str]]:
    """The language to label in and the font families to use."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh'; got {lang!r}")
    if lang == "en":
        return "en", ["DejaVu Sans"]
    from .publish.charts import find_cjk_font

    family = find_cjk_font()
    if family is None:
        from .exceptions import MonitorWarning

        warnings.warn("no CJK font is installed (Debian: fonts-noto-cjk); labelling the chart in English",
                      MonitorWarning, stacklevel=3)
        return "en", ["DejaVu Sans"]
    return "zh", [family, "DejaVu Sans"]


@contextlib.contextmanager
def _style(lang: str) -> Iterator[str]:
    import matplotlib

    used, families = _font_family(lang)
    # concrete family names (not "sans-serif"): text objects keep them, so drawing later, outside this
    # context (Jupyter renders after the call returns), still uses the CJK face
    with matplotlib.rc_context({"font.family": families, "font.sans-serif": families,
                                "axes.unicode_minus": False, "font.size": 9, "axes.titlesize": 10}):
        yield used


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _as_series(data: pd.Series | pd.DataFrame, column: str) -> pd.Series:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if column not in data:
            raise ValueError(f"the frame has no column {column!r}; it has {list(data.columns)}")
        data = data[column]
    return data.astype(float)


def _x(index: Any) -> Any:
    import pandas as pd

    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def _tidy(ax: Any) -> None:
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def pmi_chart(data: pd.Series | pd.DataFrame, *, column: str = "value", se: pd.Series | None = None,
              level: float = 0.95, title: str | None = None, lang: str = "en", threshold: float = 50.0,
              width: float = 8.0, height: float = 3.2) -> Figure:
    """A diffusion index over time with the 50 line and, where standard errors exist, its interval.

    Parameters
    ----------
    data
        A series, or a frame of :meth:`monitor.api.AnalystStore.series` (``column`` is plotted and its
        ``se`` column gives the band).
    column
        Column of ``data`` to plot (``value``, ``sa`` or ``raw``).
    se
        Standard errors (default ``data["se"]`` when ``data`` is a frame).
    level
        Coverage of the band (normal approximation): 0.95 is +-1.96 SE.
    title, lang
        Title (default the series name) and label language (``en`` or ``zh``).
    threshold
        The no-change line (50 for diffusion indices; None for none).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from statistics import NormalDist

    import pandas as pd

    values = _as_series(data, column)
    if se is None and isinstance(data, pd.DataFrame) and "se" in data:
        se = data["se"].astype(float)
    with _style(lang) as used:
        fig = _figure(width, height)
        ax = fig.add_subplot(1, 1, 1)
        x = _x(values.index)
        if se is not None and se.notna().any():
            z = NormalDist().inv_cdf(0.5 + level / 2)
            s = se.reindex(values.index)
            ax.fill_between(x, values - z * s, values + z * s, color=_BAND, alpha=0.18, linewidth=0,
                            label=(f"{level:.0%} 置信区间" if used == "zh" else f"{level:.0%} interval"))
        ax.plot(x, values.to_numpy(), color=_LINE, linewidth=1.5, label=column)
        if threshold is not None:
            ax.axhline(threshold, color="#555555", linewidth=0.9, linestyle="--",
                       label=("临界点 50" if used == "zh" else "50 = no change") if threshold == 50 else None)
        ax.set_title(title if title is not None else str(values.name or "PMI"))
        ax.set_ylabel("%")
        ax.legend(loc="best", frameon=False, fontsize=8)
        _tidy(ax)
    return fig


def fan_chart(history: pd.Series, forecast: Any, *, history_months: int | None = 60, title: str | None = None,
              lang: str = "en", threshold: float | None = None, width: float = 8.0, height: float = 3.2) -> Figure:
    """History and forecast with 80 % and 95 % bands.

    Parameters
    ----------
    history
        The observed series (monthly ``PeriodIndex``).
    forecast
        A frame of :meth:`monitor.api.AnalystStore.forecasts` (one series, one origin and model:
        ``period, mean, lower_80, upper_80, lower_95, upper_95``), or a
        :class:`forecasting.ForecastResult`.
    history_months
        Months of history shown (None: all).
    threshold
        A reference line (50 for a diffusion index).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    if hasattr(forecast, "frame") and hasattr(forecast, "lower"):  # forecasting.ForecastResult
        frame = pd.DataFrame({"mean": forecast.mean})
        for lv in forecast.level:
            frame[f"lower_{lv:g}"] = forecast.lower(lv)
            frame[f"upper_{lv:g}"] = forecast.upper(lv)
    else:
        frame = forecast.copy()
        if "period" in frame:
            if "model" in frame and frame["model"].nunique() > 1:
                raise ValueError("the forecast frame holds several models; select one (store.forecasts(model=...))")
            frame = frame.set_index("period")
    hist = history.astype(float)
    if history_months is not None:
        hist = hist.iloc[-history_months:]
    with _style(lang) as used:
        fig = _figure(width, height)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(_x(hist.index), hist.to_numpy(), color="black", linewidth=1.2,
                label="实际" if used == "zh" else "observed")
        x = _x(frame.index)
        for lv, alpha in (("95", 0.15), ("80", 0.3)):
            lo, hi = f"lower_{lv}", f"upper_{lv}"
            if lo in frame and hi in frame:
                ax.fill_between(x, frame[lo].astype(float), frame[hi].astype(float), color=_BAND, alpha=alpha,
                                linewidth=0, label=f"{lv} %")
        ax.plot(x, frame["mean"].astype(float).to_numpy(), color=_BAND, linewidth=1.6,
                label="预测" if used == "zh" else "forecast")
        if threshold is not None:
            ax.axhline(threshold, color="#555555", linewidth=0.9, linestyle="--")
        ax.set_title(title if title is not None else str(history.name or ""))
        ax.legend(loc="best", frameon=False, fontsize=8)
        _tidy(ax)
    return fig


def small_multiples(frame: pd.DataFrame, *, ncols: int = 4, threshold: float | None = 50.0,
                    names: Mapping[str, str] | None = None, lang: str = "en", title: str | None = None,
                    panel_width: float = 2.6, panel_height: float = 1.8) -> Figure:
    """One small panel per column (districts, sizes...) on a shared y axis.

    Parameters
    ----------
    frame
        Monthly ``PeriodIndex``, one column per series (e.g. ``store.series("pmi/headline/district/*",
        field="value")``).
    ncols
        Panels per row.
    threshold
        Reference line in every panel (None for none).
    names
        Panel titles by column; default: district names for keys ending in ``/district/<code>``, else the
        last path segment.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import math

    import matplotlib.dates as mdates

    if frame.shape[1] == 0:
        raise ValueError("the frame has no columns to plot")
    with _style(lang) as used:
        from .publish.common import district_name

        def label(col: str) -> str:
            if names and col in names:
                return names[col]
            parts = str(col).split("/")
            if len(parts) >= 2 and parts[-2] == "district":
                return district_name(parts[-1], used)
            return parts[-1]

        n = frame.shape[1]
        cols = max(1, min(ncols, n))
        rows = math.ceil(n / cols)
        fig = _figure(panel_width * cols, panel_height * rows)
        axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel()
        x = _x(frame.index)
        for ax, col in zip(axes, frame.columns, strict=False):
            ax.plot(x, frame[col].astype(float).to_numpy(), color=_LINE, linewidth=1.0)
            if threshold is not None:
                ax.axhline(threshold, color="#555555", linewidth=0.7, linestyle="--")
            ax.set_title(label(col), fontsize=8)
            ax.tick_params(labelsize=7)
            if hasattr(x, "year"):
                locator = mdates.AutoDateLocator(maxticks=4)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            _tidy(ax)
        for ax in axes[n:]:
            ax.set_visible(False)
        if title:
            fig.suptitle(title)
    return fig


def lamp_heatmap(lamps: pd.DataFrame, *, months: int | None = 36, lang: str = "en", title: str | None = None,
                 width: float = 9.0) -> Figure:
    """The signal lamps as a heat map: indicators down, months across, coloured blue ... red.

    Parameters
    ----------
    lamps
        Monthly ``PeriodIndex``, one column per indicator with lamp scores 1-5 (``store.lamps()``); a
        ``composite`` column (the index W, 33-167) is shown as its colour band.
    months
        Latest months shown (None: all).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    data = lamps.astype(float)
    if months is not None:
        data = data.iloc[-months:]
    if "composite" in data:  # W bands: <= 66.7 blue, <= 83.3 light blue, <= 116.7 green, <= 133.3 yellow
        w = data["composite"]
        edges = [200 / 3, 250 / 3, 350 / 3, 400 / 3]
        score = np.select([w <= edges[0], w <= edges[1], w <= edges[2], w <= edges[3], w > edges[3]],
                          [1, 2, 3, 4, 5], default=np.nan)
        data = data.drop(columns="composite")
        data["composite"] = score
    with _style(lang) as used:
        fig = _figure(width, 0.8 + 0.32 * data.shape[1])
        ax = fig.add_subplot(1, 1, 1)
        cmap = ListedColormap(list(LAMP_COLOURS))
        norm = BoundaryNorm([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], cmap.N)
        ax.imshow(data.T.to_numpy(), aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_yticks(range(data.shape[1]))
        ax.set_yticklabels([str(c) for c in data.columns], fontsize=8)
        step = max(1, len(data) // 12)
        ticks = list(range(0, len(data), step))
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(data.index[i]) for i in ticks], rotation=45, ha="right", fontsize=7)
        ax.set_title(title if title is not None else ("景气信号灯" if used == "zh" else "Signal lamps"))
        from matplotlib.patches import Patch

        labels = (("过冷", "偏冷", "正常", "偏热", "过热") if used == "zh" else
                  ("cold", "cool", "normal", "warm", "hot"))
        ax.legend(handles=[Patch(color=c, label=t) for c, t in zip(LAMP_COLOURS, labels, strict=True)],
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    return fig

