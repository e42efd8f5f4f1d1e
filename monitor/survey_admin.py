"""Running the monthly survey: questionnaires out, who has answered, who to remind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from collectors.survey_template import write_survey_workbook

from .exceptions import MonitorError
from .periods import month_text
from .store import Store
from .store import survey as survey_q

__all__ = ["panel_for_period", "write_templates", "SurveyStatus", "survey_status", "headline_respondents"]


class SurveyError(MonitorError, LookupError):
    """An enterprise or month the survey does not know."""


def panel_for_period(store: Store, period: pd.Period, *, lang: str = "zh") -> pd.DataFrame:
    """Enterprises in the sample for ``period`` with their district, division and size names."""
    return survey_q.sample_panel(store, month_text(period), lang=lang)


def write_templates(store: Store, period: pd.Period, out_dir: Path, *, enterprise: str | None = None,
                    progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write a blank questionnaire for one enterprise (credit code) or every sample enterprise of ``period``.

    ``progress`` (optional) is called with "N/TOTAL credit-code" as each workbook is written.

    Raises
    ------
    SurveyError
        ``enterprise`` is not in the sample for ``period``, or the sample is empty.
    """
    panel = panel_for_period(store, period)
    if enterprise is not None:
        panel = panel[panel["uscc"] == enterprise.strip().upper()]
        if panel.empty:
            raise SurveyError(f"enterprise {enterprise!r} is not in the sample for {period}; check the credit code "
                              "(`imon survey status --period ...` lists the sample)")
    if panel.empty:
        raise SurveyError(f"no enterprise is in the sample for {period}; load the register or pick another month")
    out_dir.mkdir(parents=True, exist_ok=True)
    key = month_text(period)
    paths = []
    for i, r in enumerate(panel.itertuples(), start=1):
        paths.append(write_survey_workbook(out_dir / f"{key}_{r.uscc}.xlsx", uscc=r.uscc, name=r.name, period=key))
        if progress is not None:
            progress(f"{i}/{len(panel)} {r.uscc}")
    return paths


@dataclass
class SurveyStatus:
    """Response to one month's survey: rates by breakdown and the enterprises still missing."""

    period: str
    by_district: pd.DataFrame
    by_industry: pd.DataFrame
    by_size: pd.DataFrame
    missing: pd.DataFrame
    sample: int
    responded: int
    #: Respondents the PMI headline counts (:func:`headline_respondents`): the release's "valid returns".
    in_headline: int = 0
    #: Returns that lack an answer to one of the headline's five components.
    incomplete: int = 0
    #: ``n`` of the stored city headline for the month (None when not computed yet).
    stored_headline: int | None = None


def headline_respondents(panel_ids: set[int], answered: pd.DataFrame) -> tuple[int, int]:
    """The respondents the PMI headline counts, defined as the compute stage does: for each of the five
    component questions the sample enterprises that answered it, and the smallest of those five counts (the city
    headline's ``n``, which the release prints as the valid returns).  Returns that count and the number of
    returns missing at least one component's answer.

    Parameters
    ----------
    panel_ids
        The month's sample (enterprise ids).
    answered
        ``question, enterprise_id`` pairs answered (:func:`monitor.store.survey.answers_by_question`).
    """
    from .reference import HEADLINE_WEIGHTS

    by_q = {q: set(g["enterprise_id"]) & panel_ids for q, g in answered.groupby("question")} if len(answered) else {}
    counts = [len(by_q.get(q, set())) for q in HEADLINE_WEIGHTS]
    returned = set(answered["enterprise_id"]) & panel_ids if len(answered) else set()
    complete = set.intersection(*(by_q.get(q, set()) for q in HEADLINE_WEIGHTS)) if HEADLINE_WEIGHTS else returned
    return (min(counts) if counts else 0), len(returned - complete)


def survey_status(store: Store, period: pd.Period, *, lang: str = "zh") -> SurveyStatus:
    """Response rates by district, division and size for ``period``, and who has not answered."""
    key = month_text(period)
    panel = panel_for_period(store, period, lang=lang)
    answered = survey_q.answered_enterprises(store, key)
    panel["responded"] = panel["enterprise_id"].isin(set(answered["enterprise_id"]))

    def by(col: str, order: str | None = None) -> pd.DataFrame:
        g = panel.groupby(col).agg(sample=("enterprise_id", "count"), responded=("responded", "sum"))
        g["rate"] = g["responded"] / g["sample"]
        if order:
            g = g.join(panel.groupby(col)[order].first()).sort_values(order).drop(columns=order)
        else:
            g = g.sort_values("sample", ascending=False)
        return g.reset_index()

    missing = panel.loc[~panel["responded"], ["uscc", "name", "district", "industry", "size"]].reset_index(drop=True)
    in_headline, incomplete = headline_respondents(set(panel["enterprise_id"]), survey_q.answers_by_question(store, key))
    return SurveyStatus(key, by("district"), by("industry"), by("size", "size_rank"), missing, len(panel),
                        int(panel["responded"].sum()), in_headline, incomplete,
                        survey_q.stored_count(store, "pmi/headline", key))
