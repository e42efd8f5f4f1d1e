"""Writing X-13ARIMA-SEATS spec files.

:class:`X13Spec` is an ordered ``{spec: {argument: value}}`` mapping rendered to the
spec language; values are written verbatim, so every argument of the reference
manual is reachable.  :func:`build_spec` turns a series, its user regressors and the
options of :class:`~forecasting.seasonal.SeasonalAdjuster` into an ``X13Spec``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ForecastingError

__all__ = ["MISSING_CODE", "X13Options", "X13Spec", "build_spec", "x13_date"]

#: Value written for a missing observation (X-13's default ``missingcode``).
MISSING_CODE = -99999.0
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
X11_TABLES = ("d8", "d10", "d11", "d12", "d13", "d16", "d18")
SEATS_TABLES = ("s10", "s11", "s12", "s13", "s16", "s18")
MODES = {
    "additive": ("none", "add"),
    "multiplicative": ("log", "mult"),
    "log-additive": ("log", "logadd"),
    "auto": ("auto", None),
}


def x13_date(period: pd.Period) -> str:
    """``2006.3`` style date of a monthly period, as X-13 spells ``start`` arguments."""
    return f"{period.year}.{period.month}"


def _outlier_name(period: pd.Period, kind: str) -> str:
    return f"{kind.lower()}{period.year}.{_MONTHS[period.month - 1]}"


def _number(value: float) -> str:
    if np.isnan(value):
        return f"{MISSING_CODE:.0f}"
    return repr(float(value))


def _rows(values: Sequence[str], per_line: int, indent: str = "    ") -> str:
    return "\n".join(indent + " ".join(values[i:i + per_line]) for i in range(0, len(values), per_line))


class X13Spec:
    """An X-13 spec file as an ordered mapping ``{spec name: {argument: value}}``.

    Values are strings written verbatim (``"(ao ls tc)"``, ``"log"``); ``None`` removes an argument.
    A spec with no arguments is written as ``name{ }`` (which switches it on).
    """

    def __init__(self, specs: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._specs: dict[str, dict[str, str]] = {}
        for name, args in (specs or {}).items():
            self.set(name, args)

    def set(self, spec: str, args: Mapping[str, str | None] | None = None) -> X13Spec:
        """Switch ``spec`` on and merge ``args`` into it (a ``None`` value deletes an argument)."""
        target = self._specs.setdefault(spec.lower(), {})
        for key, value in (args or {}).items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = str(value)
        return self

    def drop(self, spec: str) -> X13Spec:
        """Remove a whole spec."""
        self._specs.pop(spec.lower(), None)
        return self

    def __contains__(self, spec: object) -> bool:
        return isinstance(spec, str) and spec.lower() in self._specs

    def __getitem__(self, spec: str) -> dict[str, str]:
        return self._specs[spec.lower()]

    def names(self) -> list[str]:
        """Spec names in the order they are written."""
        return list(self._specs)

    def to_text(self) -> str:
        """The spec file text."""
        blocks = []
        for name, args in self._specs.items():
            if not args:
                blocks.append(f"{name}{{ }}")
                continue
            lines = [f"{name}{{"]
            for key, value in args.items():
                if "\n" in value:
                    lines.append(f"  {key} = (\n{value}\n  )")
                else:
                    lines.append(f"  {key} = {value}")
            lines.append("}")
            blocks.append("\n".join(lines))
        return "\n".join(blocks) + "\n"

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class X13Options:
    """The X-13 part of :class:`~forecasting.seasonal.SeasonalAdjuster` (see its docstring)."""

    mode: str = "additive"
    decomposition: str = "x11"
    arima: str | None = None
    outliers: tuple[str, ...] = ("ao", "ls")
    outlier_critical: float | None = None
    fixed_outliers: tuple[str, ...] = ()
    builtin_regressors: tuple[str, ...] = ()
    aictest: tuple[str, ...] = ()
    seasonalma: str | None = None
    trendma: int | None = None
    forecast_horizon: int = 12
    sliding_spans: bool = False
    history: bool = False
    spec_overrides: Mapping[str, Mapping[str, str | None] | None] = field(default_factory=dict)


def _arima_text(arima: str | Sequence[Sequence[int]]) -> str:
    if isinstance(arima, str):
        return arima
    parts = [tuple(int(v) for v in part) for part in arima]
    if len(parts) != 2 or any(len(p) != 3 for p in parts):
        raise ForecastingError(
            f"arima must be a string like '(0 1 1)(0 1 1)' or ((p, d, q), (P, D, Q)); got {arima!r}."
        )
    return "".join("(" + " ".join(map(str, p)) + ")" for p in parts)


def fixed_outlier_names(items: Iterable[str | tuple[str, pd.Period | str]]) -> tuple[str, ...]:
    """X-13 names (``ao2020.feb``) of user-fixed outliers given as names or ``(type, period)`` pairs."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item.lower())
            continue
        kind, when = item
        if str(kind).lower() not in ("ao", "ls", "tc", "so", "rp", "tl"):
            raise ForecastingError(f"Outlier type must be AO, LS, TC, SO, RP or TL; got {kind!r} in {item!r}.")
        out.append(_outlier_name(pd.Period(when, "M"), str(kind)))
    return tuple(out)


