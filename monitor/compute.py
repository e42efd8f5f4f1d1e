"""``imon compute``: the month's indices and indicators from the store, into ``series_value``.

Thin over :mod:`monitor.indicators` (pure functions): this module reads what
they need from the store, calls them, and writes the results as vintages
(:func:`monitor.results.write_series`: only changed values make a new vintage).

Series written (DESIGN.md "Names"): ``pmi/<question>[/<breakdown>/<code>]`` and
``pmi/headline[...]`` (diffusion indices and the composite, raw, with standard
errors and respondent counts), ``balance/<question>[...]`` (P - N),
``pmi_change/<question>[...]`` (month-on-month change with its matched-panel
standard error), ``response_rate[/<breakdown>/<code>]``,
``problems/<problem>[...]`` and, when the monitoring indicators are available,
``electricity/...``, ``status/...``, ``inventory/...``, ``costs/...`` and
``lamps/...``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .indicators import composite_pmi, diffusion_indices, problem_shares, respondent_weights, series_rows
from .periods import month_text
from .results import write_series
from .settings import Settings
from .store import Store
from .store import survey as survey_q
from .store.vintages import as_vintage, new_vintage

__all__ = ["ComputeReport", "compute_range", "load_survey_inputs", "size_trim", "survey_series", "survey_weights"]

log = logging.getLogger(__name__)


@dataclass
class ComputeReport:
    """What a compute run did."""

    first: str
    last: str
    written: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    vintage: dt.datetime | None = None  # the run's vintage (one for every family it wrote)

    @property
    def total(self) -> int:
        return sum(self.written.values())


def load_survey_inputs(store: Store, first: str, last: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Enterprises, answers and problem ticks for months ``first``..``last`` (text ``YYYY-MM``)."""
    enterprises = survey_q.enterprise_records(store, ["id", "district_code", "industry_code", "size_class",
                                                      "employees", "revenue", "sample_weight", "panel_start",
                                                      "panel_end"])
    return enterprises, survey_q.survey_answers(store, first, last), survey_q.survey_problems(store, first, last)


def survey_series(enterprises: pd.DataFrame, responses: pd.DataFrame, problems: pd.DataFrame, periods: list[str], *,
                  weighting: str, min_respondents: int, trim: float | None = 3.0,
                  breakdowns: Sequence[str] = ("city", "district", "size", "industry", "key_sector"),
                  workers: int | None = 1, engine: Any = None) -> pd.DataFrame:
    """All survey series rows (``series_key, period, raw, se, n``) for ``periods`` (``workers``: processes,
    ``None`` every core; ``engine``: a Dask engine for the diffusion indices' month batches)."""
    di = diffusion_indices(responses, enterprises, periods=periods, weighting=weighting,  # type: ignore[arg-type]
                           min_respondents=min_respondents, breakdowns=breakdowns, trim=trim,  # type: ignore[arg-type]
                           workers=workers, engine=engine)
    pmi = composite_pmi(di)
    frames = [series_rows(di), series_rows(pmi)]
    tail = np.where(di["breakdown"].astype(str) == "city", "",
                    "/" + di["breakdown"].astype(str) + "/" + di["code"].astype(str))
    period = di["period"].astype(str).str[:7]
    frames.append(pd.DataFrame({"series_key": "balance/" + di["question"].astype(str) + tail, "period": period,
                                "raw": di["balance"].to_numpy(float), "se": 2 * di["se"].to_numpy(float),
                                "n": di["n_respondents"].astype("Int64").to_numpy()}))
    if "change" in di:
        frames.append(pd.DataFrame({"series_key": "pmi_change/" + di["question"].astype(str) + tail,
                                    "period": period, "raw": di["change"].to_numpy(float),
                                    "se": di["se_change"].to_numpy(float),
                                    "n": di["n_respondents"].astype("Int64").to_numpy()}))
    rate = di.drop_duplicates(["period", "breakdown", "code"])
    rtail = np.where(rate["breakdown"].astype(str) == "city", "",
                     "/" + rate["breakdown"].astype(str) + "/" + rate["code"].astype(str))
    frames.append(pd.DataFrame({"series_key": "response_rate" + rtail, "period": rate["period"].astype(str).str[:7],
                                "raw": 100 * rate["response_rate"].to_numpy(float), "se": np.nan,
                                "n": rate["n_sample"].astype("Int64").to_numpy()}))
    if len(problems):
        shares = problem_shares(problems, responses, enterprises, periods=periods,  # type: ignore[arg-type]
                                weighting=weighting, min_respondents=min_respondents,
                                breakdowns=breakdowns, trim=trim, workers=workers)  # type: ignore[arg-type]
        frames.append(series_rows(shares))
    out = pd.concat(frames, ignore_index=True)
    return out[out["raw"].notna()].reset_index(drop=True)