def build_spec(
    series: pd.Series,
    *,
    title: str,
    options: X13Options,
    regressors: pd.DataFrame | None = None,
    usertypes: Sequence[str] = (),
    decompose: bool = True,
) -> X13Spec:
    """The spec for one series.

    Parameters
    ----------
    series
        Monthly series (PeriodIndex), NaN for missing values (written as ``-99999``).
    title
        Series title (quotes are dropped; X-13 truncates at 79 characters).
    options
        Model options.
    regressors
        User regressors covering the series span plus ``options.forecast_horizon`` months.
    usertypes
        X-13 ``usertype`` per regressor column.
    decompose
        ``False`` writes a regARIMA-only spec (used to estimate missing values).
    """
    if options.mode not in MODES:
        raise ForecastingError(f"mode must be one of {tuple(MODES)}; got {options.mode!r}.")
    if options.decomposition not in ("x11", "seats"):
        raise ForecastingError(f"decomposition must be 'x11' or 'seats'; got {options.decomposition!r}.")
    start = series.index[0]
    values = [_number(v) for v in series.to_numpy(dtype=float)]
    spec = X13Spec()
    series_args = {
        "title": '"' + title.replace('"', "").replace("'", "")[:79] + '"',
        "start": x13_date(start),
        "period": "12",
        "data": _rows(values, 6),
    }
    if series.isna().any():
        series_args["missingcode"] = f"{MISSING_CODE:.0f}"
        series_args["save"] = "(mv)"
    spec.set("series", series_args)
    function, x11_mode = MODES[options.mode]
    spec.set("transform", {"function": function})

    reg: dict[str, str] = {}
    variables = list(options.builtin_regressors) + list(options.fixed_outliers)
    if variables:
        reg["variables"] = "(" + " ".join(variables) + ")"
    if options.aictest:
        reg["aictest"] = "(" + " ".join(options.aictest) + ")"
    if regressors is not None and regressors.shape[1]:
        if len(usertypes) != regressors.shape[1]:
            raise ForecastingError(f"need one usertype per regressor; got {list(usertypes)} for {list(regressors)}.")
        needed = pd.period_range(start, series.index[-1] + options.forecast_horizon, freq="M")
        missing = needed.difference(regressors.index)
        if len(missing) or regressors.reindex(needed).isna().any().any():
            raise ForecastingError(
                f"user regressors must cover {needed[0]}..{needed[-1]} (the series plus {options.forecast_horizon} "
                f"forecast months) without gaps; columns {list(regressors)} do not."
            )
        block = regressors.loc[needed[0]:]  # extra months beyond the horizon are harmless (X-13 may need them)
        block = block.loc[: block.index[block.notna().all(axis=1)][-1]]
        reg["user"] = "(" + " ".join(block.columns) + ")"
        reg["usertype"] = "(" + " ".join(usertypes) + ")"
        reg["start"] = x13_date(needed[0])
        reg["data"] = _rows([_number(v) for v in block.to_numpy(dtype=float).ravel()], block.shape[1])
    if reg:
        reg["save"] = "(hol td otl ao ls tc)"
        spec.set("regression", reg)
    if options.arima:
        spec.set("arima", {"model": _arima_text(options.arima)})
    else:
        spec.set("automdl", {})
    if options.outliers:
        out = {"types": "(" + " ".join(t.lower() for t in options.outliers) + ")"}
        if options.outlier_critical is not None:
            out["critical"] = f"{float(options.outlier_critical):g}"
        spec.set("outlier", out)
    spec.set("forecast", {"maxlead": str(int(options.forecast_horizon)), "save": "(fct)"})
    if decompose:
        if options.decomposition == "x11":
            x11: dict[str, str] = {"save": "(" + " ".join(X11_TABLES) + ")"}
            if x11_mode:
                x11["mode"] = x11_mode
            if options.seasonalma:
                x11["seasonalma"] = options.seasonalma
            if options.trendma:
                x11["trendma"] = str(int(options.trendma))
            spec.set("x11", x11)
        else:
            spec.set("seats", {"save": "(" + " ".join(SEATS_TABLES) + ")"})
        if options.sliding_spans:
            spec.set("slidingspans", {})
        if options.history:
            spec.set("history", {"estimates": "(sadj)"})
    for name, args in options.spec_overrides.items():
        if args is None:
            spec.drop(name)
        else:
            spec.set(name, args)
    return spec