def size_trim(settings: Settings) -> float | None:
    """The weight-trimming factor of ``compute.size_trim`` (``None`` when it is 0: no trimming)."""
    value = float(settings["compute.size_trim"])
    return value if value > 0 else None


def _months(first: pd.Period, last: pd.Period) -> list[str]:
    return [month_text(p) for p in pd.period_range(first, last, freq="M")]


def compute_range(store: Store, settings: Settings, first: pd.Period, last: pd.Period, *,
                  vintage: dt.datetime | dt.date | None = None,
                  families: Sequence[str] = ("survey", "monitoring")) -> ComputeReport:
    """Compute every indicator family for the months ``first``..``last`` and store them.

    The run is one vintage (``vintage``, default a new one: its UTC timestamp), whatever it writes.
    One family failing is recorded in the report and does not stop the others.
    """
    months = _months(first, last)
    report = ComputeReport(months[0], months[-1], vintage=new_vintage() if vintage is None else as_vintage(vintage))
    vintage = report.vintage
    prev = month_text(first - 13)
    for family in families:
        t0 = time.perf_counter()
        try:
            if family == "survey":
                ent, resp, probs = load_survey_inputs(store, prev, months[-1])
                with contextlib.ExitStack() as stack:
                    engine = None
                    if settings["compute.engine"] == "dask":  # the month batches on the cluster's workers
                        from .engine import open_engine

                        engine = stack.enter_context(open_engine(settings))
                    rows = survey_series(ent, resp, probs, months, weighting=settings["compute.weighting"],
                                         min_respondents=settings["compute.min_respondents"],
                                         trim=size_trim(settings),
                                         breakdowns=settings["compute.breakdowns"].split(","),
                                         workers=settings["compute.workers"] or None, engine=engine)
            else:
                from .compute_monitoring import monitoring_series

                rows = monitoring_series(store, settings, months)
            rows = rows[rows["period"].isin(months)]
            with store.begin() as conn:
                report.written[family] = write_series(conn, rows, vintage=vintage, columns=("raw", "se", "n"))
        except Exception as exc:
            log.exception("compute %s failed for %s..%s", family, months[0], months[-1])
            report.failed[family] = f"{type(exc).__name__}: {exc}"
        report.seconds[family] = time.perf_counter() - t0
    return report


def survey_weights(store: Store, settings: Settings, period: str, *, weighting: str | None = None) -> pd.DataFrame:
    """Every answer of the month's respondents with the weight the index computation gives it
    (:func:`monitor.indicators.survey.respondent_weights` with ``compute.weighting`` unless ``weighting`` is given,
    trimmed at ``compute.size_trim``); empty when no answer of ``period`` is stored."""
    enterprises, responses, _ = load_survey_inputs(store, period, period)
    if responses.empty:
        return responses
    return respondent_weights(responses, enterprises, periods=[period],
                              weighting=weighting or settings["compute.weighting"], trim=size_trim(settings))
